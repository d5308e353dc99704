"""Authlib (https://docs.authlib.org): the client-credentials grant with its requests-based
OAuth2Session and its httpx-based AsyncOAuth2Client, both client authentication methods,
with and without `scope`, and the errors it parses."""

from __future__ import annotations

import asyncio

import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from conftest import TIMEOUT, Client, Service, check_token_response

METHODS = ["client_secret_basic", "client_secret_post"]


def fetch_sync(service: Service, client: Client, method: str, scope: str | None) -> dict:
    with OAuth2Session(
        client.client_id,
        client.client_secret,
        token_endpoint_auth_method=method,
        scope=scope,
    ) as session:
        return dict(
            session.fetch_token(
                service.token_endpoint, grant_type="client_credentials", timeout=TIMEOUT
            )
        )


async def fetch_async(service: Service, client: Client, method: str, scope: str | None) -> dict:
    async with AsyncOAuth2Client(
        client.client_id,
        client.client_secret,
        token_endpoint_auth_method=method,
        scope=scope,
        timeout=TIMEOUT,
    ) as session:
        token = await session.fetch_token(service.token_endpoint, grant_type="client_credentials")
        return dict(token)


@pytest.mark.parametrize("method", METHODS)
def test_oauth2session_without_scope_gets_all_client_scopes(service, reader, method):
    token = fetch_sync(service, reader, method, scope=None)
    check_token_response(token, reader.scopes)


@pytest.mark.parametrize("method", METHODS)
def test_oauth2session_with_scope_gets_that_subset(service, reader, method):
    token = fetch_sync(service, reader, method, scope="client:read")
    check_token_response(token, ["client:read"])


@pytest.mark.parametrize("method", METHODS)
def test_async_oauth2client_without_scope(service, reader, method):
    token = asyncio.run(fetch_async(service, reader, method, scope=None))
    check_token_response(token, reader.scopes)


@pytest.mark.parametrize("method", METHODS)
def test_async_oauth2client_with_scope(service, reader, method):
    token = asyncio.run(fetch_async(service, reader, method, scope="scope:read"))
    check_token_response(token, ["scope:read"])


def test_oauth2session_client_without_scopes_gets_no_scope_member(service, scopeless):
    """DESIGN.md: `scope` is omitted from the response when the token has none."""
    token = fetch_sync(service, scopeless, "client_secret_basic", scope=None)
    check_token_response(token, [])


def test_oauth2session_unknown_scope_is_invalid_scope(service, reader):
    with pytest.raises(OAuthError) as raised:
        fetch_sync(service, reader, "client_secret_post", scope="client:create")
    assert raised.value.error == "invalid_scope"


@pytest.mark.parametrize("method", METHODS)
def test_oauth2session_wrong_secret_is_invalid_client(service, reader, method):
    wrong = Client(reader.client_id, reader.client_secret + "x")
    with pytest.raises(OAuthError) as raised:
        fetch_sync(service, wrong, method, scope=None)
    assert raised.value.error == "invalid_client"


@pytest.mark.parametrize("method", METHODS)
def test_oauth2session_root_secret_with_reserved_characters(service, root, registry_scopes, method):
    """The root secret contains '+', '/' and '%'. Authlib sends client_secret_basic
    credentials as they are (not form-encoded, unlike RFC 6749 §2.3.1 asks), and
    client_secret_post as form fields; both must authenticate."""
    token = fetch_sync(service, root, method, scope=None)
    check_token_response(token, registry_scopes)
