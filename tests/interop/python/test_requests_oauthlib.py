"""requests-oauthlib (https://requests-oauthlib.readthedocs.io): the "backend application"
flow, BackendApplicationClient + OAuth2Session.fetch_token. By default it sends the client
credentials in a Basic header built by requests' HTTPBasicAuth, *without* form-encoding
them first (RFC 6749 §2.3.1 asks for it); include_client_id=True sends them in the form."""

from __future__ import annotations

from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session

from conftest import TIMEOUT, Client, Service, check_token_response


def fetch(service: Service, client: Client, scope: list[str] | None, in_form: bool = False) -> dict:
    session = OAuth2Session(client=BackendApplicationClient(client_id=client.client_id, scope=scope))
    return dict(
        session.fetch_token(
            token_url=service.token_endpoint,
            client_id=client.client_id,
            client_secret=client.client_secret,
            include_client_id=True if in_form else None,
            timeout=TIMEOUT,
        )
    )


def test_basic_without_scope_gets_all_client_scopes(service, reader):
    check_token_response(fetch(service, reader, scope=None), reader.scopes)


def test_basic_with_scope_gets_that_subset(service, reader):
    check_token_response(fetch(service, reader, scope=["client:read"]), ["client:read"])


def test_form_credentials_with_scope(service, reader):
    check_token_response(
        fetch(service, reader, scope=["scope:read"], in_form=True), ["scope:read"]
    )


def test_basic_root_secret_with_reserved_characters(service, root, registry_scopes):
    """The root secret contains '+', '/' and '%': requests-oauthlib puts it in the Basic
    header raw, and the service must still authenticate it."""
    check_token_response(fetch(service, root, scope=None), registry_scopes)


def test_form_root_secret_with_reserved_characters(service, root, registry_scopes):
    check_token_response(fetch(service, root, scope=None, in_form=True), registry_scopes)
