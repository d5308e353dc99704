//! The token endpoint's errors: RFC 6749 §5.2 codes with an explicit status each.
//!
//! Every body is `{"error", "error_description"}`; descriptions are fixed texts written
//! here, never a database message, a secret or a token.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use auth_core::limits::LimitReached;
use auth_core::limits::window::Blocked;
use serde::Serialize;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    status: StatusCode,
    code: &'static str,
    description: Cow<'static, str>,
    challenge: bool,
    retry_after: Option<u64>,
}

/// The error body of every 4xx and 5xx answer (RFC 6749 §5.2).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    pub error: &'a str,
    pub error_description: &'a str,
}

impl OAuthError {
    fn new(
        status: StatusCode,
        code: &'static str,
        description: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            challenge: false,
            retry_after: None,
        }
    }

    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// Unknown client, wrong secret, malformed or missing credentials: one answer for all.
    pub fn invalid_client() -> Self {
        Self {
            challenge: true,
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
            )
        }
    }

    pub fn unsupported_grant_type() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only grant_type=client_credentials is supported",
        )
    }

    pub fn unauthorized_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unauthorized_client", description)
    }

    /// A `resource` (RFC 8707 §2) that is not an absolute URI, or not one of the client's
    /// audiences.
    pub fn invalid_target(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_target", description)
    }

    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", description)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            format!("the request body exceeds {limit} bytes"),
        )
    }

    pub fn temporarily_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the service is temporarily unavailable, retry later",
        )
    }

    /// Too many failed authentications for this client id or address (429).
    pub fn rate_limited(blocked: Blocked) -> Self {
        Self {
            retry_after: Some(blocked.retry_after_secs()),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many failed authentication attempts; retry later",
            )
        }
    }

    /// The client reached one of its per-client limits (429, the limit named).
    pub fn limit_reached(reached: &LimitReached) -> Self {
        Self {
            retry_after: Some(reached.retry_after_secs()),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                reached.description(),
            )
        }
    }

    pub fn server_error() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "an unexpected error occurred",
        )
    }

    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl From<crate::client_auth::AuthenticateError> for OAuthError {
    fn from(error: crate::client_auth::AuthenticateError) -> Self {
        match error {
            crate::client_auth::AuthenticateError::Store(error) => error.into(),
            crate::client_auth::AuthenticateError::RateLimited(wait) => {
                tracing::info!("client authentication rate-limited");
                Self::rate_limited(wait)
            }
            crate::client_auth::AuthenticateError::Busy => {
                tracing::warn!(
                    "secret verification queue full, or assertions cannot be recorded; shedding a request"
                );
                Self::temporarily_unavailable()
            }
        }
    }
}

impl From<auth_core::store::StoreError> for OAuthError {
    fn from(error: auth_core::store::StoreError) -> Self {
        if error.is_unavailable() {
            tracing::warn!(error = %error, "database unavailable");
            Self::temporarily_unavailable()
        } else {
            tracing::error!(error = %error, "store error");
            Self::server_error()
        }
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")));
        if self.challenge {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"oauth\", charset=\"UTF-8\""),
            ));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds));
        } else if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
        }
        response.json(ErrorBody {
            error: self.code,
            error_description: &self.description,
        })
    }
}
