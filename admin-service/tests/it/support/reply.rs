//! `Reply`, a response read whole, and `Raw`, a request body with its content type.

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use serde_json::Value;

/// A response, read whole. `body` is `Null` when empty and a JSON string when not JSON.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }

    /// `access_token` of a token-service answer.
    pub fn token(&self) -> &str {
        self.body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access token in {} {}", self.status, self.body))
    }

    /// `client_id` of a create answer.
    pub fn client_id(&self) -> &str {
        self.body["client_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no client_id in {} {}", self.status, self.body))
    }

    /// `client_secret` of a create or rotate answer.
    pub fn secret(&self) -> &str {
        self.body["client_secret"]
            .as_str()
            .unwrap_or_else(|| panic!("no client_secret in {} {}", self.status, self.body))
    }

    /// The `client_id`s of a client listing, in order.
    pub fn item_ids(&self) -> Vec<String> {
        self.items()
            .iter()
            .map(|c| c["client_id"].as_str().unwrap().to_owned())
            .collect()
    }

    pub fn items(&self) -> &Vec<Value> {
        self.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items in {} {}", self.status, self.body))
    }

    /// The strings of a bare JSON array.
    pub fn strings(&self) -> Vec<String> {
        strings(&self.body)
    }

    /// The strings of the JSON array at `field`.
    pub fn strings_at(&self, field: &str) -> Vec<String> {
        strings(&self.body[field])
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

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
