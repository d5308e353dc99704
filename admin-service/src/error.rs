//! admin-service errors: one variant per answer, each with its status and a fixed text.
//!
//! Bodies are `{"error", "error_description"}` plus, where useful, the scopes concerned.
//! Unexpected errors are logged with an id and answered with that id only.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use auth_core::changes::ChangeError;
use auth_core::limits::LimitReached;
use auth_core::scopes::Scope;
use auth_core::store::StoreError;
use auth_core::store::federation::{BindError, Identity};
use serde_json::{Map, Value, json};

use crate::federation::Invalid;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {description}")]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    description: String,
    challenge: Option<String>,
    /// `Retry-After` seconds of a 429.
    retry_after: Option<u64>,
    extra: Map<String, Value>,
}

fn names(scopes: &[Scope]) -> Vec<&str> {
    scopes.iter().map(Scope::as_str).collect()
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            challenge: None,
            retry_after: None,
            extra: Map::new(),
        }
    }

    fn with(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }

    /// No bearer token at all: a challenge without an error code (RFC 6750 §3.1).
    pub fn missing_token() -> Self {
        Self {
            challenge: Some("Bearer".into()),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "this endpoint needs a bearer token (Authorization: Bearer <token>)",
            )
        }
    }

    /// Malformed, badly signed, expired or revoked bearer token.
    pub fn invalid_token() -> Self {
        Self {
            challenge: Some("Bearer error=\"invalid_token\"".into()),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the access token is missing, malformed, expired or revoked",
            )
        }
    }

    /// A valid token without the endpoint's scope (RFC 6750 §3.1).
    pub fn insufficient_scope(scope: &str) -> Self {
        Self {
            challenge: Some(format!(
                "Bearer error=\"insufficient_scope\", scope=\"{scope}\""
            )),
            ..Self::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("this endpoint requires the scope {scope}"),
            )
        }
        .with("scope", json!(scope))
    }

    /// The caller tried to grant (or take over) scopes it does not hold.
    pub fn escalation(missing: &[Scope]) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!(
                "the caller does not hold, so cannot grant: {}",
                names(missing).join(", ")
            ),
        )
        .with("missing_scopes", json!(names(missing)))
    }

    pub fn unknown_scopes(unknown: &[String]) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_scope",
            format!("unknown scopes: {}", unknown.join(", ")),
        )
        .with("unknown_scopes", json!(unknown))
    }

    /// A client's audiences, keys or identities that cannot be taken (RFC 7591 §3.2.2).
    pub fn invalid_client_metadata(invalid: Invalid) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_client_metadata",
            invalid.0,
        )
    }

    /// A trusted issuer's value, keys or audiences that cannot be taken.
    pub fn invalid_issuer_metadata(invalid: Invalid) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_issuer_metadata",
            invalid.0,
        )
    }

    /// Identities naming issuers that are not registered.
    pub fn unknown_issuers(unknown: &[String]) -> Self {
        let shown: Vec<String> = unknown
            .iter()
            .map(|iss| iss.chars().take(200).collect())
            .collect();
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_client_metadata",
            format!(
                "unknown issuers (register them first): {}",
                shown.join(", ")
            ),
        )
        .with("unknown_issuers", json!(shown))
    }

    /// Identities bound to another client already.
    pub fn identities_taken(taken: &[Identity]) -> Self {
        let listed: Vec<String> = taken
            .iter()
            .map(|identity| format!("{} {}", identity.issuer, identity.subject))
            .collect();
        let taken: Vec<Value> = taken
            .iter()
            .map(|identity| json!({"issuer": identity.issuer, "subject": identity.subject}))
            .collect();
        Self::new(
            StatusCode::CONFLICT,
            "conflict",
            format!(
                "identities bound to another client already: {}",
                listed.join(", ")
            ),
        )
        .with("taken_identities", json!(taken))
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "the request body must be application/json",
        )
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            format!("the request body exceeds {limit} bytes"),
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }

    pub fn conflict(description: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", description)
    }

    pub fn root_immutable() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "root_client_immutable",
            "the root client is configured in the environment and cannot be changed through the API",
        )
    }

    /// The caller reached one of its per-client limits (429, the limit named).
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

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the service is temporarily unavailable, retry later",
        )
    }

    pub fn internal(error: &dyn std::error::Error) -> Self {
        let id = auth_core::ids::random_id();
        let source = error.source().map(ToString::to_string);
        tracing::error!(error_id = %id, error = %error, source, "unexpected error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            format!("an unexpected error occurred (id {id})"),
        )
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<ChangeError> for ApiError {
    fn from(error: ChangeError) -> Self {
        match error {
            ChangeError::NotFound => Self::not_found("client"),
            ChangeError::Escalation(unheld) => Self::escalation(&unheld),
            ChangeError::IssuerNotFound => Self::not_found("trusted issuer"),
            ChangeError::IssuerExists => {
                Self::conflict("an issuer with this issuer value is registered already")
            }
            ChangeError::Identities(BindError::UnknownIssuers(unknown)) => {
                Self::unknown_issuers(&unknown)
            }
            ChangeError::Identities(BindError::Taken(taken)) => Self::identities_taken(&taken),
            ChangeError::Store(error) => error.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if error.is_unavailable() {
            tracing::warn!(error = %error, "database unavailable");
            Self::unavailable()
        } else {
            Self::internal(&error)
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if let Some(challenge) = self
            .challenge
            .as_deref()
            .and_then(|c| HeaderValue::from_str(c).ok())
        {
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds));
        } else if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
        }
        let mut body = self.extra.clone();
        body.insert("error".into(), json!(self.code));
        body.insert("error_description".into(), json!(self.description));
        response.json(Value::Object(body))
    }
}
