//! Invalidation: scope removal, secret rotation and deletion revoke the client's tokens
//! issued before the change; tokens issued after it work. Adding scopes revokes nothing.
//! Each rule is checked with a token from before and one fetched after the admin call returned.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::support::{TestApp, assert_error, assert_invalid_token, on_both_backends};

on_both_backends!(
    scope_removal_revokes_older_tokens,
    adding_scopes_revokes_nothing,
    rotation_revokes_older_tokens,
    deletion_revokes_every_token_and_the_credentials,
    changes_to_one_client_leave_others_alone,
);

async fn scope_removal_revokes_older_tokens(app: TestApp) {
    let root = app.root().await;
    let client = app.new_client(&["client:read", "config:read"]).await;
    let before = client.token.clone();
    assert_eq!(app.list_clients(&before, "").await.status, StatusCode::OK);

    let reply = app
        .put_scopes(&root, &client.id, json!(["client:read"]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let after = app.token(&client.id, &client.secret).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
    assert_eq!(after.body["scope"], "client:read");

    assert_invalid_token(&app.list_clients(&before, "").await);
    assert_eq!(
        app.list_clients(after.token(), "").await.status,
        StatusCode::OK
    );

    // Replacing one scope by another is a removal too.
    let reply = app
        .put_scopes(
            &root,
            &client.id,
            json!({"scopes": ["config:read", "client:read"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        app.list_clients(after.token(), "").await.status,
        StatusCode::OK
    );
    let reply = app
        .put_scopes(&root, &client.id, json!(["config:read", "scope:read"]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_invalid_token(&app.registry(after.token()).await);
    let newest = app.access_token(&client.id, &client.secret).await;
    assert_eq!(app.registry(&newest).await.status, StatusCode::OK);
}

async fn adding_scopes_revokes_nothing(app: TestApp) {
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    let before = client.token.clone();

    let reply = app
        .put_scopes(&root, &client.id, json!(["client:read", "scope:read"]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let after = app.token(&client.id, &client.secret).await;
    assert_eq!(
        after.body["scope"], "client:read scope:read",
        "{}",
        after.body
    );

    // The old token keeps working with its old scopes; the new one has the added scope.
    assert_eq!(app.list_clients(&before, "").await.status, StatusCode::OK);
    crate::support::assert_insufficient_scope(&app.registry(&before).await, "scope:read");
    assert_eq!(
        app.list_clients(after.token(), "").await.status,
        StatusCode::OK
    );
    assert_eq!(app.registry(after.token()).await.status, StatusCode::OK);

    // Re-sending the same scopes is not a removal either.
    let reply = app
        .put_scopes(&root, &client.id, json!(["client:read", "scope:read"]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(app.list_clients(&before, "").await.status, StatusCode::OK);
}

async fn rotation_revokes_older_tokens(app: TestApp) {
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    let before = client.token.clone();

    let reply = app.rotate_secret(&root, &client.id, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let new_secret = reply.secret().to_owned();
    let after = app.access_token(&client.id, &new_secret).await;

    assert_invalid_token(&app.list_clients(&before, "").await);
    assert_eq!(app.list_clients(&after, "").await.status, StatusCode::OK);
    assert_error(
        &app.token(&client.id, &client.secret).await,
        401,
        "invalid_client",
    );
}

async fn deletion_revokes_every_token_and_the_credentials(app: TestApp) {
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    let before = client.token.clone();
    let narrow = app
        .token_with_scope(&client.id, &client.secret, "client:read")
        .await;
    assert_eq!(narrow.status, StatusCode::OK, "{}", narrow.body);

    assert_eq!(
        app.delete_client(&root, &client.id).await.status,
        StatusCode::NO_CONTENT
    );
    assert_invalid_token(&app.list_clients(&before, "").await);
    assert_invalid_token(&app.list_clients(narrow.token(), "").await);
    let after = app.token(&client.id, &client.secret).await;
    assert_error(&after, 401, "invalid_client");
}

async fn changes_to_one_client_leave_others_alone(app: TestApp) {
    let root = app.root().await;
    let a = app.new_client(&["client:read", "config:read"]).await;
    let b = app.new_client(&["client:read", "config:read"]).await;
    assert_eq!(
        app.put_scopes(&root, &a.id, json!(["client:read"]))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.rotate_secret(&root, &a.id, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.delete_client(&root, &a.id).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.list_clients(&b.token, "").await.status, StatusCode::OK);
    assert_eq!(app.token(&b.id, &b.secret).await.status, StatusCode::OK);
    // And the root token, issued before all of it, is untouched.
    assert_eq!(app.list_clients(&root, "").await.status, StatusCode::OK);
}
