//! Assertions every module shares, and the table of admin endpoints with their scopes.

use actix_web::http::Method;
use serde_json::{Value, json};

use super::Reply;

/// An error answer: this status, JSON `error` = `code`, a non-empty `error_description`.
#[track_caller]
pub fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status.as_u16(), status, "body: {}", reply.body);
    assert_eq!(reply.error(), code, "body: {}", reply.body);
    assert!(
        reply.body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "no error_description: {}",
        reply.body
    );
}

/// A 4xx in the JSON error shape (any code).
#[track_caller]
pub fn assert_client_error(reply: &Reply) {
    assert!(
        reply.status.is_client_error(),
        "expected a 4xx, got {}: {}",
        reply.status,
        reply.body
    );
    assert!(
        !reply.error().is_empty(),
        "no JSON error: {} {}",
        reply.status,
        reply.body
    );
    assert!(
        reply.body["error_description"].is_string(),
        "{}",
        reply.body
    );
}

/// 401 `invalid_token` with its RFC 6750 challenge.
#[track_caller]
pub fn assert_invalid_token(reply: &Reply) {
    assert_error(reply, 401, "invalid_token");
    assert_eq!(
        reply.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );
}

/// 401 for a request without any credentials: a bare `Bearer` challenge, no error code
/// (RFC 6750 §3.1).
#[track_caller]
pub fn assert_missing_token(reply: &Reply) {
    assert_error(reply, 401, "invalid_token");
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
}

/// 403 `insufficient_scope` naming `scope` in the body and in the challenge.
#[track_caller]
pub fn assert_insufficient_scope(reply: &Reply, scope: &str) {
    assert_error(reply, 403, "insufficient_scope");
    assert_eq!(reply.body["scope"], scope, "{}", reply.body);
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(
        challenge.contains(&format!("scope=\"{scope}\"")),
        "{challenge}"
    );
}

/// 403 refusing to grant exactly `missing`.
#[track_caller]
pub fn assert_escalation(reply: &Reply, missing: &[&str]) {
    assert_error(reply, 403, "insufficient_scope");
    assert_eq!(
        reply.body["missing_scopes"],
        json!(missing),
        "{}",
        reply.body
    );
}

/// Neither a secret field, a bcrypt hash, nor any of `secrets` appears in `body`.
#[track_caller]
pub fn assert_no_secret(body: &Value, secrets: &[&str]) {
    let text = body.to_string();
    for field in [
        "client_secret",
        "secret_hash",
        "previous_secret_hash",
        "hash",
    ] {
        assert!(!text.contains(&format!("\"{field}\"")), "{field} in {text}");
    }
    assert!(
        !text.contains("$2b$") && !text.contains("$2a$") && !text.contains("$2y$"),
        "a bcrypt hash in {text}"
    );
    for secret in secrets {
        assert!(!text.contains(secret), "a secret in {text}");
    }
}

/// One admin endpoint: how to call it plausibly, and the scope it needs.
pub struct Endpoint {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
    pub scope: &'static str,
}

/// Every admin endpoint, those with a client id aimed at `client_id`.
pub fn endpoints(client_id: &str) -> Vec<Endpoint> {
    let client = format!("/api/v1/oauth/client/{client_id}");
    let at = |method: Method, path: &str, body: Option<Value>, scope: &'static str| Endpoint {
        method,
        path: path.to_owned(),
        body,
        scope,
    };
    vec![
        at(
            Method::POST,
            "/api/v1/oauth/client",
            Some(json!(["client:read"])),
            "client:create",
        ),
        at(Method::GET, "/api/v1/oauth/client", None, "client:read"),
        at(Method::GET, &client, None, "client:read"),
        at(Method::DELETE, &client, None, "client:delete"),
        at(Method::GET, &format!("{client}/scope"), None, "client:read"),
        at(
            Method::PUT,
            &format!("{client}/scope"),
            Some(json!(["client:read"])),
            "client:update",
        ),
        at(
            Method::POST,
            &format!("{client}/secret"),
            None,
            "client:update",
        ),
        at(
            Method::GET,
            &format!("{client}/limits"),
            None,
            "client:read",
        ),
        at(
            Method::PUT,
            &format!("{client}/limits"),
            Some(json!({"tokens_per_minute": 10})),
            "client:update",
        ),
        at(Method::GET, "/api/v1/oauth/scope", None, "scope:read"),
        at(Method::GET, "/api/v1/oauth/scopes", None, "scope:read"),
        at(
            Method::POST,
            "/api/v1/oauth/scope",
            Some(json!({"name": "reports:read"})),
            "scope:create_or_update",
        ),
        at(
            Method::DELETE,
            "/api/v1/oauth/scope/reports:read",
            None,
            "scope:delete",
        ),
        at(
            Method::POST,
            &format!("{client}/revoke"),
            None,
            "token:revoke",
        ),
        at(
            Method::POST,
            "/api/v1/oauth/revocation",
            Some(json!({"jti": "AAAAAAAAAAAAAAAAAAAAAA", "client_id": client_id})),
            "token:revoke",
        ),
        at(Method::GET, "/api/v1/oauth/audit", None, "audit:read"),
        at(
            Method::PUT,
            &format!("{client}/keys"),
            Some(json!({"keys": []})),
            "client:update",
        ),
        at(
            Method::PUT,
            &format!("{client}/identities"),
            Some(json!([])),
            "client:update",
        ),
        at(
            Method::POST,
            "/api/v1/oauth/issuer",
            Some(json!({"issuer": "https://issuer.test", "jwks_uri": "https://issuer.test/jwks"})),
            "federation:create_or_update",
        ),
        at(Method::GET, "/api/v1/oauth/issuer", None, "federation:read"),
        at(
            Method::GET,
            "/api/v1/oauth/issuer/iss_unknown",
            None,
            "federation:read",
        ),
        at(
            Method::DELETE,
            "/api/v1/oauth/issuer/iss_unknown",
            None,
            "federation:delete",
        ),
    ]
}
