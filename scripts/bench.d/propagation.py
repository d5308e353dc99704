#!/usr/bin/env python3
"""How long a revocation takes to reach every verifier: for each of N tokens, checks that
every verifier accepts it, revokes it through admin-service, and polls every verifier (one
thread and one keep-alive connection each) until it refuses the token; the time from the
revocation request to each refusal is one sample.

usage: propagation.py N TOKEN_URL ADMIN_URL ROOT_ID ROOT_SECRET ROOT_TOKEN VERIFIER_URL...
Prints `samples=... p50_ms=... p99_ms=... max_ms=... revoke_p50_ms=...` and exits non-zero
when a verifier never refused a revoked token within 5 s."""
import http.client
import json
import sys
import threading
import time
import urllib.parse
import urllib.request

count = int(sys.argv[1])
token_url, admin_url, root_id, root_secret, root_token = sys.argv[2:7]
verifiers = sys.argv[7:]
DEADLINE_S = 5.0


def get_token():
    body = urllib.parse.urlencode({
        "grant_type": "client_credentials", "client_id": root_id, "client_secret": root_secret,
    }).encode()
    with urllib.request.urlopen(token_url + "/api/v1/oauth/token", body) as answer:
        return json.load(answer)["access_token"]


def revoke(token):
    request = urllib.request.Request(
        admin_url + "/api/v1/oauth/revocation", json.dumps({"token": token}).encode(),
        {"Authorization": "Bearer " + root_token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        answer.read()


class Poller(threading.Thread):
    """Polls one verifier's /whoami with the current token."""

    def __init__(self, url):
        super().__init__(daemon=True)
        parsed = urllib.parse.urlparse(url)
        self.conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=5)
        self.go = threading.Event()
        self.done = threading.Event()
        self.token = None
        self.started = 0.0
        self.want_refusal = False
        self.elapsed = None

    def status(self):
        """The verifier's status for the token; a dropped keep-alive connection (the
        server closes idle ones) is made again once."""
        for attempt in (1, 2):
            try:
                self.conn.request("GET", "/whoami",
                                  headers={"Authorization": "Bearer " + self.token})
                answer = self.conn.getresponse()
                answer.read()
                return answer.status
            except (http.client.HTTPException, OSError):
                self.conn.close()
                if attempt == 2:
                    return None
        return None

    def run(self):
        while True:
            self.go.wait()
            self.go.clear()
            self.elapsed = None
            try:
                if not self.want_refusal:
                    self.elapsed = self.status()  # the token is accepted: 200
                else:
                    while time.perf_counter() - self.started < DEADLINE_S:
                        if self.status() == 401:
                            self.elapsed = time.perf_counter() - self.started
                            break
            finally:
                self.done.set()


pollers = [Poller(url) for url in verifiers]
for poller in pollers:
    poller.start()


def round_of(token, want_refusal, started=0.0):
    for poller in pollers:
        poller.token, poller.want_refusal, poller.started = token, want_refusal, started
        poller.done.clear()
        poller.go.set()
    for poller in pollers:
        if not poller.done.wait(DEADLINE_S + 5):
            sys.exit("a verifier did not answer")
    return [poller.elapsed for poller in pollers]


samples, revoke_times, missing = [], [], 0
for _ in range(count):
    token = get_token()
    accepted = round_of(token, False)
    if any(status != 200 for status in accepted):
        sys.exit(f"a verifier refused a fresh token: {accepted}")
    started = time.perf_counter()
    # The pollers start with the request: a verifier may refuse before it is answered.
    for poller in pollers:
        poller.token, poller.want_refusal, poller.started = token, True, started
        poller.done.clear()
        poller.go.set()
    revoke(token)
    revoke_times.append(time.perf_counter() - started)
    for poller in pollers:
        if not poller.done.wait(DEADLINE_S + 5):
            sys.exit("a verifier did not answer")
    for poller in pollers:
        if poller.elapsed is None:
            missing += 1
        else:
            samples.append(poller.elapsed)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000 if values else 0


print(f"samples={len(samples)} p50_ms={percentile(samples, 50):.1f} "
      f"p99_ms={percentile(samples, 99):.1f} max_ms={percentile(samples, 100):.1f} "
      f"revoke_p50_ms={percentile(revoke_times, 50):.1f} missing={missing}")
sys.exit(1 if missing else 0)
