//! No privilege escalation: a non-root caller grants only scopes it holds (at create and at
//! scope replacement) and rotates only secrets of clients no more powerful than itself.
//! Root may grant anything, custom scopes included. On PostgreSQL and on SQLite.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::support::{TestApp, assert_escalation, on_both_backends};

on_both_backends!(
    create_grants_only_scopes_the_caller_holds,
    scope_replacement_grants_only_scopes_the_caller_holds,
    root_may_grant_anything,
    rotation_needs_every_scope_of_the_target,
);

async fn create_grants_only_scopes_the_caller_holds(app: TestApp) {
    let creator = app.new_client(&["client:create", "client:read"]).await;

    let reply = app
        .create_client(&creator.token, json!(["client:read"]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = app
        .create_client(&creator.token, json!(["client:create", "client:read"]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let count = app.client_count().await;

    let reply = app
        .create_client(&creator.token, json!(["client:read", "client:delete"]))
        .await;
    assert_escalation(&reply, &["client:delete"]);
    assert!(
        reply.body["error_description"]
            .as_str()
            .unwrap()
            .contains("client:delete")
    );
    let body = json!({"scopes": ["client:delete", "audit:read", "client:read"], "name": "sneaky"});
    let reply = app.create_client(&creator.token, body).await;
    assert_escalation(&reply, &["client:delete", "audit:read"]);
    // The fidesops CVE: a client:create holder minting a client with client:create plus more.
    let reply = app
        .create_client(&creator.token, json!(["client:create", "client:update"]))
        .await;
    assert_escalation(&reply, &["client:update"]);
    assert_eq!(app.client_count().await, count);

    // Scopes the caller's token does not carry count as not held, even if its client has them.
    let narrow = app
        .token_with_scope(&creator.id, &creator.secret, "client:create")
        .await;
    assert_eq!(narrow.status, StatusCode::OK, "{}", narrow.body);
    let reply = app
        .create_client(narrow.token(), json!(["client:read"]))
        .await;
    assert_escalation(&reply, &["client:read"]);
    assert_eq!(app.client_count().await, count);
}

async fn scope_replacement_grants_only_scopes_the_caller_holds(app: TestApp) {
    let root = app.root().await;
    let updater = app
        .new_client(&["client:update", "client:read", "config:read"])
        .await;
    let target = app.new_client(&["client:read", "policy:read"]).await;

    // Adding a held scope, and keeping one the caller lacks (policy:read), are fine.
    let reply = app
        .put_scopes(
            &updater.token,
            &target.id,
            json!(["client:read", "config:read", "policy:read"]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let reply = app
        .put_scopes(
            &updater.token,
            &target.id,
            json!(["client:read", "client:delete", "policy:read"]),
        )
        .await;
    assert_escalation(&reply, &["client:delete"]);
    let reply = app
        .put_scopes(
            &updater.token,
            &target.id,
            json!({"scopes": ["audit:read"]}),
        )
        .await;
    assert_escalation(&reply, &["audit:read"]);
    // The refused calls changed nothing.
    let scopes = app.get_scopes(&root, &target.id).await;
    assert_eq!(
        scopes.body,
        json!(["client:read", "config:read", "policy:read"])
    );

    // Nor may a caller raise itself.
    let reply = app
        .put_scopes(
            &updater.token,
            &updater.id,
            json!(["client:update", "client:delete"]),
        )
        .await;
    assert_escalation(&reply, &["client:delete"]);
    let scopes = app.get_scopes(&root, &updater.id).await;
    assert_eq!(
        scopes.body,
        json!(["client:update", "client:read", "config:read"])
    );
}

async fn root_may_grant_anything(app: TestApp) {
    let root = app.root().await;
    assert_eq!(
        app.add_scope(&root, "reports:read").await.status,
        StatusCode::CREATED
    );
    // The root token was issued before the custom scope existed; root may grant it anyway.
    let reply = app
        .create_client(
            &root,
            json!(["reports:read", "audit:read", "client:delete"]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let id = reply.client_id().to_owned();
    let reply = app
        .put_scopes(
            &root,
            &id,
            json!(["token:revoke", "reports:read", "scope:delete"]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        app.get_scopes(&root, &id).await.body,
        json!(["scope:delete", "token:revoke", "reports:read"])
    );
}

async fn rotation_needs_every_scope_of_the_target(app: TestApp) {
    let root = app.root().await;
    let rotator = app.new_client(&["client:update", "client:read"]).await;
    let weaker = app.new_client(&["client:read"]).await;
    let stronger = app.new_client(&["client:read", "client:delete"]).await;

    let reply = app.rotate_secret(&rotator.token, &weaker.id, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        app.token(&weaker.id, reply.secret()).await.status,
        StatusCode::OK
    );

    let reply = app.rotate_secret(&rotator.token, &stronger.id, None).await;
    assert_escalation(&reply, &["client:delete"]);
    let reply = app
        .rotate_secret(
            &rotator.token,
            &stronger.id,
            Some(json!({"grace_period_seconds": 60})),
        )
        .await;
    assert_escalation(&reply, &["client:delete"]);
    // Nothing changed: the old secret and the old token still work.
    assert_eq!(
        app.token(&stronger.id, &stronger.secret).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get_client(&stronger.token, &stronger.id).await.status,
        StatusCode::OK
    );

    // Root may rotate anything.
    let reply = app.rotate_secret(&root, &stronger.id, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}
