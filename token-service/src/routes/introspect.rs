//! `POST /api/v1/oauth/introspect`: token state for services that cannot verify JWTs (RFC 7662).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::ids::TokenId;
use auth_core::resource::AuthError;
use auth_core::time::Timestamp;
use serde::Serialize;

use crate::error::{ErrorBody, OAuthError};
use crate::state::AppState;

/// RFC 7662 §2.2. Inactive tokens carry nothing but `active: false`.
#[derive(Serialize, Default, utoipa::ToSchema)]
pub struct Introspection {
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// A string, or an array when the token was issued for several audiences.
    #[schema(value_type = Option<Object>)]
    aud: Option<auth_core::token::Audience>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    jti: Option<TokenId>,
}

/// Whether a token is active, for an authenticated client.
#[utoipa::path(post, path = "/api/v1/oauth/introspect", tag = "tokens",
    request_body(content = super::revoke::TokenParamsForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "the token's state; only `active: false` for a token that is not", body = Introspection),
        (status = 400, description = "invalid_request: not a form, no token, a repeated parameter, or two client authentication methods", body = ErrorBody),
        super::openapi::ClientAuthErrors,
    ),
    security((), ("basic" = [])))]
pub async fn introspect(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let now = Timestamp::now();
    let (_caller, token) = super::token_caller(&request, payload, &state, now).await?;

    // The same verification as every other verifier's (auth_core::resource).
    let answer = match state.foundation.bearer.authenticate(&token).await {
        Err(AuthError::Unavailable) => return Err(OAuthError::temporarily_unavailable()),
        Err(_) => Introspection::default(),
        Ok(verified) => {
            let claims = verified.claims.clone();
            Introspection {
                active: true,
                scope: (!claims.scope.is_empty()).then_some(claims.scope),
                client_id: Some(claims.client_id),
                sub: Some(claims.sub),
                token_type: Some("Bearer"),
                exp: Some(claims.exp),
                iat: Some(claims.iat),
                iss: Some(claims.iss),
                aud: Some(claims.aud),
                jti: Some(claims.jti),
            }
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(answer))
}
