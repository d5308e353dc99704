//! The success path of every admin endpoint, with the exact shapes fidesops scripts expect.

use actix_web::http::{Method, StatusCode};
use auth_core::scopes::DEFAULT_SCOPES;
use auth_core::testing::Backend;
use serde_json::json;

use crate::support::{ROOT_ID, Raw, TestApp, assert_error, assert_no_secret, on_both_backends};

on_both_backends!(create_without_a_body);

/// As in fidesops, no body at all (no Content-Type either) creates a client without
/// scopes; so do an empty or blank JSON body.
async fn create_without_a_body(app: TestApp) {
    let root = app.root().await;
    let bodies = [
        None,
        Some(Raw::new("application/json", "")),
        Some(Raw::new("application/json", " \r\n")),
    ];
    for body in bodies {
        let reply = app
            .request(Method::POST, "/api/v1/oauth/client", Some(&root), body)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["scopes"], json!([]));
        assert_eq!(reply.body["name"], json!(null));
        let id = reply.client_id().to_owned();
        let got = app.get_client(&root, &id).await;
        assert_eq!(got.status, StatusCode::OK, "{}", got.body);
        assert_eq!(got.body["scopes"], json!([]));
        let token = app.token(&id, reply.secret()).await;
        assert_eq!(token.status, StatusCode::OK, "{}", token.body);
        assert!(token.body.get("scope").is_none(), "{}", token.body);
    }
    assert_eq!(app.client_count().await, 3);
}

#[actix_web::test]
async fn create_with_a_bare_array_of_scopes() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let reply = app
        .create_client(&root, json!(["config:read", "client:read"]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let id = reply.client_id().to_owned();
    assert!(id.starts_with("cid_"), "{id}");
    assert!(reply.secret().len() >= 32, "{}", reply.body);
    let mut scopes = reply.strings_at("scopes");
    scopes.sort_unstable();
    assert_eq!(scopes, ["client:read", "config:read"]);
    assert_eq!(reply.body["name"], json!(null));

    // The new credentials work at once, for exactly those scopes (registry order).
    let token = app.token(&id, reply.secret()).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.body);
    assert_eq!(token.body["scope"], "client:read config:read");

    let again = app.get_client(&root, &id).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["scopes"], json!(["client:read", "config:read"]));
}

#[actix_web::test]
async fn create_with_an_object_body() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let body = json!({"scopes": ["policy:read", "policy:read"], "name": "billing", "description": "the billing job"});
    let reply = app.create_client(&root, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["scopes"], json!(["policy:read"]));
    assert_eq!(reply.body["name"], "billing");
    assert_eq!(reply.body["description"], "the billing job");

    let got = app.get_client(&root, reply.client_id()).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert_eq!(got.body["client_id"], reply.body["client_id"]);
    assert_eq!(got.body["name"], "billing");
    assert_eq!(got.body["description"], "the billing job");
    assert_eq!(got.body["scopes"], json!(["policy:read"]));
    assert!(
        got.body["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{}",
        got.body
    );
    assert_no_secret(&got.body, &[reply.secret()]);

    // An empty array and an empty object are clients without scopes.
    for empty in [json!([]), json!({})] {
        let reply = app.create_client(&root, empty).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["scopes"], json!([]));
        let token = app.token(reply.client_id(), reply.secret()).await;
        assert!(token.body.get("scope").is_none(), "{}", token.body);
    }
}

#[actix_web::test]
async fn list_is_paginated_in_a_stable_order_without_secrets() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let empty = app.list_clients(&root, "").await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert_eq!(
        empty.body,
        json!({"items": [], "total": 0, "page": 1, "size": 50, "pages": 0,
               "next": null, "total_is_estimate": false})
    );

    let mut created = Vec::new();
    let mut secrets = Vec::new();
    for n in 0..5 {
        let reply = app
            .create_client(
                &root,
                json!({"scopes": ["client:read"], "name": format!("c{n}")}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        created.push(reply.client_id().to_owned());
        secrets.push(reply.secret().to_owned());
    }
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();

    let mut seen = Vec::new();
    for page in 1..=3 {
        let reply = app
            .list_clients(&root, &format!("page={page}&size=2"))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["total"], 5);
        assert_eq!(reply.body["page"], page);
        assert_eq!(reply.body["size"], 2);
        assert_eq!(reply.body["pages"], 3);
        assert_eq!(reply.items().len(), if page == 3 { 1 } else { 2 });
        assert_no_secret(&reply.body, &secrets);
        for item in reply.items() {
            assert_eq!(item["scopes"], json!(["client:read"]));
        }
        seen.extend(reply.item_ids());
    }
    // Every client exactly once, oldest first, and the root client is never listed.
    assert_eq!(seen, created);

    let again = app.list_clients(&root, "page=1&size=2").await;
    assert_eq!(again.item_ids(), created[..2]);
    let beyond = app.list_clients(&root, "page=4&size=2").await;
    assert_eq!(beyond.status, StatusCode::OK, "{}", beyond.body);
    assert_eq!(beyond.items().len(), 0);
    assert_eq!(beyond.body["total"], 5);

    let all = app.list_clients(&root, "size=100").await;
    assert_eq!(all.item_ids(), created);
    assert!(!all.item_ids().iter().any(|id| id == ROOT_ID));

    for bad in ["page=0", "size=0", "size=101", "page=x", "size=-1"] {
        let reply = app.list_clients(&root, bad).await;
        assert_error(&reply, 400, "invalid_request");
    }
}

#[actix_web::test]
async fn get_one_client() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let client = app.new_client(&["client:read", "dataset:read"]).await;
    let reply = app.get_client(&root, &client.id).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["client_id"], client.id);
    assert_eq!(reply.body["scopes"], json!(["client:read", "dataset:read"]));
    let mut keys: Vec<&str> = reply
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "audiences",
            "client_id",
            "created_at",
            "description",
            "has_secret",
            "identities",
            "jwks_uri",
            "keys",
            "name",
            "scopes",
            "updated_at"
        ]
    );
    assert_no_secret(&reply.body, &[&client.secret]);

    // A client with client:read may read itself and others.
    let own = app.get_client(&client.token, &client.id).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
}

#[actix_web::test]
async fn delete_a_client() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    let other = app.new_client(&["client:read"]).await;

    let reply = app.delete_client(&root, &client.id).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(reply.body, json!(null));

    assert_error(&app.get_client(&root, &client.id).await, 404, "not_found");
    assert_error(&app.get_scopes(&root, &client.id).await, 404, "not_found");
    assert_error(
        &app.delete_client(&root, &client.id).await,
        404,
        "not_found",
    );
    let list = app.list_clients(&root, "").await;
    assert_eq!(list.item_ids(), std::slice::from_ref(&other.id));
    assert_eq!(list.body["total"], 1);
    // The other client is untouched.
    assert_eq!(
        app.get_client(&other.token, &other.id).await.status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn read_and_replace_scopes() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;

    let reply = app.get_scopes(&root, &client.id).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, json!(["client:read"]));

    // fidesops' bare array.
    let reply = app
        .put_scopes(&root, &client.id, json!(["client:read", "policy:read"]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, json!(["client:read", "policy:read"]));
    assert_eq!(
        app.get_scopes(&root, &client.id).await.body,
        json!(["client:read", "policy:read"])
    );

    // The guide's object, with a duplicate.
    let body = json!({"scopes": ["config:read", "dataset:read", "dataset:read"]});
    let reply = app.put_scopes(&root, &client.id, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, json!(["config:read", "dataset:read"]));
    assert_eq!(
        app.get_scopes(&root, &client.id).await.body,
        json!(["config:read", "dataset:read"])
    );
    let token = app.token(&client.id, &client.secret).await;
    assert_eq!(
        token.body["scope"], "config:read dataset:read",
        "{}",
        token.body
    );

    // Down to nothing.
    let reply = app.put_scopes(&root, &client.id, json!([])).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(app.get_scopes(&root, &client.id).await.body, json!([]));
}

#[actix_web::test]
async fn registry_at_both_paths_in_registry_order() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    for path in ["/api/v1/oauth/scope", "/api/v1/oauth/scopes"] {
        let reply = app.request(Method::GET, path, Some(&root), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        assert_eq!(reply.body, json!(DEFAULT_SCOPES.as_slice()), "{path}");
        assert_eq!(reply.strings().len(), DEFAULT_SCOPES.len());
    }
    // scope:read alone is enough.
    let reader = app.new_client(&["scope:read"]).await;
    assert_eq!(
        app.registry(&reader.token).await.body,
        json!(DEFAULT_SCOPES.as_slice())
    );
}

#[actix_web::test]
async fn rotate_a_secret() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    let reply = app.rotate_secret(&root, &client.id, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["client_id"], client.id);
    assert_eq!(reply.body["previous_secret_expires_at"], json!(null));
    let secret = reply.secret().to_owned();
    assert!(secret.len() >= 32);
    assert_ne!(secret, client.secret);
    assert_eq!(app.token(&client.id, &secret).await.status, StatusCode::OK);
    // An explicit zero grace period is the same as none.
    let reply = app
        .rotate_secret(&root, &client.id, Some(json!({"grace_period_seconds": 0})))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["previous_secret_expires_at"], json!(null));
    assert_eq!(
        app.token(&client.id, &secret).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn unknown_paths_and_methods_answer_json() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let reply = app
        .request(Method::GET, "/api/v1/oauth/nothing", Some(&root), None)
        .await;
    assert_error(&reply, 404, "not_found");
    let reply = app
        .request(Method::PATCH, "/api/v1/oauth/client", Some(&root), None)
        .await;
    assert_error(&reply, 405, "invalid_request");
}
