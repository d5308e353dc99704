"""schemathesis hooks (SCHEMATHESIS_HOOKS) of tests/interop/schemathesis.sh.

For the admin-service run (INTEROP_FUZZ_ROOT_AUTH=1): every request carries
`Authorization: Bearer <root token>`, as a fixed -H header would, but the token comes from
an auth provider, so that after the fuzzer itself revokes every root token
(POST /api/v1/oauth/client/root/revoke is a legitimate, schema-valid request) a 401 makes
schemathesis fetch a fresh root token and replay the request, instead of the rest of the
run seeing nothing but 401s.
"""

import os

import requests
import schemathesis

def root_token():
    """A fresh access token of the root client."""
    response = requests.post(
        f"{os.environ['INTEROP_TOKEN_URL']}/api/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": os.environ["INTEROP_ROOT_CLIENT_ID"],
            "client_secret": os.environ["INTEROP_ROOT_CLIENT_SECRET"],
        },
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["access_token"]


if os.environ.get("INTEROP_FUZZ_ROOT_AUTH") == "1":

    @schemathesis.auth(refresh_interval=300, retry_on=[401])
    class RootBearerToken:
        def get(self, case, context):
            return root_token()

        def set(self, case, data, context):
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {data}"


# Constraints the OpenAPI documents cannot state, applied to generated requests so that a
# schema-valid request is also a meaningful one (the service's answers to the others are
# correct 400s, covered by the Rust tests):
#
# - token-service's run authenticates every request with Basic credentials (--auth), and
#   RFC 6749 §2.3 forbids a second method in the same request: the form's client_id and
#   client_secret, which the schema lists for client_secret_post, are dropped.
# - admin-service's POST /api/v1/oauth/revocation with {"token"} takes a token this service
#   issued: a generated string matching the JWS pattern is replaced by a real one (a root
#   token of its own, so the run's bearer token stays valid).
# - admin-service's listings take `after`, a cursor one of their pages gave (`next`), and not
#   with `page`: a generated cursor is replaced by a real one of that listing (or dropped
#   when it has a single page), and `page` is dropped beside it.
TOKEN_ENDPOINTS = {"/api/v1/oauth/token", "/api/v1/oauth/revoke", "/api/v1/oauth/introspect"}
LISTINGS = {"/api/v1/oauth/client", "/api/v1/oauth/audit"}


def listing_cursor(path):
    """The `next` of the listing's first one-item page (None when there is no second)."""
    response = requests.get(
        f"{os.environ['INTEROP_ADMIN_URL']}{path}?size=1",
        headers={"Authorization": f"Bearer {root_token()}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["next"]


@schemathesis.hook
def before_call(context, case, kwargs):
    query = case.query
    if case.operation.path in LISTINGS and isinstance(query, dict) and "after" in query:
        query.pop("page", None)
        cursor = listing_cursor(case.operation.path)
        if cursor is None:
            query.pop("after")
        else:
            query["after"] = cursor
    body = case.body
    if not isinstance(body, dict):
        return
    path = case.operation.path
    if path in TOKEN_ENDPOINTS and os.environ.get("INTEROP_FUZZ_ROOT_AUTH") != "1":
        body.pop("client_id", None)
        body.pop("client_secret", None)
        if path == "/api/v1/oauth/token":
            body.pop("scope", None)
    elif path == "/api/v1/oauth/revocation" and "token" in body:
        body["token"] = root_token()
