# shellcheck shell=bash
# Shared by scripts/interop, tests/interop/schemathesis.sh and scripts/console-test:
# prerequisites, the cached Python venvs and node_modules, and real token-service +
# admin-service processes on a fresh PostgreSQL database and a private Redis key prefix.
#
# Source it (after `set -euo pipefail`), call interop_init once, then interop_start NAME
# for each service pair; interop_cleanup (installed as an EXIT trap by interop_init) stops
# every service (SIGTERM), drops every database, deletes the Redis keys and, unless
# something failed (interop_mark_failed), removes the temporary directory; interop_finish
# does the same earlier.
#
# Variables read (all optional):
#   AUTHSVC_CACHE        cache root, default $HOME/.cache/authsvc (venv, node_modules)
#   CARGO_TARGET_DIR     default $HOME/.cache/authsvc-target
#   PROFILE              cargo profile of the binaries: dev (default, target/debug),
#                        release, or any custom profile (target/<profile>)
#   INTEROP_BIN_DIR      the directory of token-service and admin-service (overrides both)
#   TEST_DATABASE_URL    PostgreSQL server for the scratch databases,
#                        default postgres://postgres@127.0.0.1:5432/test?sslmode=disable
#   TEST_REDIS_URL       default redis://127.0.0.1:6379
#   INTEROP_KEEP_TMP=1   keep the temporary directory (logs, reports) even on success

interop_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
interop_cache="${AUTHSVC_CACHE:-$HOME/.cache/authsvc}"
interop_venv="$interop_cache/interop-venv"
interop_node_cache="$interop_cache/interop-node"
interop_pg_url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
interop_redis_url="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"

interop_pids=()
interop_databases=()
interop_redis_prefixes=()
interop_failed=0
interop_tmp=""

interop_log() { printf 'interop: %s\n' "$*" >&2; }

# Prints the message and exits non-zero: a missing dependency is a failure, never a skip.
interop_die() {
  printf '\ninterop: FATAL: %s\n' "$*" >&2
  interop_failed=1
  exit 1
}

interop_mark_failed() { interop_failed=1; }

interop_init() {
  interop_tmp="$(mktemp -d "${TMPDIR:-/tmp}/authsvc-interop.XXXXXX")"
  trap interop_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# ---------------------------------------------------------------------------------------
# prerequisites

interop_bin_dir() {
  if [ -n "${INTEROP_BIN_DIR:-}" ]; then
    printf '%s\n' "$INTEROP_BIN_DIR"
    return
  fi
  local target="${CARGO_TARGET_DIR:-$HOME/.cache/authsvc-target}" profile="${PROFILE:-dev}"
  case "$profile" in
    dev | debug) printf '%s/debug\n' "$target" ;;
    *) printf '%s/%s\n' "$target" "$profile" ;;
  esac
}

interop_require_command() {
  command -v "$1" >/dev/null 2>&1 || interop_die "'$1' is not installed ($2)"
}

# The binaries, psql and a reachable PostgreSQL server, a reachable Redis, openssl.
interop_require_services() {
  local bin
  bin="$(interop_bin_dir)"
  for b in token-service admin-service; do
    [ -x "$bin/$b" ] || interop_die "$bin/$b does not exist: build it first with
  CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-\$HOME/.cache/authsvc-target} cargo build --workspace --bins
(or set PROFILE / INTEROP_BIN_DIR to where the binaries are)"
  done
  interop_require_command psql "apt-get install postgresql-client"
  interop_require_command openssl "apt-get install openssl"
  psql "$interop_pg_url" -v ON_ERROR_STOP=1 -qAtc 'select 1' >/dev/null 2>"$interop_tmp/psql.err" \
    || interop_die "PostgreSQL is not reachable at $interop_pg_url (TEST_DATABASE_URL): $(cat "$interop_tmp/psql.err")"
  interop_redis_ping || interop_die "Redis is not reachable at $interop_redis_url (TEST_REDIS_URL)"
}

# PING over bash's /dev/tcp, so redis-cli is not needed.
interop_redis_ping() {
  local hostport="${interop_redis_url#redis://}"
  hostport="${hostport%%/*}"
  hostport="${hostport##*@}"
  local host="${hostport%:*}" port="${hostport##*:}"
  [ "$host" = "$hostport" ] && port=6379
  local reply
  reply="$( (exec 3<>"/dev/tcp/$host/$port" && printf 'PING\r\n' >&3 && read -r -t 3 line <&3 && printf '%s' "$line") 2>/dev/null)" || return 1
  [[ $reply == +PONG* ]]
}

interop_require_python() {
  interop_require_command python3 "Python 3.10 or later, with the venv module"
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || interop_die "python3 is $(python3 --version 2>&1); 3.10 or later is needed"
}

interop_require_node() {
  interop_require_command node "Node.js 20 or later"
  interop_require_command npm "npm, with Node.js"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || interop_die "node is $(node --version); 20 or later is needed"
}

# interop_lock NAME / interop_unlock: an exclusive lock on $interop_cache/NAME.lock, so that
# concurrent runs (two checkouts, two terminals) never install into the same cache at once.
interop_lock_fd=""
interop_lock() {
  mkdir -p "$interop_cache"
  command -v flock >/dev/null 2>&1 || return 0
  exec {interop_lock_fd}>"$interop_cache/$1.lock"
  flock -w 900 "$interop_lock_fd" || interop_die "another run holds $interop_cache/$1.lock for 15 minutes"
}
interop_unlock() {
  [ -n "$interop_lock_fd" ] || return 0
  flock -u "$interop_lock_fd"
  exec {interop_lock_fd}>&-
  interop_lock_fd=""
}

# sha256 of the given files, for "install only when the pins changed" stamps.
interop_digest() { cat "$@" | sha256sum | cut -d' ' -f1; }

# interop_setup_venv [REQUIREMENTS VENV]: a Python venv at VENV with the pinned
# REQUIREMENTS (default: tests/interop/python/requirements.txt into $interop_venv; the
# console suite passes its own), rebuilt when the pins or the interpreter change.
interop_setup_venv() {
  interop_require_python
  local requirements="${1:-$interop_repo/tests/interop/python/requirements.txt}"
  local venv="${2:-$interop_venv}" stamp want
  stamp="$venv/.interop-stamp"
  want="$(interop_digest "$requirements")-$(python3 -c 'import sys; print(sys.version)' | sha256sum | cut -c1-16)"
  interop_lock "$(basename "$venv")"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    interop_unlock
    return
  fi
  interop_log "installing the Python test dependencies into $venv"
  rm -rf "$venv"
  mkdir -p "$interop_cache"
  python3 -m venv "$venv" \
    || interop_die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$requirements" || interop_die "pip install -r $requirements failed"
  "$venv/bin/python" -m pip check >/dev/null \
    || interop_die "the pinned Python requirements are inconsistent: $("$venv/bin/python" -m pip check)"
  printf '%s\n' "$want" >"$stamp"
  interop_unlock
}

# node_modules for tests/interop/node, installed by `npm ci` from its package-lock.json into
# the cache and linked as tests/interop/node/node_modules (git-ignored).
interop_setup_node() {
  interop_require_node
  local src="$interop_repo/tests/interop/node" stamp want
  stamp="$interop_node_cache/.interop-stamp"
  want="$(interop_digest "$src/package.json" "$src/package-lock.json")-$(node --version)"
  interop_lock interop-node
  if [ -d "$interop_node_cache/node_modules" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    :
  else
    interop_log "installing the Node.js test dependencies into $interop_node_cache (npm ci)"
    rm -rf "$interop_node_cache"
    mkdir -p "$interop_node_cache"
    cp "$src/package.json" "$src/package-lock.json" "$interop_node_cache/"
    (cd "$interop_node_cache" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) \
      || interop_die "npm ci failed in $interop_node_cache"
    printf '%s\n' "$want" >"$stamp"
  fi
  if [ "$(readlink "$src/node_modules" 2>/dev/null)" != "$interop_node_cache/node_modules" ]; then
    if [ -e "$src/node_modules" ] && [ ! -L "$src/node_modules" ]; then
      interop_die "$src/node_modules exists and is not the link to $interop_node_cache/node_modules: remove it"
    fi
    ln -sfn "$interop_node_cache/node_modules" "$src/node_modules"
  fi
  interop_unlock
}

# ---------------------------------------------------------------------------------------
# services

# A free loopback TCP port (bound, read, released: the services bind it right after).
interop_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# A URL-safe random string of N (default 32) characters.
interop_random() {
  head -c 48 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' | cut -c "1-${1:-32}"
}

# The base URL of the PostgreSQL server with another database name.
interop_pg_url_for() {
  local db="$1" base="${interop_pg_url%%\?*}" query=""
  [[ $interop_pg_url == *\?* ]] && query="?${interop_pg_url#*\?}"
  printf '%s/%s%s\n' "${base%/*}" "$db" "$query"
}

# Waits until GET http://ADDR/health/ready answers 200 (60 s at most), or the process dies.
interop_wait_ready() {
  local name="$1" addr="$2" pid="$3" log="$4" host port status
  host="${addr%:*}" port="${addr##*:}"
  for _ in $(seq 1 600); do
    if (exec 3<>"/dev/tcp/$host/$port" \
      && printf 'GET /health/ready HTTP/1.0\r\nHost: %s\r\n\r\n' "$addr" >&3 \
      && read -r -t 2 status <&3 && [[ $status == *' 200 '* ]]) 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      interop_mark_failed
      interop_die "$name exited during start-up; its log ($log):
$(tail -n 40 "$log")"
    fi
    sleep 0.1
  done
  interop_mark_failed
  interop_die "$name is not ready at http://$addr/health/ready after 60 s; its log ($log):
$(tail -n 40 "$log")"
}

# interop_start NAME [VAR=VALUE...]: a fresh database, migrations, token-service and
# admin-service on free loopback ports, each with a clean environment (the listed extra
# variables added). Exports for the tests:
#   INTEROP_TOKEN_URL, INTEROP_ADMIN_URL  base URLs (no trailing slash)
#   INTEROP_ISSUER                        OAUTH_ISSUER (= INTEROP_TOKEN_URL)
#   INTEROP_ROOT_CLIENT_ID, INTEROP_ROOT_CLIENT_SECRET
# The root secret contains '+', '/' and '%' (with a valid %XX escape after it) so the tests
# can check that reserved characters authenticate however a client library encodes them.
interop_start() {
  local name="$1"
  shift
  local bin dir db db_url prefix token_port admin_port
  bin="$(interop_bin_dir)"
  dir="$interop_tmp/$name"
  mkdir -p "$dir/work"
  db="authsvc_interop_${name//[^a-z0-9]/_}_$$_$(date +%s)_$RANDOM"
  prefix="authsvc-interop-$name-$$-$RANDOM"
  db_url="$(interop_pg_url_for "$db")"

  psql "$interop_pg_url" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE \"$db\"" >/dev/null \
    || interop_die "cannot create the database $db on $interop_pg_url"
  interop_databases+=("$db")
  interop_redis_prefixes+=("$prefix")

  token_port="$(interop_free_port)"
  admin_port="$(interop_free_port)"
  while [ "$admin_port" = "$token_port" ]; do admin_port="$(interop_free_port)"; done

  local root_secret
  root_secret="Interop+root/%2F%-$(interop_random 32)"

  local -a service_env=(
    "PATH=$PATH"
    "HOME=$HOME"
    "DATABASE_URL=$db_url"
    "REDIS_URL=$interop_redis_url"
    "REDIS_KEY_PREFIX=$prefix"
    "OAUTH_ROOT_CLIENT_ID=root"
    "OAUTH_ROOT_CLIENT_SECRET=$root_secret"
    "OAUTH_ISSUER=http://127.0.0.1:$token_port"
    # No OAUTH_SIGNING_KEY_FILE: the services generate the development key under
    # ./data, and test_development_key.py checks that third-party tools read it.
    "RUST_LOG=warn"
    "TOKEN_SERVICE_ADDR=127.0.0.1:$token_port"
    "ADMIN_SERVICE_ADDR=127.0.0.1:$admin_port"
    "HTTP_WORKERS=2"
    "$@"
  )

  (cd "$dir/work" && env -i "${service_env[@]}" "$bin/admin-service" migrate) \
    >"$dir/migrate.log" 2>&1 || {
    interop_mark_failed
    interop_die "admin-service migrate failed on $db:
$(tail -n 40 "$dir/migrate.log")"
  }

  # admin-service never gets the root secret (it verifies with token-service's JWKS).
  local -a admin_env=()
  local var
  for var in "${service_env[@]}"; do
    [[ $var == OAUTH_ROOT_CLIENT_SECRET=* ]] || admin_env+=("$var")
  done
  local svc pid
  for svc in token-service admin-service; do
    if [ "$svc" = admin-service ]; then
      (cd "$dir/work" && exec env -i "${admin_env[@]}" "$bin/$svc") >"$dir/$svc.log" 2>&1 &
    else
      (cd "$dir/work" && exec env -i "${service_env[@]}" "$bin/$svc") >"$dir/$svc.log" 2>&1 &
    fi
    pid=$!
    interop_pids+=("$pid")
    printf '%s\n' "$pid" >"$dir/$svc.pid"
  done
  interop_wait_ready "$name token-service" "127.0.0.1:$token_port" "$(cat "$dir/token-service.pid")" "$dir/token-service.log"
  interop_wait_ready "$name admin-service" "127.0.0.1:$admin_port" "$(cat "$dir/admin-service.pid")" "$dir/admin-service.log"

  export INTEROP_SIGNING_KEY_FILE="$dir/work/data/signing-key.pem"
  export INTEROP_TOKEN_URL="http://127.0.0.1:$token_port"
  export INTEROP_ADMIN_URL="http://127.0.0.1:$admin_port"
  export INTEROP_ISSUER="http://127.0.0.1:$token_port"
  export INTEROP_ROOT_CLIENT_ID=root
  export INTEROP_ROOT_CLIENT_SECRET="$root_secret"
  interop_log "$name: token-service $INTEROP_TOKEN_URL, admin-service $INTEROP_ADMIN_URL, database $db (logs: $dir)"
}

# The service logs of every instance, last lines of each.
interop_print_logs() {
  local log
  for log in "$interop_tmp"/*/*.log; do
    # migrate.log is printed where the migration fails; an empty log says nothing.
    [ -s "$log" ] && [ "${log##*/}" != migrate.log ] || continue
    printf '\n----- %s (last 30 lines) -----\n' "$log" >&2
    tail -n 30 "$log" >&2
  done
}

# Stops the services (SIGTERM, then SIGKILL after 10 s), drops the databases, deletes the
# Redis keys, and removes the temporary directory unless something failed.
interop_stop_all() {
  local pid
  for pid in "${interop_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${interop_pids[@]}"; do
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      interop_log "process $pid did not stop on SIGTERM within 10 s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  interop_pids=()
  local db
  for db in "${interop_databases[@]}"; do
    psql "$interop_pg_url" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 \
      || interop_log "could not drop the database $db"
  done
  interop_databases=()
  if command -v redis-cli >/dev/null 2>&1; then
    local prefix
    for prefix in "${interop_redis_prefixes[@]}"; do
      redis-cli -u "$interop_redis_url" --scan --pattern "$prefix*" 2>/dev/null \
        | xargs -r redis-cli -u "$interop_redis_url" del >/dev/null 2>&1 || true
    done
  fi
  interop_redis_prefixes=()
}

# Prints the service logs when something failed, stops everything, and removes the
# temporary directory unless something failed. Idempotent: scripts/interop calls it before
# its summary line (which must be the last line), the EXIT trap again.
interop_finish() {
  [ -n "$interop_tmp" ] || return 0
  if [ "$interop_failed" -ne 0 ]; then
    interop_print_logs
  fi
  interop_stop_all
  if [ -d "$interop_tmp" ]; then
    # Kept after a failure when it holds something to look at (logs, reports).
    if [ "${INTEROP_KEEP_TMP:-0}" != 1 ] && { [ "$interop_failed" -eq 0 ] \
      || [ -z "$(find "$interop_tmp" -name '*.log' -o -name '*.xml' | head -n 1)" ]; }; then
      rm -rf "$interop_tmp"
    else
      interop_log "logs and reports kept in $interop_tmp"
    fi
  fi
  interop_tmp=""
}

interop_cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [ "$status" -ne 0 ] && interop_failed=1
  interop_finish
  # scripts/interop's summary line, when it did not get to print it (a fatal error).
  if declare -F interop_on_exit >/dev/null; then
    interop_on_exit "$status"
  fi
  exit "$status"
}
