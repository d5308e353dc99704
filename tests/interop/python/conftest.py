"""Fixtures of the Python interoperability tests.

The services are started by scripts/interop (tests/interop/lib.sh), which exports:
INTEROP_TOKEN_URL, INTEROP_ADMIN_URL, INTEROP_ISSUER, INTEROP_ROOT_CLIENT_ID,
INTEROP_ROOT_CLIENT_SECRET. Without them every test errors (it is never skipped).
The tests create the clients they need through admin-service with the root client.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
import requests

# The services run on plain http on loopback: tell the client libraries that is fine.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")

TIMEOUT = 10  # seconds, every HTTP request


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run these tests with scripts/interop python")
    return value


@dataclass(frozen=True)
class Service:
    token_url: str
    admin_url: str
    issuer: str
    root_id: str
    root_secret: str

    @property
    def token_endpoint(self) -> str:
        return f"{self.token_url}/api/v1/oauth/token"

    @property
    def introspection_endpoint(self) -> str:
        return f"{self.token_url}/api/v1/oauth/introspect"

    @property
    def revocation_endpoint(self) -> str:
        return f"{self.token_url}/api/v1/oauth/revoke"

    @property
    def jwks_uri(self) -> str:
        return f"{self.token_url}/.well-known/jwks.json"

    @property
    def metadata_url(self) -> str:
        return f"{self.token_url}/.well-known/oauth-authorization-server"


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str
    scopes: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def service() -> Service:
    return Service(
        token_url=_env("INTEROP_TOKEN_URL").rstrip("/"),
        admin_url=_env("INTEROP_ADMIN_URL").rstrip("/"),
        issuer=_env("INTEROP_ISSUER"),
        root_id=_env("INTEROP_ROOT_CLIENT_ID"),
        root_secret=_env("INTEROP_ROOT_CLIENT_SECRET"),
    )


@pytest.fixture(scope="session")
def root(service: Service) -> Client:
    return Client(service.root_id, service.root_secret)


@pytest.fixture(scope="session")
def root_token(service: Service) -> str:
    """A root access token, obtained with client_secret_post (form fields, which requests
    encodes correctly whatever the secret contains)."""
    response = requests.post(
        service.token_endpoint,
        data={
            "grant_type": "client_credentials",
            "client_id": service.root_id,
            "client_secret": service.root_secret,
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, f"root token: {response.status_code} {response.text}"
    return response.json()["access_token"]


@pytest.fixture(scope="session")
def registry_scopes(service: Service, root_token: str) -> list[str]:
    response = requests.get(
        f"{service.admin_url}/api/v1/oauth/scope",
        headers={"Authorization": f"Bearer {root_token}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="session")
def make_client(service: Service, root_token: str):
    """make_client(scopes) creates a client through admin-service (POST /api/v1/oauth/client
    with {"scopes": [...]}) and returns its id and secret."""

    def make(scopes: list[str]) -> Client:
        response = requests.post(
            f"{service.admin_url}/api/v1/oauth/client",
            json={"scopes": scopes},
            headers={"Authorization": f"Bearer {root_token}"},
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, f"create client: {response.status_code} {response.text}"
        body = response.json()
        return Client(body["client_id"], body["client_secret"], list(scopes))

    return make


# Two scopes a client can hold; admin-service checks both on its read endpoints.
READER_SCOPES = ["client:read", "scope:read"]


@pytest.fixture(scope="session")
def reader(make_client) -> Client:
    """A client with client:read and scope:read (shared by the read-only tests)."""
    return make_client(READER_SCOPES)


@pytest.fixture(scope="session")
def scopeless(make_client) -> Client:
    """A client with no scopes at all (fidesops' POST /client with no body)."""
    return make_client([])


def check_token_response(token: dict, expected_scopes: list[str]) -> None:
    """RFC 6749 §5.1 and DESIGN.md: access_token, token_type Bearer, expires_in, and scope
    (the granted scopes, space-separated; omitted when the token has none)."""
    assert isinstance(token.get("access_token"), str) and token["access_token"], token
    assert token.get("token_type") == "Bearer", token
    assert isinstance(token.get("expires_in"), int) and token["expires_in"] > 0, token
    if expected_scopes:
        assert "scope" in token, token
        granted = token["scope"]
        # oauthlib (requests-oauthlib) hands scope back as a list, the others as the string.
        if isinstance(granted, str):
            granted = granted.split(" ")
        assert sorted(granted) == sorted(expected_scopes), token
    else:
        assert "scope" not in token, f"scope must be omitted when the token has none: {token}"
