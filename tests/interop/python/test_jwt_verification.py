"""Access tokens verified by third-party JOSE libraries against the published JWKS, as a
resource server would (RFC 9068: header typ at+jwt; iss, aud, exp, iat, sub, client_id,
jti; scope omitted when empty): PyJWT with its PyJWKClient, and joserfc."""

from __future__ import annotations

import time

import jwt as pyjwt
import pytest
import requests
from joserfc import jwt as josejwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from conftest import TIMEOUT, Client, Service

REQUIRED_CLAIMS = ["iss", "sub", "client_id", "aud", "iat", "exp", "jti"]


def issue(service: Service, client: Client, scope: str | None = None) -> dict:
    form = {
        "grant_type": "client_credentials",
        "client_id": client.client_id,
        "client_secret": client.client_secret,
    }
    if scope is not None:
        form["scope"] = scope
    response = requests.post(service.token_endpoint, data=form, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def audience_contains(aud, expected: str) -> bool:
    return aud == expected or (isinstance(aud, list) and expected in aud)


# --- PyJWT ---------------------------------------------------------------------------------


def pyjwt_verify(service: Service, access_token: str) -> dict:
    jwks = pyjwt.PyJWKClient(service.jwks_uri, cache_keys=False, timeout=TIMEOUT)
    signing_key = jwks.get_signing_key_from_jwt(access_token)
    header = pyjwt.get_unverified_header(access_token)
    assert header.get("typ") == "at+jwt", f"RFC 9068 §2.1 typ: {header}"
    assert header.get("kid") == signing_key.key_id, header
    return pyjwt.decode(
        access_token,
        signing_key,
        algorithms=["EdDSA", "ES256", "RS256"],
        audience=service.issuer,
        issuer=service.issuer,
        options={"require": REQUIRED_CLAIMS, "verify_exp": True, "verify_iat": True},
        leeway=5,
    )


def test_pyjwt_pyjwkclient_verifies_signature_typ_aud_iss_exp(service, reader):
    token = issue(service, reader, scope="client:read")
    claims = pyjwt_verify(service, token["access_token"])
    assert claims["sub"] == claims["client_id"] == reader.client_id, claims
    assert claims["scope"] == "client:read", claims
    assert claims["exp"] > time.time(), claims
    assert abs((claims["exp"] - claims["iat"]) - token["expires_in"]) <= 5, (claims, token)
    assert isinstance(claims["jti"], str) and claims["jti"], claims


def test_pyjwt_rejects_token_for_another_audience(service, reader):
    """A verifier configured for another audience must refuse the token (PyJWT checks aud
    only when the token has one: a token without aud would also fail here)."""
    access_token = issue(service, reader)["access_token"]
    jwks = pyjwt.PyJWKClient(service.jwks_uri, cache_keys=False, timeout=TIMEOUT)
    key = jwks.get_signing_key_from_jwt(access_token)
    with pytest.raises(pyjwt.InvalidAudienceError):
        pyjwt.decode(
            access_token,
            key,
            algorithms=["EdDSA", "ES256", "RS256"],
            audience="https://another-service.example",
            options={"require": ["aud"]},
        )


def test_pyjwt_token_of_client_without_scopes_has_no_scope_claim(service, scopeless):
    claims = pyjwt_verify(service, issue(service, scopeless)["access_token"])
    assert "scope" not in claims, f"RFC 9068 / DESIGN.md: scope omitted when empty: {claims}"


# --- joserfc -------------------------------------------------------------------------------


def joserfc_verify(service: Service, access_token: str, client: Client):
    key_set = KeySet.import_key_set(requests.get(service.jwks_uri, timeout=TIMEOUT).json())
    # "EdDSA" is the JWS name the service uses for Ed25519 (RFC 8037); joserfc also knows
    # the newer fully-specified "Ed25519" (RFC 9864).
    token = josejwt.decode(access_token, key_set, algorithms=["EdDSA", "Ed25519", "ES256", "RS256"])
    assert token.header.get("typ") == "at+jwt", token.header
    claims_registry = JWTClaimsRegistry(
        leeway=5,
        iss={"essential": True, "value": service.issuer},
        aud={"essential": True, "value": service.issuer},
        sub={"essential": True, "value": client.client_id},
        client_id={"essential": True, "value": client.client_id},
        exp={"essential": True},
        iat={"essential": True},
        jti={"essential": True},
    )
    claims_registry.validate(token.claims)
    return token


def test_joserfc_verifies_signature_and_claims(service, reader):
    token = joserfc_verify(service, issue(service, reader)["access_token"], reader)
    assert sorted(token.claims["scope"].split(" ")) == sorted(reader.scopes), token.claims
    assert audience_contains(token.claims["aud"], service.issuer)
