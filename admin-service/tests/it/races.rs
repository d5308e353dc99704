//! Token requests racing an admin change: whatever the interleaving, no token that reflects
//! the client as it was before the change survives it. (A token issued while the change is
//! in flight may be refused even if it already reflects the new state: that errs on the
//! safe side and is allowed.)

use actix_web::http::StatusCode;
use futures_util::future::join_all;
use serde_json::json;

use crate::support::{Reply, TestApp, assert_invalid_token, on_both_backends};

on_both_backends!(
    tokens_racing_a_deletion_are_all_refused,
    tokens_racing_a_scope_removal_keep_only_the_new_scopes,
    tokens_racing_a_rotation_with_the_old_secret_are_all_refused,
);

const RACERS: usize = 12;

/// Runs `RACERS` token requests for `id`/`secret` concurrently with `change`.
async fn race<F>(app: &TestApp, id: &str, secret: &str, change: F) -> (Vec<Reply>, Reply)
where
    F: Future<Output = Reply>,
{
    let requests = join_all((0..RACERS).map(|_| app.token(id, secret)));
    futures_util::future::join(requests, change).await
}

async fn tokens_racing_a_deletion_are_all_refused(app: TestApp) {
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    let (tokens, deleted) = race(
        &app,
        &client.id,
        &client.secret,
        app.delete_client(&root, &client.id),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    for reply in &tokens {
        if reply.status == StatusCode::OK {
            assert_invalid_token(&app.list_clients(reply.token(), "").await);
        } else {
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        }
    }
}

async fn tokens_racing_a_scope_removal_keep_only_the_new_scopes(app: TestApp) {
    let root = app.root().await;
    let client = app.new_client(&["client:read", "config:read"]).await;
    let change = app.put_scopes(&root, &client.id, json!(["client:read"]));
    let (tokens, changed) = race(&app, &client.id, &client.secret, change).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    for reply in &tokens {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let listed = app.list_clients(reply.token(), "").await;
        if reply.body["scope"] == "client:read config:read" {
            assert_invalid_token(&listed);
        } else {
            assert_eq!(reply.body["scope"], "client:read");
            assert!(
                matches!(listed.status.as_u16(), 200 | 401),
                "{}",
                listed.body
            );
        }
    }
    // Once the change has returned, a new token carries only the new scopes and works.
    let after = app.token(&client.id, &client.secret).await;
    assert_eq!(after.body["scope"], "client:read", "{}", after.body);
    assert_eq!(
        app.list_clients(after.token(), "").await.status,
        StatusCode::OK
    );
}

async fn tokens_racing_a_rotation_with_the_old_secret_are_all_refused(app: TestApp) {
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    let change = app.rotate_secret(&root, &client.id, None);
    let (tokens, rotated) = race(&app, &client.id, &client.secret, change).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    for reply in &tokens {
        if reply.status == StatusCode::OK {
            assert_invalid_token(&app.list_clients(reply.token(), "").await);
        } else {
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        }
    }
    let fresh = app.access_token(&client.id, rotated.secret()).await;
    assert_eq!(app.list_clients(&fresh, "").await.status, StatusCode::OK);
}
