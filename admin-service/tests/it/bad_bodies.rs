//! Bodies of the wrong shape (an array where an object is expected, a wrong type in a
//! field) get a 4xx that names the accepted shapes, never a Rust type name.

use actix_web::http::{Method, StatusCode};
use auth_core::testing::Backend;
use serde_json::{Value, json};

use crate::bad_input::CREATE;
use crate::support::{Raw, TestApp, assert_error};

#[actix_web::test]
async fn object_bodies_given_as_arrays_are_refused() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    // `{"name": ...}` and `{"grace_period_seconds": ...}` are objects; a positional array
    // is not a documented shape and must not be read as one.
    let reply = app
        .request(
            Method::POST,
            "/api/v1/oauth/scope",
            Some(&root),
            Some(Raw::json(&json!(["a:b"]))),
        )
        .await;
    assert_error(&reply, 400, "invalid_request");
    let reply = app
        .rotate_secret(&root, &client.id, Some(json!([60])))
        .await;
    assert_error(&reply, 400, "invalid_request");
    assert_eq!(
        app.registry(&root).await.strings().len(),
        auth_core::scopes::DEFAULT_SCOPES.len()
    );
    assert_eq!(
        app.token(&client.id, &client.secret).await.status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn wrong_bodies_are_told_the_accepted_shapes_without_rust_names() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    let put = format!("/api/v1/oauth/client/{}/scope", client.id);
    let secret = format!("/api/v1/oauth/client/{}/secret", client.id);
    let scope_bodies = [
        json!({"scope": ["client:read"]}),
        json!({"scopes": [1]}),
        json!({"scopes": "client:read"}),
        json!({"scopes": null}),
        json!([{"name": "client:read"}]),
        json!([["client:read"]]),
        json!({"scopes": ["client:read"], "name": 5}),
        json!(null),
        json!(42),
        json!(true),
        json!("client:read"),
    ];
    let mut calls: Vec<(Method, &str, Value)> = Vec::new();
    for body in &scope_bodies {
        calls.push((Method::POST, CREATE, body.clone()));
        calls.push((Method::PUT, &put, body.clone()));
    }
    for body in [
        json!({}),
        json!({"nam": "a:b"}),
        json!({"name": 5}),
        json!({"name": ["a:b"]}),
        json!(["a:b"]),
        json!(null),
    ] {
        calls.push((Method::POST, "/api/v1/oauth/scope", body));
    }
    for body in [
        json!({"grace_period_seconds": "60"}),
        json!({"grace_period_seconds": 1.5}),
        json!({"grace_period_seconds": null}),
        json!({"grace_period_seconds": -1}),
        json!({"grace_period_seconds": 1e30}),
        json!({"grace_period_seconds": 18_446_744_073_709_551_615_u64}),
        json!({"grace": 60}),
        json!([60]),
        json!(null),
    ] {
        calls.push((Method::POST, &secret, body));
    }
    for body in [
        json!({}),
        json!({"token": 5}),
        json!({"jti": "AAAAAAAAAAAAAAAAAAAAAA"}),
        json!({"jti": 5, "client_id": client.id}),
        json!({"toke": "x"}),
        json!([]),
        json!(null),
    ] {
        calls.push((Method::POST, "/api/v1/oauth/revocation", body));
    }
    let rust = [
        "enum", "struct", "variant", "untagged", "Body", "Object", "ScopesOr", "String", "Vec",
        "Option", "i64", "u64", "f64", "serde",
    ];
    for (method, path, body) in calls {
        let reply = app
            .request(method.clone(), path, Some(&root), Some(Raw::json(&body)))
            .await;
        assert_error(&reply, 400, "invalid_request");
        let text = reply.body.to_string();
        for word in rust {
            assert!(!text.contains(word), "{method} {path} {body}: {text}");
        }
    }

    // A wrong key names the shapes that are accepted.
    let reply = app
        .create_client(&root, json!({"scope": ["client:read"]}))
        .await;
    let description = reply.body["error_description"].as_str().unwrap();
    for shape in [
        "JSON array of scope names",
        "{\"scopes\": [",
        "\"name\"",
        "unknown field",
    ] {
        assert!(description.contains(shape), "{description}");
    }
    let reply = app
        .request(
            Method::POST,
            "/api/v1/oauth/revocation",
            Some(&root),
            Some(Raw::json(&json!({"toke": "x"}))),
        )
        .await;
    let description = reply.body["error_description"].as_str().unwrap();
    assert!(
        description.contains("{\"token\": ") && description.contains("\"jti\""),
        "{description}"
    );

    // JSON Schema's `integer` includes 60.0, and so does the service.
    let reply = app
        .rotate_secret(
            &root,
            &client.id,
            Some(json!({"grace_period_seconds": 60.0})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body["previous_secret_expires_at"].is_string());
    assert_eq!(app.client_count().await, 1);
}
