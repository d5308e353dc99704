//! Scopes per endpoint (403 `insufficient_scope` naming the scope, before the body is read)
//! and the root client, which the API can read but never change.

use actix_web::http::{Method, StatusCode};
use auth_core::scopes::DEFAULT_SCOPES;
use auth_core::testing::Backend;
use serde_json::json;

use crate::support::{ROOT_ID, Raw, TestApp, assert_error, assert_insufficient_scope, endpoints};

#[actix_web::test]
async fn every_endpoint_needs_its_scope() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    assert_eq!(
        app.add_scope(&root, "reports:read").await.status,
        StatusCode::CREATED
    );
    let target = app.new_client(&["client:read"]).await;
    // A valid token with a scope, just not the one any admin endpoint needs.
    let outsider = app.new_client(&["config:read"]).await;
    for endpoint in endpoints(&target.id) {
        let body = endpoint.body.as_ref().map(Raw::json);
        let reply = app
            .request(
                endpoint.method.clone(),
                &endpoint.path,
                Some(&outsider.token),
                body,
            )
            .await;
        assert_insufficient_scope(&reply, endpoint.scope);
    }
    // A token with no scope at all is treated the same.
    let nothing = app.new_client(&[]).await;
    for endpoint in endpoints(&target.id) {
        let body = endpoint.body.as_ref().map(Raw::json);
        let reply = app
            .request(
                endpoint.method.clone(),
                &endpoint.path,
                Some(&nothing.token),
                body,
            )
            .await;
        assert_insufficient_scope(&reply, endpoint.scope);
    }

    // Nothing changed: same clients, same scopes, same secret, the custom scope still there.
    assert_eq!(app.client_count().await, 3);
    assert_eq!(
        app.get_scopes(&root, &target.id).await.body,
        json!(["client:read"])
    );
    assert_eq!(
        app.token(&target.id, &target.secret).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get_client(&target.token, &target.id).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.registry(&root)
            .await
            .strings()
            .last()
            .map(String::as_str),
        Some("reports:read")
    );
}

#[actix_web::test]
async fn each_scope_opens_only_its_endpoints() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let target = app.new_client(&["client:read"]).await;
    // A caller holding exactly one endpoint scope gets past the scope check there
    // (any answer but 401/403) and a 403 naming the other scope everywhere else.
    for scope in ["client:read", "scope:read", "audit:read"] {
        let caller = app.new_client(&[scope]).await;
        for endpoint in endpoints(&target.id) {
            let body = endpoint.body.as_ref().map(Raw::json);
            let reply = app
                .request(
                    endpoint.method.clone(),
                    &endpoint.path,
                    Some(&caller.token),
                    body,
                )
                .await;
            if endpoint.scope == scope {
                assert_eq!(
                    reply.status,
                    StatusCode::OK,
                    "{scope} {}: {}",
                    endpoint.path,
                    reply.body
                );
            } else {
                assert_insufficient_scope(&reply, endpoint.scope);
            }
        }
    }
}

#[actix_web::test]
async fn scope_is_checked_before_the_body() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let target = app.new_client(&["client:read"]).await;
    let reader = app.new_client(&["client:read", "scope:read"]).await;
    let cases = [
        (
            Method::POST,
            "/api/v1/oauth/client".to_owned(),
            "client:create",
        ),
        (
            Method::PUT,
            format!("/api/v1/oauth/client/{}/scope", target.id),
            "client:update",
        ),
        (
            Method::POST,
            format!("/api/v1/oauth/client/{}/secret", target.id),
            "client:update",
        ),
        (
            Method::POST,
            "/api/v1/oauth/scope".to_owned(),
            "scope:create_or_update",
        ),
        (
            Method::PUT,
            format!("/api/v1/oauth/client/{}/keys", target.id),
            "client:update",
        ),
        (
            Method::PUT,
            format!("/api/v1/oauth/client/{}/identities", target.id),
            "client:update",
        ),
        (
            Method::POST,
            "/api/v1/oauth/issuer".to_owned(),
            "federation:create_or_update",
        ),
    ];
    for (method, path, scope) in &cases {
        for body in [
            Raw::new("application/json", "{not json"),
            Raw::new("text/plain", "hello"),
            Raw::new("application/json", r#"{"unknown": 1}"#),
            Raw::new("application/json", r#"["no:such-scope"]"#),
        ] {
            let reply = app
                .request(method.clone(), path, Some(&reader.token), Some(body))
                .await;
            assert_insufficient_scope(&reply, scope);
        }
    }
}

#[actix_web::test]
async fn root_client_cannot_be_changed_through_the_api() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let admin = app
        .new_client(&["client:read", "client:update", "client:delete"])
        .await;
    let before = app.audit(&root, "").await.body["total"].as_i64().unwrap();

    let reply = app.delete_client(&root, ROOT_ID).await;
    assert_error(&reply, 403, "root_client_immutable");
    let reply = app.put_scopes(&root, ROOT_ID, json!(["client:read"])).await;
    assert_error(&reply, 403, "root_client_immutable");
    let reply = app.rotate_secret(&root, ROOT_ID, None).await;
    assert_error(&reply, 403, "root_client_immutable");
    let reply = app
        .rotate_secret(&root, ROOT_ID, Some(json!({"grace_period_seconds": 60})))
        .await;
    assert_error(&reply, 403, "root_client_immutable");

    // A non-root caller with every client scope is refused the same way.
    assert_error(
        &app.delete_client(&admin.token, ROOT_ID).await,
        403,
        "root_client_immutable",
    );
    let reply = app
        .put_scopes(&admin.token, ROOT_ID, json!(["client:read"]))
        .await;
    assert_error(&reply, 403, "root_client_immutable");
    assert_error(
        &app.rotate_secret(&admin.token, ROOT_ID, None).await,
        403,
        "root_client_immutable",
    );

    // Root still works, with its old token and with a new one.
    assert_eq!(app.list_clients(&root, "").await.status, StatusCode::OK);
    assert_eq!(app.root_token().await.status, StatusCode::OK);

    // Each refusal is in the audit trail.
    let audit = app.audit(&root, "size=100").await;
    let total = audit.body["total"].as_i64().unwrap();
    assert_eq!(total - before, 7, "{}", audit.body);
    for entry in audit.items().iter().skip(usize::try_from(before).unwrap()) {
        assert_eq!(entry["outcome"], "refused", "{entry}");
        assert_eq!(entry["target"], ROOT_ID, "{entry}");
    }
}

#[actix_web::test]
async fn root_client_scopes_are_the_whole_registry() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let reply = app.get_scopes(&root, ROOT_ID).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, json!(DEFAULT_SCOPES.as_slice()));

    let reply = app.get_client(&root, ROOT_ID).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["client_id"], ROOT_ID);
    assert_eq!(reply.body["scopes"], json!(DEFAULT_SCOPES.as_slice()));

    // Custom scopes join the root's at once.
    assert_eq!(
        app.add_scope(&root, "reports:read").await.status,
        StatusCode::CREATED
    );
    let reply = app.get_scopes(&root, ROOT_ID).await;
    assert_eq!(reply.strings().len(), DEFAULT_SCOPES.len() + 1);
    assert_eq!(
        reply.strings().last().map(String::as_str),
        Some("reports:read")
    );
    let token = app.root_token().await;
    assert!(
        token.body["scope"]
            .as_str()
            .unwrap()
            .ends_with(" reports:read"),
        "{}",
        token.body
    );
}
