//! The operator's flow from fidesops' guide, on both backends: root token → create a
//! client with scopes → token for the new client → call the admin API with it → delete
//! it with root → its token is refused.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::support::{TestApp, assert_error, assert_invalid_token, on_both_backends};

on_both_backends!(fidesops_guide_flow);

async fn fidesops_guide_flow(app: TestApp) {
    // 1. The root client's token, from its environment credentials.
    let root = app.root_token().await;
    assert_eq!(root.status, StatusCode::OK, "{}", root.body);
    assert_eq!(root.body["token_type"], "Bearer");
    let root = root.token().to_owned();

    // 2. A client with scopes, fidesops style: a bare JSON array.
    let created = app
        .create_client(&root, json!(["client:read", "policy:read"]))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.client_id().to_owned();
    let secret = created.secret().to_owned();

    // 3. A token for the new client.
    let token = app.token(&id, &secret).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.body);
    assert_eq!(token.body["scope"], "client:read policy:read");
    let token = token.token().to_owned();

    // 4. The new client calls the admin API within its scopes...
    let list = app.list_clients(&token, "").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.item_ids(), std::slice::from_ref(&id));
    assert_eq!(
        app.get_scopes(&token, &id).await.body,
        json!(["client:read", "policy:read"])
    );
    // ...and not beyond them.
    crate::support::assert_insufficient_scope(
        &app.delete_client(&token, &id).await,
        "client:delete",
    );

    // 5. Root deletes it.
    let deleted = app.delete_client(&root, &id).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);

    // 6. Its token is refused, and it cannot get another.
    assert_invalid_token(&app.list_clients(&token, "").await);
    assert_error(&app.token(&id, &secret).await, 401, "invalid_client");
    assert_eq!(app.list_clients(&root, "").await.body["total"], 0);
}
