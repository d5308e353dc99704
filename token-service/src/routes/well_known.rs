//! Discovery: the JWKS (RFC 7517) and authorization-server metadata (RFC 8414).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use auth_core::store::registry;
use serde_json::json;

use crate::error::{ErrorBody, OAuthError};
use crate::state::AppState;

/// The public signing keys (RFC 7517), current and previous.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "discovery",
    responses((status = 200, description = "a JWK Set", content_type = "application/jwk-set+json")))]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        ))
        .body(state.jwks.clone())
}

/// Authorization server metadata (RFC 8414).
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "discovery",
    responses((status = 200, description = "RFC 8414 metadata"), (status = 503, body = ErrorBody)))]
pub async fn metadata(state: web::Data<AppState>) -> Result<HttpResponse, OAuthError> {
    let scopes = state.foundation.store.run(registry::all).await?;
    let issuer = &state.issuer_url;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        ))
        .json(json!({
            "issuer": issuer,
            "token_endpoint": format!("{issuer}/api/v1/oauth/token"),
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "revocation_endpoint": format!("{issuer}/api/v1/oauth/revoke"),
            "introspection_endpoint": format!("{issuer}/api/v1/oauth/introspect"),
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": [],
            // private_key_jwt covers workload identity too: the same form fields, with a
            // trusted platform's token as the assertion.
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["EdDSA", "Ed25519", "ES256", "RS256", "PS256"],
            "scopes_supported": scopes,
        })))
}
