//! Bad input changes nothing and gets a 4xx in the JSON error shape, never a 5xx:
//! malformed JSON, wrong content types, oversized bodies, unknown fields, hostile ids
//! (bodies of the wrong shape are in `bad_bodies`).

use actix_web::http::{Method, StatusCode};
use auth_core::testing::Backend;
use serde_json::json;

use crate::support::{Raw, TestApp, assert_client_error, assert_error};

pub(crate) const CREATE: &str = "/api/v1/oauth/client";

#[actix_web::test]
async fn malformed_json_is_400() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    let put = format!("/api/v1/oauth/client/{}/scope", client.id);
    for body in [
        "{not json",
        "[\"client:read\"",
        "null",
        "42",
        "\"client:read\"",
        "[1, 2]",
        "{\"scopes\": \"client:read\"}",
        "\u{feff}[]",
    ] {
        for path in [CREATE, put.as_str()] {
            let method = if path == CREATE {
                Method::POST
            } else {
                Method::PUT
            };
            let reply = app
                .request(
                    method,
                    path,
                    Some(&root),
                    Some(Raw::new("application/json", body)),
                )
                .await;
            assert_error(&reply, 400, "invalid_request");
        }
    }
    // An empty body where one is required (creation takes none: endpoints.rs).
    let reply = app
        .request(
            Method::PUT,
            &put,
            Some(&root),
            Some(Raw::new("application/json", "")),
        )
        .await;
    assert_error(&reply, 400, "invalid_request");
    let reply = app.request(Method::PUT, &put, Some(&root), None).await;
    assert_error(&reply, 400, "invalid_request");
    assert_eq!(app.client_count().await, 1);
    assert_eq!(
        app.get_scopes(&root, &client.id).await.body,
        json!(["client:read"])
    );
}

#[actix_web::test]
async fn wrong_content_type_is_415() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    let put = format!("/api/v1/oauth/client/{}/scope", client.id);
    let body = r#"["client:read", "config:read"]"#;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/jsonx",
    ] {
        let reply = app
            .request(
                Method::POST,
                CREATE,
                Some(&root),
                Some(Raw::new(content_type, body)),
            )
            .await;
        assert_error(&reply, 415, "invalid_request");
        let reply = app
            .request(
                Method::PUT,
                &put,
                Some(&root),
                Some(Raw::new(content_type, body)),
            )
            .await;
        assert_error(&reply, 415, "invalid_request");
    }
    assert_eq!(app.client_count().await, 1);
    assert_eq!(
        app.get_scopes(&root, &client.id).await.body,
        json!(["client:read"])
    );
    // Parameters and case do not matter.
    let raw = Raw::new("Application/JSON; charset=utf-8", body);
    let reply = app
        .request(Method::POST, CREATE, Some(&root), Some(raw))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[actix_web::test]
async fn body_over_64_kib_is_413() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    let count = app.client_count().await;
    // A valid JSON array of known scopes, just over the limit.
    let mut big = String::from("[");
    while big.len() <= 64 * 1024 {
        big.push_str("\"client:read\",");
    }
    big.push_str("\"client:read\"]");
    let put = format!("/api/v1/oauth/client/{}/scope", client.id);
    let reply = app
        .request(
            Method::POST,
            CREATE,
            Some(&root),
            Some(Raw::new("application/json", big.clone())),
        )
        .await;
    assert_error(&reply, 413, "invalid_request");
    let reply = app
        .request(
            Method::PUT,
            &put,
            Some(&root),
            Some(Raw::new("application/json", big)),
        )
        .await;
    assert_error(&reply, 413, "invalid_request");
    assert_eq!(app.client_count().await, count);
    // Just under the limit is fine (duplicates collapse).
    let mut fits = String::from("[\"client:read\"");
    while fits.len() < 60 * 1024 {
        fits.push_str(",\"client:read\"");
    }
    fits.push(']');
    let reply = app
        .request(
            Method::POST,
            CREATE,
            Some(&root),
            Some(Raw::new("application/json", fits)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["scopes"], json!(["client:read"]));
}

#[actix_web::test]
async fn unknown_fields_in_a_create_body_are_refused() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    for body in [
        json!({"scopes": ["client:read"], "is_admin": true}),
        json!({"scope": ["client:read"]}),
        json!({"scopes": ["client:read"], "client_secret": "chosen-by-caller-123456"}),
        json!({"scopes": ["client:read"], "client_id": "cid_chosen"}),
        json!({"scopes": ["client:read"], "name": 5}),
        json!({"scopes": ["client:read"], "name": "x".repeat(201)}),
        json!({"scopes": ["client:read"], "name": "bad\nname"}),
        json!({"scopes": ["client:read"], "description": "y".repeat(2001)}),
    ] {
        let reply = app.create_client(&root, body.clone()).await;
        assert_error(&reply, 400, "invalid_request");
        assert!(reply.body.get("client_id").is_none(), "{body}");
    }
    assert_eq!(app.client_count().await, 0);
}

#[actix_web::test]
async fn unknown_fields_in_a_put_body_are_refused() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    for body in [
        json!({"scopes": ["client:read", "config:read"], "is_admin": true}),
        json!({"scopes": ["client:read", "config:read"], "name": "renamed"}),
        json!({"scope": ["client:read", "config:read"]}),
    ] {
        let reply = app.put_scopes(&root, &client.id, body.clone()).await;
        assert_client_error(&reply);
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.body
        );
    }
    assert_eq!(
        app.get_scopes(&root, &client.id).await.body,
        json!(["client:read"])
    );
}

#[actix_web::test]
async fn hostile_client_ids_are_4xx_never_5xx() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    let long = "a".repeat(129);
    let very_long = "b".repeat(5000);
    let ids = [
        "..",
        ".",
        "%2E%2E",
        "%00",
        "a%00b",
        "a%2Fb",
        "%2F..%2F",
        "..%2F..%2Fetc%2Fpasswd",
        "%252F",
        "a%20b",
        "%C3%A9",
        "%FF",
        "'%20OR%201=1--",
        "*",
        long.as_str(),
        very_long.as_str(),
    ];
    for id in ids {
        let base = format!("/api/v1/oauth/client/{id}");
        let calls = [
            (Method::GET, base.clone(), None),
            (Method::DELETE, base.clone(), None),
            (Method::GET, format!("{base}/scope"), None),
            (
                Method::PUT,
                format!("{base}/scope"),
                Some(json!(["client:read"])),
            ),
            (Method::POST, format!("{base}/secret"), None),
        ];
        for (method, path, body) in calls {
            let reply = app
                .request(
                    method.clone(),
                    &path,
                    Some(&root),
                    body.as_ref().map(Raw::json),
                )
                .await;
            assert!(
                !reply.status.is_server_error(),
                "{method} {path}: {} {}",
                reply.status,
                reply.body
            );
            assert_client_error(&reply);
            assert_ne!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
        }
    }
    // Ids that only a path could carry are a 400 naming the problem, not a lookup.
    for id in ["..", "%00", "a%2Fb", long.as_str()] {
        assert_error(&app.get_client(&root, id).await, 400, "invalid_request");
        assert_error(&app.delete_client(&root, id).await, 400, "invalid_request");
    }
    assert_eq!(app.client_count().await, 1);
    assert_eq!(
        app.get_client(&root, &client.id).await.status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn unknown_well_formed_id_is_404() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    for id in [
        "cid_doesnotexist",
        "fidesopsadmin",
        "a..b",
        &"c".repeat(128),
    ] {
        assert_error(&app.get_client(&root, id).await, 404, "not_found");
        assert_error(&app.delete_client(&root, id).await, 404, "not_found");
        assert_error(&app.get_scopes(&root, id).await, 404, "not_found");
        assert_error(
            &app.put_scopes(&root, id, json!(["client:read"])).await,
            404,
            "not_found",
        );
        assert_error(&app.rotate_secret(&root, id, None).await, 404, "not_found");
    }
    assert_eq!(app.client_count().await, 0);
}
