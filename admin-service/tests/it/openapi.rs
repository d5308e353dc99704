//! The OpenAPI description: generated from the handlers, it lists every admin endpoint.

use actix_web::http::{Method, StatusCode};
use auth_core::testing::Backend;

use crate::support::TestApp;

#[actix_web::test]
async fn openapi_describes_every_endpoint_with_bearer_security() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let reply = app.request(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let doc = &reply.body;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let mut paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/api/v1/oauth/audit",
            "/api/v1/oauth/client",
            "/api/v1/oauth/client/{id}",
            "/api/v1/oauth/client/{id}/revoke",
            "/api/v1/oauth/client/{id}/scope",
            "/api/v1/oauth/client/{id}/secret",
            "/api/v1/oauth/revocation",
            "/api/v1/oauth/scope",
            "/api/v1/oauth/scope/{name}",
            "/health/live",
            "/health/ready",
        ]
    );
    let client = &doc["paths"]["/api/v1/oauth/client"];
    for method in ["get", "post"] {
        assert!(
            client[method]["security"][0]["bearer"].is_array(),
            "{method} needs a bearer token"
        );
        assert!(client[method]["responses"]["401"].is_object());
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for schema in [
        "CreatedClient",
        "ClientView",
        "ErrorBody",
        "RotatedSecret",
        "AuditEntry",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
}
