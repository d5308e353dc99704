//! HTTP helpers for the system tests: whole answers as JSON, token requests.

use crate::cluster::form;

/// An HTTP answer: status, headers and the body as JSON (`Null` when it is not JSON).
pub struct Reply {
    pub status: u16,
    pub headers: awc::http::header::HeaderMap,
    pub json: serde_json::Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends `request` with an optional body and reads the whole answer.
pub async fn call(request: awc::ClientRequest, body: Option<String>) -> Reply {
    let sent = match body {
        Some(body) => request.send_body(body).await,
        None => request.send().await,
    };
    let mut response = sent.unwrap();
    let bytes = response.body().await.unwrap();
    let mut headers = awc::http::header::HeaderMap::new();
    for (name, value) in response.headers() {
        headers.append(name.clone(), value.clone());
    }
    Reply {
        status: response.status().as_u16(),
        headers,
        json: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    }
}

/// A token-endpoint form request to `base` for client `id`.
pub fn token_request(
    http: &awc::Client,
    base: &str,
    id: &str,
    secret: &str,
) -> (awc::ClientRequest, String) {
    let request = http
        .post(format!("{base}/api/v1/oauth/token"))
        .insert_header(("content-type", "application/x-www-form-urlencoded"));
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ]);
    (request, body)
}
