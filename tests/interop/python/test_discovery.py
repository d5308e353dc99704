"""RFC 8414 authorization server metadata at /.well-known/oauth-authorization-server,
checked field by field and with Authlib's RFC 8414 metadata validators."""

from __future__ import annotations

import pytest
import requests
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from conftest import TIMEOUT


@pytest.fixture(scope="module")
def metadata(service) -> dict:
    response = requests.get(service.metadata_url, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].split(";")[0].strip() == "application/json"
    return response.json()


def test_rfc8414_metadata_endpoints(service, metadata):
    # §3.3: the issuer must be identical to the one the metadata URL was built from.
    assert metadata["issuer"] == service.issuer
    base = service.issuer.rstrip("/")
    assert metadata["token_endpoint"] == f"{base}/api/v1/oauth/token"
    assert metadata["jwks_uri"] == f"{base}/.well-known/jwks.json"
    assert metadata["revocation_endpoint"] == f"{base}/api/v1/oauth/revoke"
    assert metadata["introspection_endpoint"] == f"{base}/api/v1/oauth/introspect"
    # The endpoints advertised are the ones that answer.
    assert requests.get(metadata["jwks_uri"], timeout=TIMEOUT).json()["keys"]


def test_rfc8414_metadata_capabilities(metadata, registry_scopes):
    assert "client_credentials" in metadata["grant_types_supported"]
    for member in (
        "token_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
    ):
        assert {"client_secret_basic", "client_secret_post"} <= set(metadata[member]), member
    # REQUIRED by RFC 8414 §2; this server has no authorization endpoint, so nothing in it.
    assert isinstance(metadata["response_types_supported"], list)
    assert "authorization_endpoint" not in metadata
    assert metadata["scopes_supported"] == registry_scopes


def test_authlib_rfc8414_validators_accept_metadata(metadata):
    """Every Authlib RFC 8414 validator but response_types_supported's, which insists on a
    non-empty list (a server with no authorization endpoint supports no response type; the
    member's presence is checked above)."""
    document = AuthorizationServerMetadata(metadata)
    for key in AuthorizationServerMetadata.REGISTRY_KEYS:
        if key == "response_types_supported":
            continue
        getattr(document, f"validate_{key}")()
