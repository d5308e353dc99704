//! `POST /api/v1/oauth/token`: the client-credentials grant (RFC 6749 §4.4).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::limits::Limited;
use auth_core::metrics::ReasonLabel;
use auth_core::request_telemetry;
use std::borrow::Cow;
use std::time::Instant;

use auth_core::scopes::Scope;
use auth_core::time::Timestamp;
use serde::Serialize;

use crate::error::{ErrorBody, OAuthError};
use crate::request::{TOKEN_PARAMS, TokenRequest, client_address, read_form};
use crate::state::AppState;

/// A successful token response (RFC 6749 §5.1).
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
    /// Omitted when the token has no scope (an empty string would read as one empty scope).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    scope: Option<&'a str>,
}

// Documentation only: `crate::request` parses the form.
/// The token request. An empty value counts as omitted, a repeated parameter is a 400, and
/// other parameters are ignored (at most 32 in all).
#[derive(utoipa::ToSchema)]
#[schema(max_properties = 32)]
#[allow(dead_code)]
pub struct TokenRequestForm {
    /// Missing: 400 invalid_request; another value: 400 unsupported_grant_type.
    #[schema(schema_with = super::openapi::grant_type)]
    grant_type: String,
    #[schema(schema_with = super::openapi::client_id)]
    client_id: Option<String>,
    #[schema(schema_with = super::openapi::client_secret)]
    client_secret: Option<String>,
    #[schema(schema_with = super::openapi::scope_list)]
    scope: Option<String>,
}

/// Issues an access token to a client that authenticates with its secret
/// (client_secret_post or client_secret_basic, not both).
#[utoipa::path(post, path = "/api/v1/oauth/token", tag = "tokens",
    request_body(content = TokenRequestForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "the token; Cache-Control: no-store", body = TokenResponse),
        (status = 400, description = "invalid_request (not a form, a missing grant_type, a repeated parameter, two client authentication methods), unsupported_grant_type or invalid_scope", body = ErrorBody),
        super::openapi::ClientAuthErrors,
    ),
    security((), ("basic" = [])))]
pub async fn issue(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let result = issue_token(request, payload, &state).await;
    match &result {
        Ok(_) => {
            state.foundation.metrics.tokens_issued.inc();
            request_telemetry::record_outcome("issued");
        }
        Err(error) => {
            state
                .foundation
                .metrics
                .tokens_refused
                .get_or_create(&ReasonLabel {
                    reason: error.code(),
                })
                .inc();
            request_telemetry::record_outcome(error.code());
        }
    }
    result
}

async fn issue_token(
    request: HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<HttpResponse, OAuthError> {
    // The token's issuance time is taken before the client is read, so a token built from
    // client data older than a revocation is always older than the revocation's cut-off.
    let now = Timestamp::now();
    let (form, basic) = read_form(&request, payload, TOKEN_PARAMS).await?;
    let token_request = TokenRequest::from_parts(form, basic)?;

    let client = state
        .authenticator
        .authenticate(
            token_request.client_id,
            token_request.secret,
            client_address(&request, state.trust_x_forwarded_for),
            now,
        )
        .await?
        .ok_or_else(OAuthError::invalid_client)?;
    request_telemetry::record_client(client.client_id.as_str());

    let granted = grant(&client.scopes, token_request.scope)?;
    if !client.is_root {
        state
            .foundation
            .usage
            .take(
                Limited::Tokens,
                client.client_id.as_str(),
                client.limits,
                Instant::now(),
            )
            .await
            .map_err(|reached| OAuthError::limit_reached(&reached))?;
    }
    let token = state
        .issuer
        .issue_from_state(&client.client_id, &granted, now, client.state_at)
        .map_err(|_| OAuthError::server_error())?;
    tracing::info!(client_id = %client.client_id, scopes = granted.len(), "token issued");

    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
        .json(TokenResponse {
            access_token: &token.access_token,
            token_type: "Bearer",
            expires_in: token.expires_in,
            scope: Some(token.claims.scope.as_str()).filter(|scope| !scope.is_empty()),
        }))
}

/// The scopes to grant: all of the client's (borrowed, no copy), or the requested subset
/// of them in registry order.
fn grant(allowed: &[Scope], requested: Option<Vec<Scope>>) -> Result<Cow<'_, [Scope]>, OAuthError> {
    let Some(requested) = requested else {
        return Ok(Cow::Borrowed(allowed));
    };
    if let Some(missing) = requested.iter().find(|scope| !allowed.contains(scope)) {
        return Err(OAuthError::invalid_scope(format!(
            "the client may not request the scope {missing}"
        )));
    }
    Ok(Cow::Owned(
        allowed
            .iter()
            .filter(|scope| requested.contains(scope))
            .cloned()
            .collect(),
    ))
}
