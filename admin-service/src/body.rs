//! Request bodies and query strings, read only after authentication and scope checks.
//!
//! Handlers take the raw payload and call [`read_json`] once the caller is known, so a
//! wrong token gets its 401/403 even when the body is also invalid.

use actix_web::http::header::{self, HeaderMap};
use actix_web::web;
use futures_util::StreamExt as _;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest JSON body accepted.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// Reads the body; `Ok(None)` when it is empty.
pub async fn read_optional_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    mut payload: web::Payload,
) -> Result<Option<T>, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::invalid_request("the request body could not be read"))?;
        if body.len() + chunk.len() > MAX_JSON_BYTES {
            return Err(ApiError::payload_too_large(MAX_JSON_BYTES));
        }
        body.extend_from_slice(&chunk);
    }
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
        .map_err(|error| ApiError::invalid_request(format!("the JSON body is invalid: {error}")))
}

/// Reads a body that must be a JSON object (serde would also accept an array for a struct).
pub async fn read_optional_object<T: DeserializeOwned>(
    headers: &HeaderMap,
    payload: web::Payload,
) -> Result<Option<T>, ApiError> {
    let Some(value) = read_optional_json::<serde_json::Value>(headers, payload).await? else {
        return Ok(None);
    };
    if !value.is_object() {
        return Err(ApiError::invalid_request("the JSON body must be an object"));
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|error| ApiError::invalid_request(format!("the JSON body is invalid: {error}")))
}

/// Reads a JSON object body that must be present.
pub async fn read_object<T: DeserializeOwned>(
    headers: &HeaderMap,
    payload: web::Payload,
) -> Result<T, ApiError> {
    read_optional_object(headers, payload)
        .await?
        .ok_or_else(|| ApiError::invalid_request("a JSON body is required"))
}

/// Reads a body that must be present.
pub async fn read_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    payload: web::Payload,
) -> Result<T, ApiError> {
    read_optional_json(headers, payload)
        .await?
        .ok_or_else(|| ApiError::invalid_request("a JSON body is required"))
}

/// `?page=P&size=S`: 1-based page, 1 to 100 items (default 50).
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub page: i64,
    pub size: i64,
}

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
                "page" => page.page = number(1_000_000)?,
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
