//! Request bodies, read only after authentication and scope checks (the listings' query
//! string is `crate::listing`'s).
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
/// match any variant", "expected struct ...") are replaced by the shapes alone, and a
/// number type ("expected u32") is said in words.
fn typed<T: DeserializeOwned>(value: Value, shape: &str) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|error| {
        let detail = plain_number_types(&error.to_string());
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

/// A whole number (`deserialize_with`): `60.0` is 60 (JSON Schema's `integer` includes it),
/// and a number too large for `i64` is still a number, for the caller's range check to
/// refuse.
pub fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    use serde::Deserialize as _;
    let number = serde_json::Number::deserialize(deserializer)?;
    if let Some(n) = number.as_i64() {
        return Ok(n);
    }
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 => Ok(f.clamp(-1e18, 1e18) as i64),
        _ => Err(serde::de::Error::custom(format!(
            "invalid value: {number}, expected a whole number"
        ))),
    }
}

/// [`whole_number`], or `null`.
pub fn optional_whole_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    use serde::Deserialize as _;
    #[derive(serde::Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_number")] i64);
    Ok(Option::<Whole>::deserialize(deserializer)?.map(|Whole(n)| n))
}

/// serde's message with Rust's number types ("expected u32") said in words.
fn plain_number_types(detail: &str) -> String {
    const WORDS: [(&str, &str); 3] = [
        ("u", "a whole number, 0 or more"),
        ("i", "a whole number"),
        ("f", "a number"),
    ];
    let mut plain = detail.to_owned();
    for (prefix, words) in WORDS {
        for bits in ["8", "16", "32", "64", "128", "size"] {
            plain = plain.replace(
                &format!("expected {prefix}{bits}"),
                &format!("expected {words}"),
            );
        }
    }
    plain
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

/// Reads a body that must be a JSON array of objects `T` (empty: none).
pub async fn read_array<T: Body>(
    headers: &HeaderMap,
    payload: web::Payload,
) -> Result<Vec<T>, ApiError> {
    match read_value(headers, payload).await? {
        None => Err(missing(T::SHAPE)),
        Some(Value::Array(items)) if items.iter().all(Value::is_object) => {
            typed(Value::Array(items), T::SHAPE)
        }
        Some(_) => Err(wrong_shape(T::SHAPE)),
    }
}

/// A member that is an object `T` (`deserialize_with`): serde's derive would also take a
/// struct from an array of its fields' values, a shape no endpoint documents.
pub fn object<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    use serde::Deserialize as _;
    use serde::de::Error as _;
    match Value::deserialize(deserializer)? {
        value @ Value::Object(_) => serde_json::from_value(value).map_err(D::Error::custom),
        _ => Err(D::Error::custom("invalid type: expected a JSON object")),
    }
}

/// [`object`], or absent or `null`.
pub fn optional_object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    use serde::Deserialize as _;
    #[derive(serde::Deserialize)]
    #[serde(bound = "T: DeserializeOwned")]
    struct Object<T>(#[serde(deserialize_with = "object")] T);
    Ok(Option::<Object<T>>::deserialize(deserializer)?.map(|Object(inner)| inner))
}

/// A list of objects `T` (`deserialize_with`; see [`object`]).
pub fn objects<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    use serde::Deserialize as _;
    #[derive(serde::Deserialize)]
    #[serde(bound = "T: DeserializeOwned")]
    struct Object<T>(#[serde(deserialize_with = "object")] T);
    Ok(Vec::<Object<T>>::deserialize(deserializer)?
        .into_iter()
        .map(|Object(inner)| inner)
        .collect())
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

#[cfg(test)]
mod tests {
    use super::plain_number_types;

    #[test]
    fn number_types_are_said_in_words() {
        assert_eq!(
            plain_number_types("invalid value: integer `-1`, expected u32"),
            "invalid value: integer `-1`, expected a whole number, 0 or more"
        );
        assert_eq!(
            plain_number_types("invalid type: string \"x\", expected i64"),
            "invalid type: string \"x\", expected a whole number"
        );
        assert_eq!(plain_number_types("expected f64"), "expected a number");
        assert_eq!(plain_number_types("unknown field `x`"), "unknown field `x`");
    }
}
