"""private_key_jwt (RFC 7523 §2.2) with third-party libraries: a secret-less client created
with its public key through admin-service, Authlib's PrivateKeyJWT signing the assertion
(EdDSA and RS256 keys made by joserfc), and the single use of an assertion (PyJWT)."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign
from joserfc.jwk import OKPKey, RSAKey

from conftest import TIMEOUT, Service

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class ShortLivedPrivateKeyJWT(PrivateKeyJWT):
    """Authlib's PrivateKeyJWT signs assertions valid for an hour; this service accepts at
    most 10 minutes (DESIGN), so the assertion's lifetime is given (60 s)."""

    def sign(self, auth, token_endpoint):
        return private_key_jwt_sign(
            auth.client_secret,
            client_id=auth.client_id,
            token_endpoint=token_endpoint,
            claims=self.claims,
            header=self.headers,
            alg=self.alg,
            expires_in=60,
        )


def make_key(alg: str):
    return OKPKey.generate_key("Ed25519") if alg == "EdDSA" else RSAKey.generate_key(2048)


def create_keyed_client(service: Service, root_token: str, key, scopes: list[str]) -> str:
    """A client with `scopes` whose only credential is `key`'s public half."""
    public = key.as_dict(private=False)
    response = requests.post(
        f"{service.admin_url}/api/v1/oauth/client",
        json={"scopes": scopes, "keys": [public]},
        headers={"Authorization": f"Bearer {root_token}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "client_secret" not in body, f"a client with keys only gets no secret: {body}"
    return body["client_id"]


@pytest.mark.parametrize("alg", ["EdDSA", "RS256"])
def test_authlib_private_key_jwt_gets_a_token(service: Service, root_token: str, alg: str):
    key = make_key(alg)
    client_id = create_keyed_client(service, root_token, key, ["client:read"])
    auth = ShortLivedPrivateKeyJWT(service.token_endpoint, alg=alg)
    with OAuth2Session(client_id, key, token_endpoint_auth_method=auth) as session:
        token = session.fetch_token(
            service.token_endpoint, grant_type="client_credentials", timeout=TIMEOUT
        )
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "client:read"
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == client_id


def test_an_assertion_is_single_use_and_bound_to_its_key(service: Service, root_token: str):
    key = make_key("EdDSA")
    client_id = create_keyed_client(service, root_token, key, [])
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": service.token_endpoint,
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
    }
    assertion = jwt.encode(claims, key.as_pem(private=True), algorithm="EdDSA")
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion,
    }
    first = requests.post(service.token_endpoint, data=form, timeout=TIMEOUT)
    assert first.status_code == 200, first.text
    replay = requests.post(service.token_endpoint, data=form, timeout=TIMEOUT)
    assert replay.status_code == 401, replay.text
    assert replay.json()["error"] == "invalid_client"

    other = make_key("EdDSA")
    forged = jwt.encode(
        {**claims, "jti": str(uuid.uuid4())}, other.as_pem(private=True), algorithm="EdDSA"
    )
    refused = requests.post(
        service.token_endpoint, data={**form, "client_assertion": forged}, timeout=TIMEOUT
    )
    assert refused.status_code == 401
    assert refused.json() == replay.json(), "one body for every cause"


def test_authlib_sees_a_wrong_key_as_invalid_client(service: Service, root_token: str):
    client_id = create_keyed_client(service, root_token, make_key("EdDSA"), [])
    stranger = make_key("EdDSA")
    auth = ShortLivedPrivateKeyJWT(service.token_endpoint, alg="EdDSA")
    with OAuth2Session(client_id, stranger, token_endpoint_auth_method=auth) as session:
        with pytest.raises(OAuthError) as refused:
            session.fetch_token(
                service.token_endpoint, grant_type="client_credentials", timeout=TIMEOUT
            )
    assert refused.value.error == "invalid_client"


def test_an_assertion_living_an_hour_is_refused(service: Service, root_token: str):
    """Authlib's default: an assertion valid for 3600 s. DESIGN allows at most 10 minutes."""
    key = make_key("RS256")
    client_id = create_keyed_client(service, root_token, key, [])
    with OAuth2Session(
        client_id, key, token_endpoint_auth_method=PrivateKeyJWT(service.token_endpoint)
    ) as session:
        with pytest.raises(OAuthError) as refused:
            session.fetch_token(
                service.token_endpoint, grant_type="client_credentials", timeout=TIMEOUT
            )
    assert refused.value.error == "invalid_client"
