//! `POST /console/token`: the console's sign-in, relayed to token-service.
//!
//! The console runs on admin-service's origin and its CSP allows connections to that
//! origin only; the token endpoint is token-service's. This relay forwards the sign-in
//! form (`grant_type`, `client_id`, `client_secret`, `scope`; nothing else) to
//! `{TOKEN_SERVICE_URL}/api/v1/oauth/token` and answers token-service's status and JSON
//! body as they are, so the browser sees exactly what a script would. Neither the form nor
//! the answer is ever logged or kept: the token lives in the page's memory only.
//!
//! It adds no power: the client authenticates at token-service as anywhere else (the same
//! brute-force limits and failure delay; token-service sees admin-service's address, or,
//! with `TRUST_X_FORWARDED_FOR`, the caller's address admin-service was reached from).

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::http::{BodyError, read_body};
use serde_json::json;

use crate::state::AppState;

/// The largest sign-in form accepted (token-service's own limit for forms).
const MAX_FORM_BYTES: usize = 16 * 1024;
/// How long token-service may take to answer.
const TIMEOUT: Duration = Duration::from_secs(15);
/// The form fields forwarded; any other is dropped (the console signs in with a secret).
const FIELDS: [&str; 4] = ["grant_type", "client_id", "client_secret", "scope"];

/// Posts sign-in forms to token-service's token endpoint.
#[derive(Debug, Clone)]
pub struct TokenRelay {
    token_endpoint: String,
    http: reqwest::Client,
}

impl TokenRelay {
    /// A relay to the token endpoint of token-service at `base` (`TOKEN_SERVICE_URL`).
    pub fn new(base: &str) -> Result<Self, reqwest::Error> {
        Ok(Self {
            token_endpoint: format!("{}/api/v1/oauth/token", base.trim_end_matches('/')),
            http: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
        })
    }
}

/// `POST /console/token` (`application/x-www-form-urlencoded`): token-service's answer.
pub async fn token(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "the sign-in form must be application/x-www-form-urlencoded",
        );
    }
    let body = match read_body(payload, MAX_FORM_BYTES).await {
        Ok(body) => body,
        Err(BodyError::TooLarge(limit)) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                &format!("the request body is larger than {limit} bytes"),
            );
        }
        Err(BodyError::Unreadable) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the request body could not be read",
            );
        }
    };
    let form: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            form_urlencoded::parse(&body).filter(|(name, _)| FIELDS.contains(&name.as_ref())),
        )
        .finish();
    match forward(&state.console_relay, &request, form).await {
        Ok(response) => response,
        Err(cause) => {
            // The error names the URL and the cause, never the form.
            tracing::warn!(error = %cause, "console sign-in: token-service unreachable");
            let mut response = error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the token service cannot be reached right now, retry later",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}

async fn forward(
    relay: &TokenRelay,
    request: &HttpRequest,
    form: String,
) -> Result<HttpResponse, reqwest::Error> {
    let mut outgoing = relay
        .http
        .post(&relay.token_endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(form);
    if let Some(peer) = request.peer_addr() {
        outgoing = outgoing.header("x-forwarded-for", peer.ip().to_string());
    }
    let answer = outgoing.send().await?;
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let retry_after = answer
        .headers()
        .get("retry-after")
        .and_then(|value| HeaderValue::from_bytes(value.as_bytes()).ok());
    let body = answer.bytes().await?;
    let mut response = HttpResponse::build(status);
    response
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(retry_after) = retry_after {
        response.insert_header((header::RETRY_AFTER, retry_after));
    }
    Ok(response.body(body))
}

/// An answer in the contract's error shape.
fn error(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "error": code, "error_description": description }))
}
