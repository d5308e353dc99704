#!/usr/bin/env bash
# A bounded schemathesis fuzz run (--checks all) against the real services' OpenAPI
# documents: token-service's /openapi.json (Basic credentials of a generated client) and
# admin-service's /openapi.json (Authorization: Bearer <root token>, from an auth hook in
# schemathesis_hooks.py that fetches a new root token when the fuzzer has revoked the old
# one). Any failed check, including any 5xx, fails the run.
#
# Self-contained: it starts its own token-service + admin-service pair (fresh database,
# private Redis prefix; tests/interop/lib.sh) and stops them at exit, so that the
# brute-force limiter, which fuzzing would trip within seconds, can be raised for this pair
# only (AUTH_FAILURES_PER_CLIENT/ADDRESS=100000), and so that nothing it creates, deletes or
# revokes touches the library tests. Run it through `scripts/interop schemathesis` or on
# its own.
#
# Bounds (environment):
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per API operation and phase  [50]
#   SCHEMATHESIS_SEED          random seed, for reproducible runs      [20261130]
#   SCHEMATHESIS_TIMEOUT       hard limit for each service's run, in s [240]
#   SCHEMATHESIS_WORKERS       concurrent workers                      [1]
#                              (with 2, Hypothesis' lambda-source cache races between
#                              threads now and then: "Inconsistent results", a harness
#                              error and not a finding; one worker keeps CI deterministic)
# INTEROP_COUNTS_FILE, when set, receives "PASSED FAILED SKIPPED" (one test case per API
# operation) for scripts/interop's summary.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/interop/lib.sh
. "$here/lib.sh"

max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-50}"
seed="${SCHEMATHESIS_SEED:-20261130}"
hard_timeout="${SCHEMATHESIS_TIMEOUT:-240}"
workers="${SCHEMATHESIS_WORKERS:-1}"

interop_init
interop_require_python
interop_require_services
interop_setup_venv
python="$interop_venv/bin/python"
schemathesis="$interop_venv/bin/schemathesis"
[ -x "$schemathesis" ] || interop_die "$schemathesis is missing: remove $interop_venv and retry"
interop_require_command timeout "coreutils"

interop_start fuzz AUTH_FAILURES_PER_CLIENT=100000 AUTH_FAILURES_PER_ADDRESS=100000

# A client (two scopes) whose Basic credentials let token-service's operations get past
# authentication. Its secret is URL-safe, so sending
# it raw in Basic (as schemathesis does) is correct either way.
credentials="$("$python" - <<'PY'
import os, requests
token_url, admin_url = os.environ["INTEROP_TOKEN_URL"], os.environ["INTEROP_ADMIN_URL"]
r = requests.post(f"{token_url}/api/v1/oauth/token", timeout=10, data={
    "grant_type": "client_credentials",
    "client_id": os.environ["INTEROP_ROOT_CLIENT_ID"],
    "client_secret": os.environ["INTEROP_ROOT_CLIENT_SECRET"]})
r.raise_for_status()
root = r.json()["access_token"]
r = requests.post(f"{admin_url}/api/v1/oauth/client", timeout=10, json={"scopes": ["client:read", "scope:read"]},
                  headers={"Authorization": f"Bearer {root}"})
r.raise_for_status()
print(r.json()["client_id"], r.json()["client_secret"])
PY
)" || interop_die "could not create a fuzzing client through admin-service"
read -r fuzz_id fuzz_secret <<<"$credentials"
export SCHEMATHESIS_HOOKS="$here/schemathesis_hooks.py"

reports="$interop_tmp/schemathesis"
mkdir -p "$reports"
failed_runs=0

# run NAME BASE_URL ARGS...: one schemathesis run; its JUnit report is $reports/NAME.xml.
run() {
  local name="$1" base="$2"
  shift 2
  printf '\n=== schemathesis: %s (%s/openapi.json) ===\n' "$name" "$base"
  local status=0
  # From the reports directory: nothing (a schemathesis.toml, a .hypothesis database) is
  # read from or written to the checkout.
  (cd "$reports" && timeout --signal=TERM --kill-after=15 "$hard_timeout" \
    "$schemathesis" run "$base/openapi.json" \
    --url "$base" \
    --checks all \
    --continue-on-failure \
    --max-examples "$max_examples" \
    --seed "$seed" \
    --workers "$workers" \
    --request-timeout 10 \
    --generation-database none \
    --no-color \
    --report junit --report-junit-path "$reports/$name.xml" \
    "$@") || status=$?
  if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "schemathesis: $name: stopped after the ${hard_timeout} s limit (SCHEMATHESIS_TIMEOUT)" >&2
  fi
  if [ "$status" -ne 0 ]; then
    failed_runs=$((failed_runs + 1))
    interop_mark_failed
  fi
  # A run that failed without a report (schema not loadable, killed) counts as a failure.
  if [ ! -s "$reports/$name.xml" ] && [ "$status" -ne 0 ]; then
    cat >"$reports/$name.xml" <<XML
<testsuites><testsuite name="$name"><testcase classname="schemathesis" name="$name run (exit status $status)"><failure message="schemathesis exited with $status and no report"/></testcase></testsuite></testsuites>
XML
  fi
}

run token-service "$INTEROP_TOKEN_URL" --auth "$fuzz_id:$fuzz_secret"
INTEROP_FUZZ_ROOT_AUTH=1 run admin-service "$INTEROP_ADMIN_URL"

read -r passed failed skipped < <("$python" "$here/junit_counts.py" --list "$reports"/*.xml)
# A run that exited non-zero without a failed test case in its report is still a failure.
if [ "$failed_runs" -gt 0 ] && [ "$failed" -eq 0 ]; then failed=$failed_runs; fi
if [ "$failed_runs" -eq 0 ] && [ "$failed" -gt 0 ]; then interop_mark_failed; fi
if [ -n "${INTEROP_COUNTS_FILE:-}" ]; then
  printf '%s %s %s\n' "$passed" "$failed" "$skipped" >"$INTEROP_COUNTS_FILE"
fi
printf '\nschemathesis: %s operations passed, %s failed, %s skipped (reports: %s)\n' \
  "$passed" "$failed" "$skipped" "$reports"
[ "$failed" -eq 0 ]
