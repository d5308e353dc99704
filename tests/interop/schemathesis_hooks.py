"""schemathesis hooks (SCHEMATHESIS_HOOKS) of tests/interop/schemathesis.sh.

For the admin-service run (INTEROP_FUZZ_ROOT_AUTH=1): every request carries
`Authorization: Bearer <root token>`, as a fixed -H header would, but the token comes from
an auth provider, so that after the fuzzer itself revokes every root token
(POST /api/v1/oauth/client/root/revoke is a legitimate, schema-valid request) a 401 makes
schemathesis fetch a fresh root token and replay the request, instead of the rest of the
run seeing nothing but 401s.
"""

import base64
import datetime
import functools
import os

import requests
import schemathesis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

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
#   client_secret, which the schema lists for client_secret_post, and client_assertion and
#   client_assertion_type (private_key_jwt), are dropped.
# - a client's keys are a list of JWKs or a jwks_uri, one of them (POST client and PUT
#   keys; PUT keys needs one), and an issuer's jwks_uri or jwks, exactly one: a second is
#   dropped, a missing one added (an empty key list, or a jwks_uri on loopback). A JWK is
#   real key material, which no schema can generate: generated keys are replaced by one
#   real public key.
# - an identity names a registered issuer: generated issuer values are replaced by one
#   registered for the run.
# - admin-service's POST /api/v1/oauth/revocation with {"token"} takes a token this service
#   issued: a generated string matching the JWS pattern is replaced by a real one (a root
#   token of its own, so the run's bearer token stays valid).
# - admin-service's listings take `after`, a cursor one of their pages gave (`next`), and not
#   with `page`: a generated cursor is replaced by a real one of that listing (or dropped
#   when it has a single page), and `page` is dropped beside it.
# - the audit listing's `since` may not be later than its `until`: a generated pair in the
#   wrong order is swapped.
TOKEN_ENDPOINTS = {"/api/v1/oauth/token", "/api/v1/oauth/revoke", "/api/v1/oauth/introspect"}
LISTINGS = {"/api/v1/oauth/client", "/api/v1/oauth/audit"}


@functools.cache
def public_jwk():
    """One real Ed25519 public key, as a JWK."""
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return {"kty": "OKP", "crv": "Ed25519", "x": x}


def fuzz_issuer():
    """The `iss` of a trusted issuer registered for the run (again if the run deleted it)."""
    issuer = "https://fuzz-issuer.interop.test"
    response = requests.post(
        f"{os.environ['INTEROP_ADMIN_URL']}/api/v1/oauth/issuer",
        json={"issuer": issuer, "jwks": {"keys": [public_jwk()]}},
        headers={"Authorization": f"Bearer {root_token()}"},
        timeout=10,
    )
    assert response.status_code in (201, 409), response.text
    return issuer


def real_keys(body, member):
    """Generated JWKs in body[member] replaced by one real public key."""
    if isinstance(body.get(member), list) and body[member]:
        body[member] = [public_jwk()]


def registered_issuers(identities):
    if isinstance(identities, list):
        for identity in identities:
            if isinstance(identity, dict) and "issuer" in identity:
                identity["issuer"] = fuzz_issuer()


def listing_cursor(path):
    """The `next` of the listing's first one-item page (None when there is no second)."""
    response = requests.get(
        f"{os.environ['INTEROP_ADMIN_URL']}{path}?size=1",
        headers={"Authorization": f"Bearer {root_token()}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["next"]


def instant(value):
    """An RFC 3339 date-time as a comparable instant, or None."""
    try:
        return datetime.datetime.fromisoformat(str(value).replace("z", "Z").replace("t", "T"))
    except ValueError:
        return None


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
    if case.operation.path == "/api/v1/oauth/audit" and isinstance(query, dict):
        since, until = instant(query.get("since")), instant(query.get("until"))
        if since and until and since.tzinfo and until.tzinfo and since > until:
            query["since"], query["until"] = query["until"], query["since"]
    body = case.body
    if case.operation.path == "/api/v1/oauth/client/{id}/identities":
        registered_issuers(body)
    if not isinstance(body, dict):
        return
    path = case.operation.path
    if path in TOKEN_ENDPOINTS and os.environ.get("INTEROP_FUZZ_ROOT_AUTH") != "1":
        body.pop("client_id", None)
        body.pop("client_secret", None)
        body.pop("client_assertion", None)
        body.pop("client_assertion_type", None)
        if path == "/api/v1/oauth/token":
            body.pop("scope", None)
    elif path == "/api/v1/oauth/revocation" and "token" in body:
        body["token"] = root_token()
    elif path in ("/api/v1/oauth/client", "/api/v1/oauth/client/{id}/keys"):
        for member in ("keys", "jwks_uri"):
            if body.get(member) is None:
                body.pop(member, None)
        if "keys" in body:
            body.pop("jwks_uri", None)
            real_keys(body, "keys")
        elif "jwks_uri" not in body and path.endswith("/keys"):
            body["keys"] = []
        registered_issuers(body.get("identities"))
    elif path == "/api/v1/oauth/issuer":
        for member in ("jwks", "jwks_uri"):
            if body.get(member) is None:
                body.pop(member, None)
        if isinstance(body.get("jwks"), dict):
            body.pop("jwks_uri", None)
            real_keys(body["jwks"], "keys")
        elif "jwks_uri" not in body:
            body.pop("jwks", None)
            body["jwks_uri"] = "http://127.0.0.1:9/jwks.json"
