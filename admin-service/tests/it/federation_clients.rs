//! Workload identity on the admin side, for whole clients: created with keys, identities
//! and audiences (and then without a secret), deleted (freeing their subjects), every
//! change audited with key ids only, and the `federation:*` scopes in the registry. On
//! PostgreSQL and on SQLite.

use actix_web::http::StatusCode;
use auth_core::scopes::DEFAULT_SCOPES;
use serde_json::json;

use crate::federation::{K8S, identity, public_jwk, register};
use crate::support::{TestApp, assert_error, assert_escalation, on_both_backends};

on_both_backends!(
    clients_created_with_keys_or_identities_are_secret_less,
    creation_takes_audiences_keys_and_identities,
    deleting_a_client_frees_its_subjects,
    changes_are_audited_with_kids_only,
    the_registry_has_federation_scopes_after_audit_read,
);

async fn clients_created_with_keys_or_identities_are_secret_less(app: TestApp) {
    let root = app.root().await;
    register(&app, &root, K8S).await;
    let bodies = [
        json!({"scopes": ["client:read"], "keys": [public_jwk()]}),
        json!({"scopes": ["client:read"], "jwks_uri": "https://keys.example/jwks"}),
        json!({"scopes": ["client:read"], "identities": [identity(K8S, "system:serviceaccount:a:b")]}),
    ];
    for body in bodies {
        let created = app.create_client(&root, body.clone()).await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.body);
        assert!(
            created.body.get("client_secret").is_none(),
            "{}",
            created.body
        );
        let id = created.client_id().to_owned();
        assert_eq!(app.get_client(&root, &id).await.body["has_secret"], false);
        let listed = app.list_clients(&root, "size=100").await;
        let item = listed
            .items()
            .iter()
            .find(|item| item["client_id"] == id.as_str())
            .unwrap()
            .clone();
        assert_eq!(item["has_secret"], false, "{item}");
        // No secret verifies, not even the stored marker.
        assert_error(&app.token(&id, "none").await, 401, "invalid_client");

        // Rotation gives it one.
        let rotated = app.rotate_secret(&root, &id, None).await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
        let token = app.access_token(&id, rotated.secret()).await;
        assert_eq!(app.list_clients(&token, "").await.status, StatusCode::OK);
        assert_eq!(app.get_client(&root, &id).await.body["has_secret"], true);
    }
    // Without keys or identities a client has a secret, as before.
    let created = app
        .create_client(
            &root,
            json!({"scopes": ["client:read"], "audiences": ["urn:x"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(created.secret().starts_with("ocs_"));
}

async fn creation_takes_audiences_keys_and_identities(app: TestApp) {
    let root = app.root().await;
    register(&app, &root, K8S).await;
    let jwk = public_jwk();
    let body = json!({
        "scopes": ["client:read"],
        "name": "payments",
        "audiences": ["https://payments.example", "urn:ledger", "urn:ledger"],
        "keys": [jwk],
        "identities": [identity(K8S, "system:serviceaccount:payments:*")],
    });
    let created = app.create_client(&root, body).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(
        created.body["audiences"],
        json!(["https://payments.example", "urn:ledger"])
    );
    assert_eq!(created.body["keys"], json!([jwk]));
    assert_eq!(
        created.body["identities"],
        json!([identity(K8S, "system:serviceaccount:payments:*")])
    );
    let got = app.get_client(&root, created.client_id()).await.body;
    for field in [
        "audiences",
        "keys",
        "jwks_uri",
        "identities",
        "scopes",
        "name",
    ] {
        assert_eq!(got[field], created.body[field], "{field}");
    }

    // Any invalid part refuses the whole creation.
    let count = app.client_count().await;
    let mut private = public_jwk();
    private["d"] = json!("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
    for (body, status, code) in [
        (
            json!({"audiences": ["not absolute"]}),
            422,
            "invalid_client_metadata",
        ),
        (json!({"keys": [private]}), 422, "invalid_client_metadata"),
        (
            json!({"keys": [], "jwks_uri": "https://k.example/j"}),
            422,
            "invalid_client_metadata",
        ),
        (
            json!({"jwks_uri": "http://k.example/j"}),
            422,
            "invalid_client_metadata",
        ),
        (
            json!({"identities": [identity("urn:unknown", "x")]}),
            422,
            "invalid_client_metadata",
        ),
        (
            json!({"keys": [public_jwk()], "identities": [identity(K8S, "system:serviceaccount:payments:*")]}),
            409,
            "conflict",
        ),
        (
            json!({"identities": [identity(K8S, "a*b")]}),
            422,
            "invalid_client_metadata",
        ),
        (json!({"audience": ["urn:x"]}), 400, "invalid_request"),
        (json!({"identities": [[K8S, "x"]]}), 400, "invalid_request"),
    ] {
        let reply = app.create_client(&root, body.clone()).await;
        assert_error(&reply, status, code);
    }
    assert_eq!(app.client_count().await, count);
}

async fn deleting_a_client_frees_its_subjects(app: TestApp) {
    let root = app.root().await;
    register(&app, &root, K8S).await;
    let a = app.new_client(&["client:read"]).await;
    let b = app.new_client(&["client:read"]).await;
    let bind = json!([identity(K8S, "system:serviceaccount:p:api")]);
    assert_eq!(
        app.put_identities(&root, &a.id, bind.clone()).await.status,
        StatusCode::OK
    );
    assert_error(
        &app.put_identities(&root, &b.id, bind.clone()).await,
        409,
        "conflict",
    );
    assert_eq!(
        app.delete_client(&root, &a.id).await.status,
        StatusCode::NO_CONTENT
    );
    let reply = app.put_identities(&root, &b.id, bind).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

async fn changes_are_audited_with_kids_only(app: TestApp) {
    let root = app.root().await;
    let jwk = public_jwk();
    let x = jwk["x"].as_str().unwrap().to_owned();
    let kid = jwk["kid"].as_str().unwrap().to_owned();
    let issuer = app
        .create_issuer(
            &root,
            json!({"issuer": K8S, "jwks": {"keys": [jwk.clone()]}}),
        )
        .await;
    assert_eq!(issuer.status, StatusCode::CREATED, "{}", issuer.body);
    let issuer_id = issuer.body["id"].as_str().unwrap().to_owned();
    let client = app.new_client(&["client:read"]).await;
    assert_eq!(
        app.put_keys(&root, &client.id, json!({"keys": [jwk]}))
            .await
            .status,
        StatusCode::OK
    );
    let bind = json!([identity(K8S, "system:serviceaccount:p:api")]);
    assert_eq!(
        app.put_identities(&root, &client.id, bind).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.delete_issuer(&root, &issuer_id).await.status,
        StatusCode::NO_CONTENT
    );
    // A refused attempt is recorded too.
    let weak = app.new_client(&["client:update"]).await;
    let stronger = app.new_client(&["client:read"]).await;
    assert_escalation(
        &app.put_keys(&weak.token, &stronger.id, json!({"keys": []}))
            .await,
        &["client:read"],
    );

    let audit = app.audit(&root, "size=100").await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    let entries: Vec<(String, String, String)> = audit
        .items()
        .iter()
        .filter(|e| e["action"] != "client.create")
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["target"].as_str().unwrap_or_default().to_owned(),
                e["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let success =
        |action: &str, target: &str| (action.to_owned(), target.to_owned(), "success".to_owned());
    assert_eq!(
        entries,
        [
            success("issuer.create", &issuer_id),
            success("client.keys.replace", &client.id),
            success("client.identities.replace", &client.id),
            success("issuer.delete", &issuer_id),
            (
                "client.keys.replace".to_owned(),
                stronger.id.clone(),
                "refused".to_owned()
            ),
        ]
    );
    let text = audit.body.to_string();
    assert!(text.contains(&kid), "the kid is recorded: {text}");
    assert!(
        !text.contains(&x),
        "key material in the audit trail: {text}"
    );
}

async fn the_registry_has_federation_scopes_after_audit_read(app: TestApp) {
    let root = app.root().await;
    let registry = app.registry(&root).await.strings();
    assert_eq!(registry, DEFAULT_SCOPES);
    let at = registry.iter().position(|s| s == "audit:read").unwrap();
    assert_eq!(
        registry[at + 1..at + 4],
        [
            "federation:read",
            "federation:create_or_update",
            "federation:delete"
        ]
    );
    // And they are grantable like any scope.
    let client = app
        .new_client(&[
            "federation:read",
            "federation:create_or_update",
            "federation:delete",
        ])
        .await;
    assert_eq!(app.list_issuers(&client.token).await.status, StatusCode::OK);
}
