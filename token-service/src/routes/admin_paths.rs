//! Admin API paths that reach the token service: `/api/v1/oauth/*` other than the token
//! endpoints, and admin-service's console (`/console`), which the gateway
//! (deploy/gateway/nginx.conf) sends to admin-service.
//!
//! fidesops served the token and admin APIs under one base URL. Without a gateway, with
//! `ADMIN_API_URL` set (`scripts/run` does), the token service forwards these paths to
//! admin-service itself, so a fidesops script pointed at the token service works unchanged;
//! admin-service still authenticates and authorizes every request. Without it, the answer
//! is a 404 that says where the admin API lives.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName};
use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::http::{self, BodyError};
use serde_json::json;

use crate::state::AppState;

/// The largest admin request body forwarded (admin-service's own limit).
const MAX_BODY_BYTES: usize = 64 * 1024;
/// How long admin-service may take to answer a forwarded request.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// Request headers forwarded to admin-service; nothing else (no cookies, no hop-by-hop).
const REQUEST_HEADERS: [HeaderName; 5] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    header::ACCEPT,
    header::IF_NONE_MATCH,
    HeaderName::from_static("x-request-id"),
];
/// Response headers passed back to the caller (the console's security headers included).
const RESPONSE_HEADERS: [HeaderName; 11] = [
    header::CONTENT_TYPE,
    header::WWW_AUTHENTICATE,
    header::RETRY_AFTER,
    header::CACHE_CONTROL,
    header::ALLOW,
    header::ETAG,
    header::CONTENT_SECURITY_POLICY,
    header::X_CONTENT_TYPE_OPTIONS,
    header::REFERRER_POLICY,
    header::X_FRAME_OPTIONS,
    HeaderName::from_static("x-request-id"),
];

/// Forwards requests to admin-service at one base URL.
#[derive(Debug, Clone)]
pub struct AdminGateway {
    base: String,
    http: reqwest::Client,
}

impl AdminGateway {
    pub fn new(base: &str) -> Result<Self, reqwest::Error> {
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
        })
    }
}

/// Every method on an admin path: forwarded when a gateway is configured, else a 404
/// naming admin-service.
pub async fn admin_path(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let Some(gateway) = &state.admin_gateway else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            "this path belongs to the admin API, which admin-service serves (ADMIN_SERVICE_ADDR, \
             default 127.0.0.1:8081), not token-service; behind the gateway, or with \
             ADMIN_API_URL set as scripts/run does, one base URL serves both",
        );
    };
    let body = match read_body(payload).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    match forward(gateway, &request, body).await {
        Ok(response) => response,
        Err(error) => {
            tracing::warn!(%error, "forwarding to admin-service failed");
            error_with_retry(
                "the admin API (ADMIN_API_URL) cannot be reached right now, retry later",
            )
        }
    }
}

async fn forward(
    gateway: &AdminGateway,
    request: &HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, reqwest::Error> {
    let uri = request.uri();
    let target = format!(
        "{}{}",
        gateway.base,
        uri.path_and_query().map_or(uri.path(), |p| p.as_str())
    );
    let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes())
        .unwrap_or(reqwest::Method::GET);
    let mut outgoing = gateway.http.request(method, target).body(body);
    for name in &REQUEST_HEADERS {
        for value in request.headers().get_all(name) {
            outgoing = outgoing.header(name.as_str(), value.as_bytes());
        }
    }
    if let Some(peer) = request.peer_addr() {
        outgoing = outgoing.header("x-forwarded-for", peer.ip().to_string());
    }
    let answer = outgoing.send().await?;
    let mut response = HttpResponse::build(
        StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY),
    );
    for name in &RESPONSE_HEADERS {
        if let Some(value) = answer.headers().get(name.as_str())
            && let Ok(value) = header::HeaderValue::from_bytes(value.as_bytes())
        {
            response.insert_header((name.clone(), value));
        }
    }
    Ok(response.body(answer.bytes().await?))
}

/// The whole body, or the answer refusing it (too large, or unreadable).
async fn read_body(payload: web::Payload) -> Result<web::Bytes, HttpResponse> {
    http::read_body(payload, MAX_BODY_BYTES)
        .await
        .map_err(|refused| match refused {
            BodyError::Unreadable => error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the request body could not be read",
            ),
            BodyError::TooLarge(limit) => error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                &format!("the request body is larger than {limit} bytes"),
            ),
        })
}

fn error(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": code, "error_description": description }))
}

fn error_with_retry(description: &str) -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .insert_header((header::RETRY_AFTER, "1"))
        .json(json!({ "error": "temporarily_unavailable", "error_description": description }))
}
