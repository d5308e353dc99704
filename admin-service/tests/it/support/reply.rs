//! `Reply`, a response read whole (shared with token-service's tests), and `Raw`, a
//! request body with its content type.

pub use auth_core::testing::http::Reply;
use serde_json::Value;

/// A request body with its content type.
pub struct Raw {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Raw {
    pub fn new(content_type: &str, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            content_type: content_type.to_owned(),
            bytes: bytes.into(),
        }
    }

    pub fn json(value: &Value) -> Self {
        Self::new("application/json", value.to_string())
    }
}
