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
use auth_core::token::Issue;
use serde::Serialize;

use crate::client_auth::AuthenticatedClient;
use crate::error::{ErrorBody, OAuthError};
use crate::request::{ClientAuth, TOKEN_PARAMS, TokenRequest, client_address, read_form};
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
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer` with `client_assertion`
    /// (RFC 7523 §2.2), instead of a secret.
    #[schema(nullable = false)]
    client_assertion_type: Option<String>,
    /// A JWS of at most 8 KiB: a `private_key_jwt` assertion signed by one of the client's
    /// keys, or a trusted platform's token for a workload bound to a client.
    #[schema(nullable = false, max_length = 8192)]
    client_assertion: Option<String>,
    /// RFC 8707: an audience the token is for (repeatable, at most 16); each the default
    /// audience or one the client is allowed, else 400 invalid_target.
    #[schema(nullable = false)]
    resource: Option<Vec<String>>,
}

/// Issues an access token to a client that authenticates with its secret
/// (client_secret_post or client_secret_basic, not both), a private_key_jwt assertion, or
/// a workload's platform token (a Kubernetes service-account token bound to the client).
#[utoipa::path(post, path = "/api/v1/oauth/token", tag = "tokens",
    request_body(content = TokenRequestForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "the token; Cache-Control: no-store", body = TokenResponse),
        (status = 400, description = "invalid_request (not a form, a missing grant_type, a repeated parameter, two client authentication methods), unsupported_grant_type, invalid_scope or invalid_target (a resource that is not an absolute URI or not allowed for the client)", body = ErrorBody),
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
    let address = client_address(&request, state.trust_x_forwarded_for);

    let client = match token_request.client {
        ClientAuth::Secret(credentials) => state
            .authenticator
            .authenticate(credentials.client_id, credentials.secret, address, now)
            .await?
            .ok_or_else(OAuthError::invalid_client)?,
        ClientAuth::Assertion {
            client_id,
            assertion,
        } => state
            .authenticator
            .authenticate_assertion(client_id, &assertion, address, now)
            .await?
            .map_err(|_| OAuthError::invalid_client())?,
    };
    request_telemetry::record_client(client.client_id.as_str());

    let granted = grant(&client.scopes, token_request.scope)?;
    let audiences = target(&client, token_request.resources, state.issuer.audience())?;
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
        .issue_with(&Issue {
            client_id: &client.client_id,
            scopes: &granted,
            now,
            state_at: client.state_at,
            audiences: Some(&audiences),
            expires_by: client.expires_by,
        })
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

/// The token's audiences (RFC 8707): those named by `resource`, each the default audience
/// or one the client is allowed (the root client: any absolute URI); none named: the
/// default. Repeats count once.
fn target(
    client: &AuthenticatedClient,
    resources: Vec<String>,
    default: &str,
) -> Result<Vec<String>, OAuthError> {
    let mut audiences: Vec<String> = Vec::with_capacity(resources.len());
    for resource in resources {
        if !auth_core::uri::is_absolute_uri(&resource) {
            return Err(OAuthError::invalid_target(
                "each resource must be an absolute URI without a fragment",
            ));
        }
        let allowed = resource == default || client.is_root || client.audiences.contains(&resource);
        if !allowed {
            return Err(OAuthError::invalid_target(
                "the client may not ask for a token for this resource",
            ));
        }
        if !audiences.contains(&resource) {
            audiences.push(resource);
        }
    }
    Ok(audiences)
}
