//! HTTP helpers every crate's integration tests share: [`Reply`], a response read whole;
//! form bodies; a listener on a free port; and the checks both services' OpenAPI documents
//! and method handling get.

use std::collections::BTreeSet;
use std::net::TcpListener;

use awc::error::PayloadError;
use awc::http::StatusCode;
use awc::http::header::HeaderMap;
use futures_util::Stream;
use serde_json::Value;

/// A response, read whole. `body` is `Null` when empty and a JSON string when not JSON.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

/// Reads `response` whole (at most 4 MiB).
pub async fn read<S>(mut response: awc::ClientResponse<S>) -> Reply
where
    S: Stream<Item = Result<actix_web::web::Bytes, PayloadError>> + Unpin,
{
    let bytes = response
        .body()
        .limit(4 << 20)
        .await
        .unwrap_or_else(|error| panic!("response body: {error}"));
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Reply {
        status: response.status(),
        headers: response.headers().clone(),
        body,
    }
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
        self.field("access_token")
    }

    /// `client_id` of a create answer.
    pub fn client_id(&self) -> &str {
        self.field("client_id")
    }

    /// `client_secret` of a create or rotate answer.
    pub fn secret(&self) -> &str {
        self.field("client_secret")
    }

    fn field(&self, name: &str) -> &str {
        self.body[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in {} {}", self.status, self.body))
    }

    /// The `client_id`s of a client listing, in order.
    pub fn item_ids(&self) -> Vec<String> {
        self.items()
            .iter()
            .map(|c| c["client_id"].as_str().unwrap_or_default().to_owned())
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
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("not a string: {v}"))
                .to_owned()
        })
        .collect()
}

/// `application/x-www-form-urlencoded` of `pairs`.
pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// A listener on a free port of 127.0.0.1, and its base URL.
pub fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let port = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("local address: {e}"))
        .port();
    (listener, format!("http://127.0.0.1:{port}"))
}

/// The paths of an OpenAPI 3 document, sorted.
pub fn openapi_paths(doc: &Value) -> Vec<&str> {
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "not an OpenAPI 3 document"
    );
    let mut paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("no paths in the document"))
        .keys()
        .map(String::as_str)
        .collect();
    paths.sort_unstable();
    paths
}

/// Checks that every path of an OpenAPI document (at least `at_least` of them) answers a
/// method it does not serve with a JSON 405 `invalid_request` whose `Allow` header lists
/// exactly the methods the document lists for it. `send` sends that method to a path
/// template (filling in its parameters) and may check the reply further.
pub async fn assert_405_lists_documented_methods<F, Fut>(doc: &Value, at_least: usize, send: F)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Reply>,
{
    let paths = doc["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("no paths in the document"));
    assert!(paths.len() >= at_least, "{}", paths.len());
    for (template, operations) in paths {
        let documented: BTreeSet<String> = operations
            .as_object()
            .unwrap_or_else(|| panic!("{template}: no operations"))
            .keys()
            .filter(|key| *key != "parameters")
            .map(|method| method.to_ascii_uppercase())
            .collect();
        let reply = send(template.clone()).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{template}");
        assert_eq!(reply.error(), "invalid_request", "{template}");
        let allow: BTreeSet<String> = reply
            .header("allow")
            .unwrap_or_else(|| panic!("{template}: no Allow header"))
            .split(',')
            .map(|method| method.trim().to_owned())
            .collect();
        assert_eq!(allow, documented, "{template}");
    }
}
