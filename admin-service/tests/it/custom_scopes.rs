//! Custom scopes end to end: add, grant, use in a token, refuse removal while granted,
//! remove; built-ins stay; unknown scopes in bodies are a 422 naming them and change nothing.

use actix_web::http::StatusCode;
use auth_core::scopes::DEFAULT_SCOPES;
use auth_core::testing::Backend;
use serde_json::json;

use crate::support::{TestApp, assert_error, on_both_backends};

on_both_backends!(custom_scope_lifecycle);

async fn custom_scope_lifecycle(app: TestApp) {
    let root = app.root().await;
    let reply = app.add_scope(&root, "reports:read").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body, json!({"name": "reports:read", "created": true}));
    let reply = app.add_scope(&root, "reports:read").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body,
        json!({"name": "reports:read", "created": false})
    );

    let registry = app.registry(&root).await.strings();
    assert_eq!(registry.len(), DEFAULT_SCOPES.len() + 1);
    assert_eq!(registry[..DEFAULT_SCOPES.len()], DEFAULT_SCOPES);
    assert_eq!(registry[DEFAULT_SCOPES.len()], "reports:read");
    assert_eq!(
        app.add_scope(&root, "reports:write").await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.registry(&root).await.strings()[DEFAULT_SCOPES.len()..],
        ["reports:read", "reports:write"]
    );

    // Granted at create, present in the token, requestable on its own.
    let client = app.new_client(&["client:read", "reports:read"]).await;
    let token = app.token(&client.id, &client.secret).await;
    assert_eq!(
        token.body["scope"], "client:read reports:read",
        "{}",
        token.body
    );
    let only = app
        .token_with_scope(&client.id, &client.secret, "reports:read")
        .await;
    assert_eq!(only.status, StatusCode::OK, "{}", only.body);
    assert_eq!(only.body["scope"], "reports:read");

    // Still granted: refused, and nothing is removed.
    let reply = app.remove_scope(&root, "reports:read").await;
    assert_error(&reply, 409, "conflict");
    assert!(
        reply.body["error_description"]
            .as_str()
            .unwrap()
            .contains(&client.id),
        "{}",
        reply.body
    );
    assert_eq!(
        app.registry(&root).await.strings().len(),
        DEFAULT_SCOPES.len() + 2
    );
    assert_eq!(
        app.get_scopes(&root, &client.id).await.body,
        json!(["client:read", "reports:read"])
    );

    let reply = app
        .put_scopes(&root, &client.id, json!(["client:read"]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = app.remove_scope(&root, "reports:read").await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(reply.body, json!(null));
    assert_error(
        &app.remove_scope(&root, "reports:read").await,
        404,
        "not_found",
    );
    let registry = app.registry(&root).await.strings();
    assert_eq!(registry[DEFAULT_SCOPES.len()..], ["reports:write"]);
    assert!(!registry.contains(&"reports:read".to_owned()));

    // Gone from the registry: no longer grantable, and re-adding puts it at the end.
    let reply = app.create_client(&root, json!(["reports:read"])).await;
    assert_error(&reply, 422, "invalid_scope");
    assert_eq!(
        app.add_scope(&root, "reports:read").await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.registry(&root).await.strings()[DEFAULT_SCOPES.len()..],
        ["reports:write", "reports:read"]
    );

    // A deleted client does not hold its scopes any more.
    let holder = app.new_client(&["reports:write"]).await;
    assert_error(
        &app.remove_scope(&root, "reports:write").await,
        409,
        "conflict",
    );
    assert_eq!(
        app.delete_client(&root, &holder.id).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.remove_scope(&root, "reports:write").await.status,
        StatusCode::NO_CONTENT
    );
}

#[actix_web::test]
async fn built_in_and_unknown_scopes_cannot_be_removed() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    for built_in in ["client:read", "audit:read", "scope:delete"] {
        assert_error(&app.remove_scope(&root, built_in).await, 409, "conflict");
    }
    for unknown in ["nope:nothing", "reports:read", "a%20b", "%00"] {
        assert_error(&app.remove_scope(&root, unknown).await, 404, "not_found");
    }
    assert_eq!(
        app.registry(&root).await.body,
        json!(DEFAULT_SCOPES.as_slice())
    );
}

#[actix_web::test]
async fn invalid_scope_names_cannot_be_added() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    for bad in [
        "",
        "has space",
        "quote\"",
        "back\\slash",
        "é",
        &"x".repeat(129),
    ] {
        let reply = app.add_scope(&root, bad).await;
        assert_error(&reply, 400, "invalid_request");
    }
    let path = "/api/v1/oauth/scope";
    for body in [
        json!({}),
        json!({"name": 5}),
        json!({"name": "a:b", "x": 1}),
    ] {
        let raw = crate::support::Raw::json(&body);
        let reply = app
            .request(actix_web::http::Method::POST, path, Some(&root), Some(raw))
            .await;
        assert_error(&reply, 400, "invalid_request");
    }
    assert_eq!(
        app.registry(&root).await.body,
        json!(DEFAULT_SCOPES.as_slice())
    );
}

#[actix_web::test]
async fn unknown_scopes_in_a_create_body_are_422_and_change_nothing() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    app.new_client(&["client:read"]).await;
    let count = app.client_count().await;

    let reply = app
        .create_client(&root, json!(["client:read", "reports:read"]))
        .await;
    assert_error(&reply, 422, "invalid_scope");
    assert_eq!(reply.body["unknown_scopes"], json!(["reports:read"]));
    assert!(
        reply.body["error_description"]
            .as_str()
            .unwrap()
            .contains("reports:read")
    );

    let body = json!({"scopes": ["nope:a", "client:read", "nope:b"], "name": "x"});
    let reply = app.create_client(&root, body).await;
    assert_error(&reply, 422, "invalid_scope");
    assert_eq!(reply.body["unknown_scopes"], json!(["nope:a", "nope:b"]));

    // Malformed names are unknown too (named, never echoed unbounded).
    let reply = app
        .create_client(&root, json!(["client:read", "has space", ""]))
        .await;
    assert_error(&reply, 422, "invalid_scope");
    assert_eq!(reply.body["unknown_scopes"], json!(["has space", ""]));

    // Scope names are case-sensitive.
    let reply = app.create_client(&root, json!(["CLIENT:READ"])).await;
    assert_error(&reply, 422, "invalid_scope");
    assert_eq!(reply.body["unknown_scopes"], json!(["CLIENT:READ"]));

    assert_eq!(app.client_count().await, count);
}

#[actix_web::test]
async fn unknown_scopes_in_a_put_body_are_422_and_change_nothing() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let client = app.new_client(&["client:read", "config:read"]).await;

    let reply = app
        .put_scopes(&root, &client.id, json!(["client:read", "reports:read"]))
        .await;
    assert_error(&reply, 422, "invalid_scope");
    assert_eq!(reply.body["unknown_scopes"], json!(["reports:read"]));
    let reply = app
        .put_scopes(&root, &client.id, json!({"scopes": ["nope:x"]}))
        .await;
    assert_error(&reply, 422, "invalid_scope");
    assert_eq!(reply.body["unknown_scopes"], json!(["nope:x"]));

    // Scopes unchanged, and the refused removal revoked nothing.
    assert_eq!(
        app.get_scopes(&root, &client.id).await.body,
        json!(["client:read", "config:read"])
    );
    assert_eq!(
        app.list_clients(&client.token, "").await.status,
        StatusCode::OK
    );
}
