//! A client's own limits through the admin API: read and replaced (audited), enforced by
//! token-service from the next request, bad input refused without a change, and admin
//! revocations counted against the caller's revocation limit.

use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Raw, TestApp, assert_error, on_both_backends};

on_both_backends!(
    limits_are_read_replaced_audited_and_enforced,
    bad_limits_change_nothing,
    admin_revocations_count_against_the_caller_s_limit,
);

fn defaults() -> Value {
    json!({
        "tokens_per_minute": null,
        "revocations_per_minute": null,
        "effective": {"tokens_per_minute": 0, "revocations_per_minute": 120},
    })
}

/// A 429 that names `what` and says when to retry.
fn assert_limit(reply: &crate::support::Reply, what: &str) {
    assert_error(reply, 429, "rate_limited");
    let description = reply.body["error_description"].as_str().unwrap();
    assert!(description.contains(what), "{description}");
    let wait: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
}

async fn limits_are_read_replaced_audited_and_enforced(app: TestApp) {
    let root = app.root().await;
    let client = app.new_client(&[]).await;
    let reply = app.get_limits(&root, &client.id).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, defaults());

    let reply = app
        .put_limits(&root, &client.id, json!({"tokens_per_minute": 2}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let set = json!({
        "tokens_per_minute": 2,
        "revocations_per_minute": null,
        "effective": {"tokens_per_minute": 2, "revocations_per_minute": 120},
    });
    assert_eq!(reply.body, set);
    assert_eq!(app.get_limits(&root, &client.id).await.body, set);

    // token-service counts from the new limit on.
    for _ in 0..2 {
        let reply = app.token(&client.id, &client.secret).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    assert_limit(
        &app.token(&client.id, &client.secret).await,
        "2 tokens issued per minute",
    );

    // Back to the defaults (no issuance limit): null, or the field left out.
    let reply = app.put_limits(&root, &client.id, json!({})).await;
    assert_eq!(reply.body, defaults());
    let reply = app.token(&client.id, &client.secret).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let audit = app.audit(&root, "").await;
    let changes: Vec<(&str, &str)> = audit
        .items()
        .iter()
        .filter(|entry| entry["action"] == "client.limits.replace")
        .map(|entry| {
            assert_eq!(entry["target"], client.id.as_str());
            (
                entry["outcome"].as_str().unwrap(),
                entry["detail"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            (
                "success",
                "tokens_per_minute: 2, revocations_per_minute: default"
            ),
            (
                "success",
                "tokens_per_minute: default, revocations_per_minute: default"
            ),
        ],
        "{}",
        audit.body
    );
}

async fn bad_limits_change_nothing(app: TestApp) {
    let root = app.root().await;
    let client = app.new_client(&[]).await;
    for body in [
        json!({"tokens_per_minute": -1}),
        json!({"tokens_per_minute": 10_000_001}),
        json!({"revocations_per_minute": "ten"}),
        json!({"revocations_per_minute": 1.5}),
        json!({"tokens_per_minute": 5, "burst": 3}),
        json!([5]),
        json!(null),
    ] {
        let reply = app.put_limits(&root, &client.id, body.clone()).await;
        assert_error(&reply, 400, "invalid_request");
        let text = reply.body.to_string();
        assert!(!text.contains("u32") && !text.contains("serde"), "{text}");
    }
    let path = format!("/api/v1/oauth/client/{}/limits", client.id);
    let no_body = app.request(Method::PUT, &path, Some(&root), None).await;
    assert_error(&no_body, 400, "invalid_request");
    let not_json = Raw::new("text/plain", "tokens_per_minute=5");
    let reply = app
        .request(Method::PUT, &path, Some(&root), Some(not_json))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        reply.body
    );
    assert_eq!(app.get_limits(&root, &client.id).await.body, defaults());

    // JSON Schema's integers include 5.0.
    let reply = app
        .put_limits(&root, &client.id, json!({"revocations_per_minute": 5.0}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["revocations_per_minute"], 5);

    let limits = json!({"tokens_per_minute": 5});
    let reply = app
        .put_limits(&root, crate::support::ROOT_ID, limits.clone())
        .await;
    assert_error(&reply, 403, "root_client_immutable");
    let reply = app.get_limits(&root, crate::support::ROOT_ID).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let never = json!({"tokens_per_minute": 0, "revocations_per_minute": 0});
    assert_eq!(reply.body["effective"], never, "root is never limited");
    let unknown = "AAAAAAAAAAAAAAAAAAAAAA";
    assert_error(
        &app.put_limits(&root, unknown, limits).await,
        404,
        "not_found",
    );
    assert_error(&app.get_limits(&root, unknown).await, 404, "not_found");
}

async fn admin_revocations_count_against_the_caller_s_limit(app: TestApp) {
    let root = app.root().await;
    let revoker = app.new_client(&["token:revoke"]).await;
    let reply = app
        .put_limits(&root, &revoker.id, json!({"revocations_per_minute": 1}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let victim = app.new_client(&[]).await;
    let first = app.access_token(&victim.id, &victim.secret).await;
    let second = app.access_token(&victim.id, &victim.secret).await;
    let revoke = |token: String, caller: String| {
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/api/v1/oauth/revocation",
                Some(&caller),
                Some(Raw::json(&json!({ "token": token }))),
            )
            .await
        }
    };
    let reply = revoke(first, revoker.token.clone()).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let refused = revoke(second.clone(), revoker.token.clone()).await;
    assert_limit(&refused, "1 tokens revoked per minute");
    // Refused means not revoked: the token still authenticates (403 for want of a scope,
    // not 401), and root, never limited, revokes it.
    let still = app.get_scopes(&second, &victim.id).await;
    assert_error(&still, 403, "insufficient_scope");
    let reply = revoke(second.clone(), root.clone()).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    crate::support::assert_invalid_token(&app.get_scopes(&second, &victim.id).await);
    for _ in 0..3 {
        let token = app.access_token(&victim.id, &victim.secret).await;
        let reply = revoke(token, root.clone()).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    }
}
