//! A leaked root secret: after rotating it in the environment, the root client cuts off
//! every root token issued until then (SECURITY.md, "A leaked root secret").

use actix_web::http::{Method, StatusCode};
use auth_core::testing::Backend;

use crate::support::{ROOT_ID, TestApp, assert_error, assert_invalid_token, on_both_backends};

on_both_backends!(root_can_cut_off_every_root_token_issued_so_far);

async fn root_can_cut_off_every_root_token_issued_so_far(app: TestApp) {
    let leaked = app.root().await;
    let caller = app.root().await;
    assert_eq!(app.list_clients(&leaked, "").await.status, StatusCode::OK);

    let path = format!("/api/v1/oauth/client/{ROOT_ID}/revoke");
    let reply = app.request(Method::POST, &path, Some(&caller), None).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);

    // Every root token issued before the cut-off is refused, the caller's own included.
    assert_invalid_token(&app.list_clients(&leaked, "").await);
    assert_invalid_token(&app.list_clients(&caller, "").await);
    // A root token issued afterwards works.
    let fresh = app.root().await;
    assert_eq!(app.list_clients(&fresh, "").await.status, StatusCode::OK);
    // The cut-off is in the audit trail.
    let audit = app.audit(&fresh, "size=100").await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    assert!(
        audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|event| event["action"] == "client.tokens.revoke"
                && event["target"] == ROOT_ID
                && event["outcome"] == "success"),
        "{}",
        audit.body
    );
}

#[actix_web::test]
async fn only_root_may_cut_off_root_tokens() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let revoker = app.new_client(&["token:revoke"]).await;
    let path = format!("/api/v1/oauth/client/{ROOT_ID}/revoke");
    let reply = app
        .request(Method::POST, &path, Some(&revoker.token), None)
        .await;
    assert_error(&reply, 403, "root_client_immutable");
    assert_eq!(app.list_clients(&root, "").await.status, StatusCode::OK);
}
