//! The console's routes (`admin_service::console`): the page and its files with their
//! content types, a strict CSP on every answer, the JSON 404, and the sign-in relay
//! answering exactly what a real token-service answers.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use auth_core::testing::Backend;
use auth_core::testing::http::form;

use crate::support::{ROOT_ID, ROOT_SECRET, Raw, Reply, TestApp};

fn assert_secured(reply: &Reply, what: &str) {
    assert_eq!(
        reply.header("content-security-policy"),
        Some(admin_service::console::CONTENT_SECURITY_POLICY),
        "{what}"
    );
    for (name, value) in admin_service::console::SECURITY_HEADERS {
        assert_eq!(reply.header(name), Some(value), "{what}: {name}");
    }
}

#[actix_web::test]
async fn the_page_and_its_files_are_served_with_a_strict_csp() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    for (path, content_type) in [
        ("/console", "text/html; charset=utf-8"),
        ("/console/", "text/html; charset=utf-8"),
        ("/console/assets/app.js", "text/javascript; charset=utf-8"),
        ("/console/assets/api.js", "text/javascript; charset=utf-8"),
        ("/console/assets/console.css", "text/css; charset=utf-8"),
    ] {
        let reply = app.send(Method::GET, path, vec![], None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.header("content-type"), Some(content_type), "{path}");
        assert_eq!(reply.header("cache-control"), Some("no-cache"), "{path}");
        assert_secured(&reply, path);
        // Unchanged: 304, without the body.
        let etag = reply.header("etag").expect("an ETag").to_owned();
        let again = app
            .send(
                Method::GET,
                path,
                vec![(header::IF_NONE_MATCH, HeaderValue::from_str(&etag).unwrap())],
                None,
            )
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
    }
    // The page needs no token; the API still does.
    let api = app
        .send(Method::GET, "/api/v1/oauth/client", vec![], None)
        .await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn unknown_console_paths_are_the_json_404() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    for path in [
        "/console/assets/nope.js",
        "/console/assets/index.html.bak",
        "/console/assets/%2e%2e%2fCargo.toml",
        "/console/other",
    ] {
        let reply = app.send(Method::GET, path, vec![], None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.error(), "not_found", "{path}");
        assert!(reply.body["error_description"].is_string(), "{path}");
        assert_secured(&reply, path);
    }
    let wrong_method = app.send(Method::DELETE, "/console/", vec![], None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.header("allow"), Some("GET, HEAD"));
}

async fn sign_in(app: &TestApp, pairs: &[(&str, &str)]) -> Reply {
    app.send(
        Method::POST,
        "/console/token",
        vec![],
        Some(Raw::new("application/x-www-form-urlencoded", form(pairs))),
    )
    .await
}

#[actix_web::test]
async fn the_sign_in_relay_answers_what_token_service_answers() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let granted = sign_in(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", ROOT_ID),
            ("client_secret", ROOT_SECRET),
            ("scope", "client:read"),
        ],
    )
    .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    assert_eq!(granted.body["token_type"], "Bearer");
    assert_eq!(granted.body["scope"], "client:read");
    assert_eq!(granted.header("cache-control"), Some("no-store"));
    assert_secured(&granted, "token");
    // A real token of token-service: the admin API takes it.
    let listed = app.list_clients(granted.token(), "").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);

    // Refusals are token-service's own, status and body.
    let direct = app.token(ROOT_ID, "wrong-secret").await;
    let relayed = sign_in(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", ROOT_ID),
            ("client_secret", "wrong-secret"),
        ],
    )
    .await;
    assert_eq!(relayed.status, StatusCode::UNAUTHORIZED);
    assert_eq!(relayed.body, direct.body);
    let missing_grant = sign_in(&app, &[("client_id", ROOT_ID)]).await;
    assert_eq!(missing_grant.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing_grant.error(), "invalid_request");

    // Only a form is relayed.
    let json = app
        .send(
            Method::POST,
            "/console/token",
            vec![],
            Some(Raw::new("application/json", "{}")),
        )
        .await;
    assert_eq!(json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(json.error(), "invalid_request");
}
