//! Secret rotation: without a grace period the old secret fails at once; with one both
//! secrets work; invalid grace periods change nothing; a secret is shown only when made.

use actix_web::http::StatusCode;
use auth_core::testing::Backend;
use serde_json::json;

use crate::support::{
    Raw, TestApp, assert_error, assert_invalid_token, assert_no_secret, on_both_backends,
};

on_both_backends!(
    without_grace_the_old_secret_fails_at_once,
    with_grace_both_secrets_work
);

async fn without_grace_the_old_secret_fails_at_once(app: TestApp) {
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    let reply = app.rotate_secret(&root, &client.id, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["previous_secret_expires_at"], json!(null));
    let new_secret = reply.secret().to_owned();

    assert_error(
        &app.token(&client.id, &client.secret).await,
        401,
        "invalid_client",
    );
    assert_eq!(
        app.token(&client.id, &new_secret).await.status,
        StatusCode::OK
    );

    // Rotating again retires the second secret too.
    let reply = app.rotate_secret(&root, &client.id, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let third = reply.secret().to_owned();
    assert_ne!(third, new_secret);
    assert_error(
        &app.token(&client.id, &new_secret).await,
        401,
        "invalid_client",
    );
    assert_error(
        &app.token(&client.id, &client.secret).await,
        401,
        "invalid_client",
    );
    assert_eq!(app.token(&client.id, &third).await.status, StatusCode::OK);
}

async fn with_grace_both_secrets_work(app: TestApp) {
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    let body = json!({"grace_period_seconds": 60});
    let reply = app.rotate_secret(&root, &client.id, Some(body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply.body["previous_secret_expires_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{}",
        reply.body
    );
    let new_secret = reply.secret().to_owned();

    let old = app.token(&client.id, &client.secret).await;
    assert_eq!(old.status, StatusCode::OK, "{}", old.body);
    let new = app.token(&client.id, &new_secret).await;
    assert_eq!(new.status, StatusCode::OK, "{}", new.body);
    // Tokens obtained after the rotation work with either secret...
    assert_eq!(
        app.list_clients(old.token(), "").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.list_clients(new.token(), "").await.status,
        StatusCode::OK
    );
    // ...while those issued before it are revoked, grace period or not.
    assert_invalid_token(&app.list_clients(&client.token, "").await);

    // A later rotation without grace ends the old grace period at once.
    let reply = app.rotate_secret(&root, &client.id, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let newest = reply.secret().to_owned();
    assert_error(
        &app.token(&client.id, &client.secret).await,
        401,
        "invalid_client",
    );
    assert_error(
        &app.token(&client.id, &new_secret).await,
        401,
        "invalid_client",
    );
    assert_eq!(app.token(&client.id, &newest).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn invalid_grace_periods_are_refused_and_change_nothing() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    let bodies = [
        json!({"grace_period_seconds": -1}),
        json!({"grace_period_seconds": 1_000_000_000}),
        json!({"grace_period_seconds": 604_801}),
        json!({"grace_period_seconds": "60"}),
        json!({"grace_period_seconds": 1.5}),
        json!({"grace_period_seconds": null}),
        json!({"grace_period_seconds": i64::MAX}),
        json!({"grace_period_seconds": u64::MAX}),
        json!({"grace_period_seconds": 60, "extra": true}),
        json!({"grace": 60}),
        json!("60"),
    ];
    for body in bodies {
        let reply = app
            .rotate_secret(&root, &client.id, Some(body.clone()))
            .await;
        assert_error(&reply, 400, "invalid_request");
        assert!(
            reply.body.get("client_secret").is_none(),
            "{body}: {}",
            reply.body
        );
    }
    let path = format!("/api/v1/oauth/client/{}/secret", client.id);
    let reply = app
        .request(
            actix_web::http::Method::POST,
            &path,
            Some(&root),
            Some(Raw::new("application/json", "{")),
        )
        .await;
    assert_error(&reply, 400, "invalid_request");
    let reply = app
        .request(
            actix_web::http::Method::POST,
            &path,
            Some(&root),
            Some(Raw::new("text/plain", "60")),
        )
        .await;
    assert_error(&reply, 415, "invalid_request");

    // The original secret and token are untouched; the longest grace period is accepted.
    assert_eq!(
        app.token(&client.id, &client.secret).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.list_clients(&client.token, "").await.status,
        StatusCode::OK
    );
    let reply = app
        .rotate_secret(
            &root,
            &client.id,
            Some(json!({"grace_period_seconds": 604_800})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        app.token(&client.id, &client.secret).await.status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn rotating_an_unknown_or_deleted_client_is_404() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    assert_error(
        &app.rotate_secret(&root, "cid_nosuchclient", None).await,
        404,
        "not_found",
    );
    let client = app.new_client(&["client:read"]).await;
    assert_eq!(
        app.delete_client(&root, &client.id).await.status,
        StatusCode::NO_CONTENT
    );
    let reply = app
        .rotate_secret(&root, &client.id, Some(json!({"grace_period_seconds": 60})))
        .await;
    assert_error(&reply, 404, "not_found");
    // A deleted client cannot be revived by a rotation.
    assert_error(
        &app.token(&client.id, &client.secret).await,
        401,
        "invalid_client",
    );
}

#[actix_web::test]
async fn secrets_appear_only_in_create_and_rotate_answers() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let created = app
        .create_client(&root, json!({"scopes": ["client:read"], "name": "svc"}))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.client_id().to_owned();
    let first = created.secret().to_owned();
    let rotated = app
        .rotate_secret(&root, &id, Some(json!({"grace_period_seconds": 60})))
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let second = rotated.secret().to_owned();
    let secrets = [first.as_str(), second.as_str()];

    assert_no_secret(&app.get_client(&root, &id).await.body, &secrets);
    assert_no_secret(&app.list_clients(&root, "").await.body, &secrets);
    assert_no_secret(&app.get_scopes(&root, &id).await.body, &secrets);
    assert_no_secret(&app.audit(&root, "size=100").await.body, &secrets);
    // A scope change answers without a secret too.
    let reply = app
        .put_scopes(&root, &id, json!(["client:read", "config:read"]))
        .await;
    assert_no_secret(&reply.body, &secrets);
}

#[actix_web::test]
async fn answers_carrying_a_secret_are_not_cacheable() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    // A secret must not be kept by a browser, proxy or gateway cache (RFC 9111 §5.2.2.5),
    // as the token-service already ensures for tokens (RFC 6749 §5.1).
    let created = app.create_client(&root, json!(["client:read"])).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let rotated = app.rotate_secret(&root, created.client_id(), None).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    assert_eq!(rotated.header("cache-control"), Some("no-store"));
}
