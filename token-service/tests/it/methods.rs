//! Every route answers a method it does not serve with a JSON 405 whose `Allow` header lists
//! the methods it does serve (RFC 9110 §15.5.6), the same ones the OpenAPI document lists;
//! admin API paths answer a 404 that says where the admin API lives.

use actix_web::http::StatusCode;
use auth_core::testing::Backend;
use auth_core::testing::http::assert_405_lists_documented_methods;

use crate::support::TestApp;

#[actix_web::test]
async fn every_route_answers_other_methods_with_405_and_allow() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let doc = app.get("/openapi.json").await.body;
    assert_405_lists_documented_methods(&doc, 7, |path| {
        let app = &app;
        async move { app.request_method("DELETE", &path).await }
    })
    .await;
}

#[actix_web::test]
async fn admin_paths_say_where_the_admin_api_lives() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    for (method, path) in [
        ("POST", "/api/v1/oauth/client"),
        ("GET", "/api/v1/oauth/client/cid_abc/scope"),
        ("GET", "/api/v1/oauth/scope"),
        ("GET", "/console"),
        ("GET", "/console/assets/app.js"),
    ] {
        let reply = app.request_method(method, path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(reply.error(), "not_found");
        let description = reply.body["error_description"].as_str().unwrap();
        assert!(description.contains("admin-service"), "{description}");
        assert!(description.contains("ADMIN_API_URL"), "{description}");
    }
    // Anything else is the plain 404.
    let other = app.get("/nowhere").await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.body["error_description"].as_str(),
        Some("no such endpoint")
    );
}
