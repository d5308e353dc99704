"""Client credentials with reserved characters, with plain requests. The root secret (set
by scripts/interop) contains '+', '/', '%2F' and a '%' that starts no escape.

RFC 6749 §2.3.1 says the id and secret are form-encoded before they go into the Basic
header; many clients (requests' HTTPBasicAuth, requests-oauthlib, Authlib) send them raw.
Both must authenticate, and so must the form fields of client_secret_post."""

from __future__ import annotations

from urllib.parse import quote_plus

import pytest
import requests
from requests.auth import HTTPBasicAuth

from conftest import TIMEOUT, check_token_response


def test_root_secret_has_reserved_characters(root):
    assert {"+", "/", "%"} <= set(root.client_secret), "scripts/interop sets such a root secret"


@pytest.mark.parametrize(
    "encoding",
    [
        pytest.param(lambda s: s, id="raw"),
        pytest.param(quote_plus, id="form-encoded"),
    ],
)
def test_basic_auth(service, root, registry_scopes, encoding):
    response = requests.post(
        service.token_endpoint,
        data={"grant_type": "client_credentials"},
        auth=HTTPBasicAuth(encoding(root.client_id), encoding(root.client_secret)),
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, f"{response.status_code} {response.text}"
    assert "no-store" in response.headers.get("Cache-Control", "")
    check_token_response(response.json(), registry_scopes)


def test_post_form_fields(service, root, registry_scopes):
    response = requests.post(
        service.token_endpoint,
        data={
            "grant_type": "client_credentials",
            "client_id": root.client_id,
            "client_secret": root.client_secret,
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, f"{response.status_code} {response.text}"
    check_token_response(response.json(), registry_scopes)


def test_basic_with_space_instead_of_plus_is_invalid_client(service, root):
    response = requests.post(
        service.token_endpoint,
        data={"grant_type": "client_credentials"},
        auth=HTTPBasicAuth(root.client_id, root.client_secret.replace("+", " ")),
        timeout=TIMEOUT,
    )
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"
    assert response.headers.get("WWW-Authenticate", "").startswith("Basic")
