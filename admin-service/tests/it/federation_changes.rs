//! Workload identity on the admin side, who may change what and what it revokes: keys and
//! identities hand over a client's power, so the caller needs every scope it holds; a
//! replacement that drops something revokes the client's older tokens, a first setting does
//! not; deleting an issuer revokes the clients bound through it. On PostgreSQL and on
//! SQLite.

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use crate::federation::{K8S, identity, public_jwk, register};
use crate::support::{
    TestApp, assert_error, assert_escalation, assert_invalid_token, on_both_backends,
};

on_both_backends!(
    keys_and_identities_need_every_scope_of_the_client,
    the_root_client_gets_no_keys_or_identities,
    replacing_keys_revokes_older_tokens_a_first_setting_does_not,
    replacing_identities_revokes_older_tokens_a_first_setting_does_not,
    deleting_an_issuer_revokes_the_clients_bound_through_it,
);

async fn keys_and_identities_need_every_scope_of_the_client(app: TestApp) {
    let root = app.root().await;
    register(&app, &root, K8S).await;
    let updater = app.new_client(&["client:update", "client:read"]).await;
    let weaker = app.new_client(&["client:read"]).await;
    let stronger = app.new_client(&["client:read", "client:delete"]).await;

    let keys = json!({"keys": [public_jwk()]});
    let reply = app
        .put_keys(&updater.token, &stronger.id, keys.clone())
        .await;
    assert_escalation(&reply, &["client:delete"]);
    let bind = json!([identity(K8S, "system:serviceaccount:x:y")]);
    let reply = app
        .put_identities(&updater.token, &stronger.id, bind.clone())
        .await;
    assert_escalation(&reply, &["client:delete"]);
    let reply = app
        .put_keys(
            &updater.token,
            &stronger.id,
            json!({"jwks_uri": "https://evil.example/jwks"}),
        )
        .await;
    assert_escalation(&reply, &["client:delete"]);
    let unchanged = app.get_client(&root, &stronger.id).await.body;
    assert_eq!(unchanged["keys"], json!([]));
    assert_eq!(unchanged["jwks_uri"], Value::Null);
    assert_eq!(unchanged["identities"], json!([]));

    // No weaker than the caller: allowed.
    let reply = app.put_keys(&updater.token, &weaker.id, keys).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = app.put_identities(&updater.token, &weaker.id, bind).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // Without client:update the endpoint's own scope is refused first.
    let reader = app.new_client(&["client:read"]).await;
    crate::support::assert_insufficient_scope(
        &app.put_keys(&reader.token, &weaker.id, json!({"keys": []}))
            .await,
        "client:update",
    );
}

async fn the_root_client_gets_no_keys_or_identities(app: TestApp) {
    let root = app.root().await;
    register(&app, &root, K8S).await;
    let reply = app
        .put_keys(
            &root,
            crate::support::ROOT_ID,
            json!({"keys": [public_jwk()]}),
        )
        .await;
    assert_error(&reply, 403, "root_client_immutable");
    let reply = app
        .put_identities(&root, crate::support::ROOT_ID, json!([identity(K8S, "x")]))
        .await;
    assert_error(&reply, 403, "root_client_immutable");
}

async fn replacing_keys_revokes_older_tokens_a_first_setting_does_not(app: TestApp) {
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    let first = public_jwk();
    let second = public_jwk();

    // First keys: nothing revoked.
    let reply = app
        .put_keys(&root, &client.id, json!({"keys": [first]}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        app.list_clients(&client.token, "").await.status,
        StatusCode::OK
    );
    // Adding a key while keeping the first drops nothing: nothing revoked.
    let reply = app
        .put_keys(&root, &client.id, json!({"keys": [first, second]}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        app.list_clients(&client.token, "").await.status,
        StatusCode::OK
    );

    // Dropping one: the older token is refused, a newer one works.
    let reply = app
        .put_keys(&root, &client.id, json!({"keys": [second]}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_invalid_token(&app.list_clients(&client.token, "").await);
    let after = app.access_token(&client.id, &client.secret).await;
    assert_eq!(app.list_clients(&after, "").await.status, StatusCode::OK);

    // Switching to a URL drops the inline keys; changing the URL drops the old one.
    let uri = json!({"jwks_uri": "https://keys.example/a"});
    assert_eq!(
        app.put_keys(&root, &client.id, uri).await.status,
        StatusCode::OK
    );
    assert_invalid_token(&app.list_clients(&after, "").await);
    let after = app.access_token(&client.id, &client.secret).await;
    let same = json!({"jwks_uri": "https://keys.example/a"});
    assert_eq!(
        app.put_keys(&root, &client.id, same).await.status,
        StatusCode::OK
    );
    assert_eq!(app.list_clients(&after, "").await.status, StatusCode::OK);
    let other = json!({"jwks_uri": "https://keys.example/b"});
    assert_eq!(
        app.put_keys(&root, &client.id, other).await.status,
        StatusCode::OK
    );
    assert_invalid_token(&app.list_clients(&after, "").await);

    // Removing every key revokes too.
    let after = app.access_token(&client.id, &client.secret).await;
    let none = json!({"keys": []});
    assert_eq!(
        app.put_keys(&root, &client.id, none).await.status,
        StatusCode::OK
    );
    assert_invalid_token(&app.list_clients(&after, "").await);
}

async fn replacing_identities_revokes_older_tokens_a_first_setting_does_not(app: TestApp) {
    let root = app.root().await;
    register(&app, &root, K8S).await;
    let client = app.new_client(&["client:read"]).await;
    let (api, worker) = (
        "system:serviceaccount:p:api",
        "system:serviceaccount:p:worker",
    );

    let reply = app
        .put_identities(&root, &client.id, json!([identity(K8S, api)]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        app.list_clients(&client.token, "").await.status,
        StatusCode::OK
    );
    let both = json!([identity(K8S, api), identity(K8S, worker)]);
    assert_eq!(
        app.put_identities(&root, &client.id, both).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.list_clients(&client.token, "").await.status,
        StatusCode::OK
    );

    let reply = app
        .put_identities(&root, &client.id, json!([identity(K8S, worker)]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_invalid_token(&app.list_clients(&client.token, "").await);
    let after = app.access_token(&client.id, &client.secret).await;
    assert_eq!(app.list_clients(&after, "").await.status, StatusCode::OK);

    assert_eq!(
        app.put_identities(&root, &client.id, json!([]))
            .await
            .status,
        StatusCode::OK
    );
    assert_invalid_token(&app.list_clients(&after, "").await);
}

async fn deleting_an_issuer_revokes_the_clients_bound_through_it(app: TestApp) {
    let root = app.root().await;
    let k8s = register(&app, &root, K8S).await;
    register(&app, &root, "https://ci.example").await;
    let bound = app.new_client(&["client:read"]).await;
    let elsewhere = app.new_client(&["client:read"]).await;
    let unbound = app.new_client(&["client:read"]).await;
    let reply = app
        .put_identities(
            &root,
            &bound.id,
            json!([
                identity(K8S, "system:serviceaccount:p:*"),
                identity("https://ci.example", "repo:a")
            ]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = app
        .put_identities(
            &root,
            &elsewhere.id,
            json!([identity("https://ci.example", "repo:b")]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        app.list_clients(&bound.token, "").await.status,
        StatusCode::OK
    );

    let reply = app.delete_issuer(&root, &k8s).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_invalid_token(&app.list_clients(&bound.token, "").await);
    assert_eq!(
        app.get_client(&root, &bound.id).await.body["identities"],
        json!([identity("https://ci.example", "repo:a")])
    );
    let after = app.access_token(&bound.id, &bound.secret).await;
    assert_eq!(app.list_clients(&after, "").await.status, StatusCode::OK);
    // Clients bound through other issuers only, or not at all, keep their tokens.
    assert_eq!(
        app.list_clients(&elsewhere.token, "").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.list_clients(&unbound.token, "").await.status,
        StatusCode::OK
    );
    // Its bindings are gone: the issuer is unknown to identities now.
    let reply = app
        .put_identities(&root, &unbound.id, json!([identity(K8S, "x")]))
        .await;
    assert_error(&reply, 422, "invalid_client_metadata");
}
