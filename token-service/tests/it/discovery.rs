//! JWKS, RFC 8414 metadata, health, and answers while the database is down.

use actix_web::http::StatusCode;
use auth_core::scopes::DEFAULT_SCOPES;
use auth_core::testing::Backend;
use auth_core::testing::http::openapi_paths;

use crate::support::{ISSUER, TestApp, on_both_backends};

on_both_backends!(
    jwks_publishes_the_signing_key,
    metadata_describes_the_service,
    health_reports_the_database,
    openapi_describes_every_endpoint
);

async fn jwks_publishes_the_signing_key(app: TestApp) {
    let reply = app.get("/.well-known/jwks.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("application/jwk-set+json")
    );
    let expected = serde_json::to_value(app.verifier.jwks()).unwrap();
    assert_eq!(reply.body, expected);
    let key = &reply.body["keys"][0];
    assert_eq!(key["use"], "sig");
    assert!(key.get("d").is_none(), "never the private part");
}

async fn metadata_describes_the_service(app: TestApp) {
    let reply = app.get("/.well-known/oauth-authorization-server").await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = &reply.body;
    assert_eq!(body["issuer"], ISSUER);
    assert_eq!(
        body["token_endpoint"],
        format!("{ISSUER}/api/v1/oauth/token")
    );
    assert_eq!(body["jwks_uri"], format!("{ISSUER}/.well-known/jwks.json"));
    assert_eq!(
        body["grant_types_supported"],
        serde_json::json!(["client_credentials"])
    );
    assert_eq!(
        body["scopes_supported"].as_array().unwrap().len(),
        DEFAULT_SCOPES.len()
    );
}

async fn health_reports_the_database(app: TestApp) {
    let live = app.get("/health/live").await;
    assert_eq!(live.status, StatusCode::OK);
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(ready.body["checks"]["database"], "up");
}

#[actix_web::test]
async fn database_down_answers_503_and_not_ready() {
    // A server nobody listens on: the pool cannot connect.
    let down = TestApp::spawn_with(
        Backend::Sqlite,
        &[(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:9/none?connect_timeout=1",
        )],
    )
    .await
    .expect("spawn");
    let ready = down.get("/health/ready").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.body["checks"]["database"], "down");
    let (id, secret) = ("cid_anything", "ocs_anything");
    let token = down
        .token_form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .await;
    assert_eq!(
        token.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        token.body
    );
    assert_eq!(token.error(), "temporarily_unavailable");
    assert_eq!(token.header("retry-after"), Some("1"));
    assert!(
        !token.body.to_string().contains("127.0.0.1"),
        "no connection details in the body"
    );
}

async fn openapi_describes_every_endpoint(app: TestApp) {
    let reply = app.get("/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        openapi_paths(&reply.body),
        [
            "/.well-known/jwks.json",
            "/.well-known/oauth-authorization-server",
            "/api/v1/oauth/introspect",
            "/api/v1/oauth/revoke",
            "/api/v1/oauth/token",
            "/health/live",
            "/health/ready",
        ]
    );
    let token = &reply.body["paths"]["/api/v1/oauth/token"]["post"];
    assert!(token["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object());
    assert!(token["responses"]["401"].is_object());
    assert!(reply.body["components"]["schemas"]["TokenResponse"].is_object());
}
