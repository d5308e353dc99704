"""RFC 7662 introspection and RFC 7009 revocation through Authlib's OAuth2Session
(introspect_token, revoke_token), then admin-service's own verdict on the revoked token."""

from __future__ import annotations

import time

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from conftest import TIMEOUT, Client, Service, check_token_response


def session(client: Client, method: str) -> OAuth2Session:
    return OAuth2Session(
        client.client_id,
        client.client_secret,
        token_endpoint_auth_method=method,
        revocation_endpoint_auth_method=method,
    )


def new_token(service: Service, client: Client) -> str:
    with session(client, "client_secret_basic") as s:
        token = dict(s.fetch_token(service.token_endpoint, grant_type="client_credentials", timeout=TIMEOUT))
    check_token_response(token, client.scopes)
    return token["access_token"]


def admin_list_clients(service: Service, access_token: str) -> requests.Response:
    return requests.get(
        f"{service.admin_url}/api/v1/oauth/client",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=TIMEOUT,
    )


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_introspection_of_active_token(service, make_client, method):
    client = make_client(["client:read"])
    access_token = new_token(service, client)
    with session(client, method) as s:
        response = s.introspect_token(service.introspection_endpoint, token=access_token, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    assert "no-store" in response.headers.get("Cache-Control", "")
    body = response.json()
    assert body["active"] is True, body
    assert body["client_id"] == client.client_id, body
    assert body["sub"] == client.client_id, body
    assert body["scope"] == "client:read", body
    assert body["token_type"].lower() == "bearer", body
    assert body["iss"] == service.issuer, body
    assert body["exp"] > time.time() and body["iat"] <= time.time() + 5, body
    assert isinstance(body.get("jti"), str) and body["jti"], body
    # RFC 7662 §2.2: aud is a string or an array; RFC 9068 tokens always have one.
    aud = body.get("aud")
    assert aud == service.issuer or (isinstance(aud, list) and service.issuer in aud), body


def test_introspection_of_garbage_token_is_inactive(service, reader):
    with session(reader, "client_secret_basic") as s:
        response = s.introspect_token(service.introspection_endpoint, token="not-a-token", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    assert response.json() == {"active": False}


def test_introspection_needs_client_authentication(service, reader):
    access_token = new_token(service, reader)
    response = requests.post(
        service.introspection_endpoint, data={"token": access_token}, timeout=TIMEOUT
    )
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_revocation_then_inactive_and_refused_by_admin_service(service, make_client, method):
    client = make_client(["client:read"])
    access_token = new_token(service, client)
    before = admin_list_clients(service, access_token)
    assert before.status_code == 200, f"admin-service refused a fresh token: {before.status_code} {before.text}"

    with session(client, method) as s:
        revoked = s.revoke_token(
            service.revocation_endpoint, token=access_token, token_type_hint="access_token", timeout=TIMEOUT
        )
        assert revoked.status_code == 200, revoked.text
        introspected = s.introspect_token(service.introspection_endpoint, token=access_token, timeout=TIMEOUT)
    assert introspected.status_code == 200, introspected.text
    assert introspected.json() == {"active": False}

    # Revocations reach admin-service through Redis (p99 50 ms by DESIGN.md): allow 2 s.
    deadline = time.monotonic() + 2
    while True:
        after = admin_list_clients(service, access_token)
        if after.status_code == 401 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert after.status_code == 401, f"admin-service accepted a revoked token: {after.status_code} {after.text}"
    challenge = after.headers.get("WWW-Authenticate", "")
    assert challenge.startswith("Bearer") and 'error="invalid_token"' in challenge, challenge
