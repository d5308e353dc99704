//! The audit trail: every change and every refused attempt, in order, with actor, action,
//! target, source address and outcome; paginated; readable only with `audit:read`; no secret.

use actix_web::http::StatusCode;
use auth_core::testing::Backend;
use serde_json::{Value, json};

use crate::support::{
    ROOT_ID, TestApp, assert_escalation, assert_insufficient_scope, assert_no_secret,
};

/// `(actor, action, target, outcome)` of an entry.
fn summary(entry: &Value) -> (String, String, Value, String) {
    (
        entry["actor_client_id"].as_str().unwrap().to_owned(),
        entry["action"].as_str().unwrap().to_owned(),
        entry["target"].clone(),
        entry["outcome"].as_str().unwrap().to_owned(),
    )
}

#[actix_web::test]
async fn a_sequence_of_changes_leaves_its_entries_in_order() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let empty = app.audit(&root, "").await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert_eq!(
        empty.body,
        json!({"items": [], "total": 0, "page": 1, "size": 50, "pages": 0,
               "next": null, "total_is_estimate": false})
    );

    let caller = app.new_client(&["client:create", "client:read"]).await;
    let created = app
        .create_client(&root, json!({"scopes": ["client:read"], "name": "target"}))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let target = created.client_id().to_owned();
    let first_secret = created.secret().to_owned();
    assert_eq!(
        app.put_scopes(&root, &target, json!(["client:read", "config:read"]))
            .await
            .status,
        StatusCode::OK
    );
    let rotated = app
        .rotate_secret(&root, &target, Some(json!({"grace_period_seconds": 30})))
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let second_secret = rotated.secret().to_owned();
    assert_eq!(
        app.delete_client(&root, &target).await.status,
        StatusCode::NO_CONTENT
    );
    let refused = app
        .create_client(&caller.token, json!(["client:read", "client:delete"]))
        .await;
    assert_escalation(&refused, &["client:delete"]);
    // Reads are not changes: they leave no entry.
    assert_eq!(app.list_clients(&root, "").await.status, StatusCode::OK);
    assert_eq!(
        app.get_scopes(&caller.token, &caller.id).await.status,
        StatusCode::OK
    );

    let reply = app.audit(&root, "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["total"], 6, "{}", reply.body);
    let entries = reply.items();
    let summaries: Vec<_> = entries.iter().map(summary).collect();
    let root_id = ROOT_ID.to_owned();
    assert_eq!(
        summaries,
        [
            (
                root_id.clone(),
                "client.create".into(),
                json!(caller.id),
                "success".into()
            ),
            (
                root_id.clone(),
                "client.create".into(),
                json!(target),
                "success".into()
            ),
            (
                root_id.clone(),
                "client.scopes.replace".into(),
                json!(target),
                "success".into()
            ),
            (
                root_id.clone(),
                "client.secret.rotate".into(),
                json!(target),
                "success".into()
            ),
            (
                root_id,
                "client.delete".into(),
                json!(target),
                "success".into()
            ),
            (
                caller.id.clone(),
                "client.create".into(),
                json!(null),
                "refused".into()
            ),
        ]
    );
    let mut previous: Option<(i64, String)> = None;
    for entry in entries {
        assert_eq!(entry["source_address"], "127.0.0.1", "{entry}");
        let id = entry["id"].as_i64().unwrap();
        let at = entry["occurred_at"].as_str().unwrap().to_owned();
        assert!(at.ends_with('Z'), "{at}");
        if let Some((previous_id, previous_at)) = &previous {
            assert!(id > *previous_id && at >= *previous_at, "{entry}");
        }
        previous = Some((id, at));
    }
    // The refused attempt says why; the scope change says what.
    assert_eq!(entries[5]["detail"], "insufficient_scope");
    assert!(
        entries[2]["detail"]
            .as_str()
            .unwrap()
            .contains("config:read"),
        "{}",
        entries[2]
    );

    assert_no_secret(
        &reply.body,
        &[
            &first_secret,
            &second_secret,
            &caller.secret,
            "root-secret-for-tests-only",
        ],
    );
}

#[actix_web::test]
async fn audit_is_paginated() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let mut targets = Vec::new();
    for _ in 0..5 {
        targets.push(app.new_client(&["client:read"]).await.id);
    }
    let mut seen = Vec::new();
    for page in 1..=3 {
        let reply = app.audit(&root, &format!("page={page}&size=2")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["total"], 5);
        assert_eq!(reply.body["pages"], 3);
        assert_eq!(reply.body["page"], page);
        assert_eq!(reply.body["size"], 2);
        seen.extend(
            reply
                .items()
                .iter()
                .map(|e| e["target"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(seen, targets);
    let beyond = app.audit(&root, "page=9&size=2").await;
    assert_eq!(beyond.items().len(), 0);
    for bad in ["page=0", "size=1000", "size=x"] {
        crate::support::assert_error(&app.audit(&root, bad).await, 400, "invalid_request");
    }
}

#[actix_web::test]
async fn audit_needs_audit_read() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let everything_else = app
        .new_client(&[
            "client:create",
            "client:read",
            "client:update",
            "client:delete",
            "scope:read",
        ])
        .await;
    assert_insufficient_scope(&app.audit(&everything_else.token, "").await, "audit:read");
    let auditor = app.new_client(&["audit:read"]).await;
    let reply = app.audit(&auditor.token, "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["total"], 2);
}

#[actix_web::test]
async fn forwarded_for_is_recorded_beside_the_peer() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let value = actix_web::http::header::HeaderValue::from_static("203.0.113.9");
    let headers = vec![
        (
            actix_web::http::header::AUTHORIZATION,
            format!("Bearer {root}").parse().unwrap(),
        ),
        (
            actix_web::http::header::HeaderName::from_static("x-forwarded-for"),
            value,
        ),
    ];
    let body = crate::support::Raw::json(&json!(["client:read"]));
    let reply = app
        .send(
            actix_web::http::Method::POST,
            "/api/v1/oauth/client",
            headers,
            Some(body),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let audit = app.audit(&root, "").await;
    // The peer is what the service saw; a forwarded address is extra, never a replacement.
    assert_eq!(
        audit.items()[0]["source_address"],
        "127.0.0.1 (x-forwarded-for: 203.0.113.9)"
    );
}

#[actix_web::test]
async fn refused_attempts_with_hostile_ids_are_audited() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    // Each is refused with a 400; each refusal must leave an entry, whatever the id held.
    for id in ["..", "%00", "a%00b", "a%2Fb"] {
        crate::support::assert_error(&app.delete_client(&root, id).await, 400, "invalid_request");
    }
    let audit = app.audit(&root, "").await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    let actions: Vec<_> = audit
        .items()
        .iter()
        .map(|e| (e["action"].clone(), e["outcome"].clone()))
        .collect();
    assert_eq!(
        actions,
        vec![(json!("client.delete"), json!("refused")); 4],
        "{}",
        audit.body
    );
}
