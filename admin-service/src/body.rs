//! Request bodies and query strings, read only after authentication and scope checks.
//!
//! Handlers take the raw payload and read it once the caller is known, so a wrong token
//! gets its 401/403 even when the body is also invalid. A body of the wrong shape is a 400
//! that says which shapes the endpoint takes ([`Body::SHAPE`]), never a Rust type name.

use actix_web::http::header::{self, HeaderMap};
use actix_web::web;
use auth_core::http::{self, BodyError};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// Largest JSON body accepted.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// A JSON request body.
pub trait Body: DeserializeOwned {
    /// The shapes the endpoint takes, in words: it completes "the body must be ...".
    const SHAPE: &'static str;
}

/// The body of the fidesops scope endpoints: a bare array of scope names (fidesops' code
/// and tutorial) or an object `T` with a `scopes` field (its guide).
pub enum ScopesOr<T> {
    Scopes(Vec<String>),
    Object(T),
}

/// Reads the body as JSON; `Ok(None)` when it is empty or only whitespace.
async fn read_value(headers: &HeaderMap, payload: web::Payload) -> Result<Option<Value>, ApiError> {
    let body = http::read_body(payload, MAX_JSON_BYTES)
        .await
        .map_err(|error| match error {
            BodyError::Unreadable => {
                ApiError::invalid_request("the request body could not be read")
            }
            BodyError::TooLarge(limit) => ApiError::payload_too_large(limit),
        })?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v == "application/json" || v.ends_with("+json"));
    if !is_json {
        return Err(ApiError::unsupported_media_type());
    }
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|error| ApiError::invalid_request(format!("the body is not valid JSON: {error}")))
}

/// The 400 for a body that is none of the shapes `shape` describes.
fn wrong_shape(shape: &str) -> ApiError {
    ApiError::invalid_request(format!("the body must be {shape}"))
}

/// `value` as a `T`, or a 400 saying what was wrong and which shapes are taken. serde's
/// messages about fields and JSON types are kept (`unknown field `x``, `invalid type:
/// integer, expected a string`); those that name Rust types (an untagged enum's "did not
/// match any variant", "expected struct ...") are replaced by the shapes alone.
fn typed<T: DeserializeOwned>(value: Value, shape: &str) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|error| {
        let detail = error.to_string();
        if ["enum", "struct", "variant", "tuple"]
            .iter()
            .any(|word| detail.contains(word))
        {
            wrong_shape(shape)
        } else {
            ApiError::invalid_request(format!("{detail}; the body must be {shape}"))
        }
    })
}

/// The 400 for a missing body of shape `shape`.
pub fn missing(shape: &str) -> ApiError {
    ApiError::invalid_request(format!("a JSON body is required: {shape}"))
}

/// Reads a body that, when present, must be a JSON object `T`.
pub async fn read_optional_object<T: Body>(
    headers: &HeaderMap,
    payload: web::Payload,
) -> Result<Option<T>, ApiError> {
    match read_value(headers, payload).await? {
        None => Ok(None),
        Some(value @ Value::Object(_)) => typed(value, T::SHAPE).map(Some),
        Some(_) => Err(wrong_shape(T::SHAPE)),
    }
}

/// Reads a body that must be a JSON object `T`.
pub async fn read_object<T: Body>(
    headers: &HeaderMap,
    payload: web::Payload,
) -> Result<T, ApiError> {
    read_optional_object(headers, payload)
        .await?
        .ok_or_else(|| missing(T::SHAPE))
}

/// Reads a fidesops scopes body, when there is one: an array, or an object `T`.
pub async fn read_scopes<T: Body>(
    headers: &HeaderMap,
    payload: web::Payload,
) -> Result<Option<ScopesOr<T>>, ApiError> {
    match read_value(headers, payload).await? {
        None => Ok(None),
        Some(value @ Value::Array(_)) => typed(value, T::SHAPE).map(|s| Some(ScopesOr::Scopes(s))),
        Some(value @ Value::Object(_)) => typed(value, T::SHAPE).map(|o| Some(ScopesOr::Object(o))),
        Some(_) => Err(wrong_shape(T::SHAPE)),
    }
}

/// `?page=P&size=S`: 1-based page, 1 to 100 items (default 50). Documented as the query
/// parameters of the listings; keep the bounds below and in `from_query` the same.
#[derive(Debug, Clone, Copy, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// 1-based page number.
    #[param(minimum = 1, maximum = 1000000, default = 1, required = false)]
    pub page: i64,
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 50, required = false)]
    pub size: i64,
}

pub const MAX_PAGE: i64 = 1_000_000;
pub const MAX_PAGE_SIZE: i64 = 100;

impl Page {
    pub fn from_query(query: &str) -> Result<Self, ApiError> {
        let mut page = Self { page: 1, size: 50 };
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let number = |max: i64| {
                value
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| {
                        ApiError::invalid_request(format!(
                            "{name} must be a whole number from 1 to {max}"
                        ))
                    })
            };
            match name.as_ref() {
                "page" => page.page = number(MAX_PAGE)?,
                "size" => page.size = number(MAX_PAGE_SIZE)?,
                _ => {}
            }
        }
        Ok(page)
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.size
    }

    /// The fidesops (fastapi-pagination) envelope.
    pub fn envelope<T>(&self, items: Vec<T>, total: i64) -> crate::views::Paged<T> {
        crate::views::Paged {
            items,
            total,
            page: self.page,
            size: self.size,
            pages: (total + self.size - 1) / self.size,
        }
    }
}
