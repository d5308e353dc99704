//! `POST /api/v1/oauth/revoke`: a client revokes one of its own tokens (RFC 7009).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use std::time::Instant;

use auth_core::changes::TokenRevocation;
use auth_core::limits::Limited;
use auth_core::time::Timestamp;

use crate::error::{ErrorBody, OAuthError};
use crate::state::AppState;

// Documentation only: `super::token_caller` parses the form.
/// The form of revocation and introspection (RFC 7009 §2.1, RFC 7662 §2.1). As at the token
/// endpoint, an empty value counts as omitted, a repeated parameter is a 400, and other
/// parameters are ignored (at most 32 in all).
#[derive(utoipa::ToSchema)]
#[schema(max_properties = 32)]
#[allow(dead_code)]
pub struct TokenParamsForm {
    /// The token concerned; one this service did not issue is simply unknown.
    #[schema(min_length = 1)]
    token: String,
    /// `access_token` or `refresh_token` (RFC 7009 §2.1): a hint the service may ignore,
    /// and does, so any value is accepted (the registry of hints is open).
    #[schema(nullable = false)]
    token_type_hint: Option<String>,
    #[schema(schema_with = super::openapi::client_id)]
    client_id: Option<String>,
    #[schema(schema_with = super::openapi::client_secret)]
    client_secret: Option<String>,
}

/// Revokes a token of the authenticated client. An unknown, invalid or expired token
/// answers 200 too (RFC 7009 §2.2); a token of another client is refused.
#[utoipa::path(post, path = "/api/v1/oauth/revoke", tag = "tokens",
    request_body(content = TokenParamsForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "revoked, or nothing to revoke"),
        (status = 400, description = "invalid_request (not a form, no token, a repeated parameter, two client authentication methods), or unauthorized_client for another client's token", body = ErrorBody),
        super::openapi::ClientAuthErrors,
    ),
    security((), ("basic" = [])))]
pub async fn revoke(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let now = Timestamp::now();
    let (caller, token) = super::token_caller(&request, payload, &state, now).await?;

    let Ok(verified) = state.foundation.bearer.verify(&token, now).await else {
        return Ok(done());
    };
    if verified.client_id != caller.client_id && !caller.is_root {
        return Err(OAuthError::unauthorized_client(
            "the token was not issued to this client",
        ));
    }
    // Each revocation is held by every verifier until the token expires: counted against
    // the caller's limit, so no client can grow that state without bound. Unknown, invalid
    // or expired tokens (answered above) store nothing and count nothing.
    if !caller.is_root {
        state
            .foundation
            .usage
            .take(
                Limited::Revocations,
                caller.client_id.as_str(),
                caller.limits,
                Instant::now(),
            )
            .await
            .map_err(|reached| OAuthError::limit_reached(&reached))?;
    }
    let revocation = TokenRevocation {
        jti: verified.claims.jti,
        client_id: verified.client_id,
        expires_at: verified.expires_at,
    };
    // The same door as admin-service's revocation; a client's own revocation is not audited.
    state
        .foundation
        .changes
        .revoke_token(&revocation, now, None)
        .await?;
    tracing::info!(client_id = %caller.client_id, "token revoked by its client");
    Ok(done())
}

fn done() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .finish()
}
