//! Workload identity on the admin side: trusted issuers (register, read, delete), a client's
//! keys and identities (replace), secret-less clients, and what each change revokes. Keys
//! and identities hand over a client's power, so the caller needs every scope it holds; a
//! replacement that drops something revokes the client's older tokens, a first setting does
//! not. On PostgreSQL and on SQLite.

use actix_web::http::StatusCode;
use auth_core::scopes::DEFAULT_SCOPES;
use auth_core::token::SigningKey;
use serde_json::{Value, json};

use crate::support::{
    TestApp, assert_error, assert_escalation, assert_invalid_token, on_both_backends,
};

on_both_backends!(
    issuers_are_registered_read_and_deleted,
    issuer_input_is_checked,
    client_keys_are_public_checked_keys,
    identities_name_registered_issuers_and_free_subjects,
    keys_and_identities_need_every_scope_of_the_client,
    the_root_client_gets_no_keys_or_identities,
    replacing_keys_revokes_older_tokens_a_first_setting_does_not,
    replacing_identities_revokes_older_tokens_a_first_setting_does_not,
    deleting_an_issuer_revokes_the_clients_bound_through_it,
    clients_created_with_keys_or_identities_are_secret_less,
    creation_takes_audiences_keys_and_identities,
    deleting_a_client_frees_its_subjects,
    changes_are_audited_with_kids_only,
    the_registry_has_federation_scopes_after_audit_read,
);

const K8S: &str = "https://kubernetes.default.svc";

/// A fresh Ed25519 public JWK (with its thumbprint `kid`, `alg` and `use`).
fn public_jwk() -> Value {
    let (key, _) = SigningKey::generate_ed25519().unwrap();
    serde_json::to_value(key.verifying_key().jwk()).unwrap()
}

/// Registers `iss` with an inline key as root; returns its id.
async fn register(app: &TestApp, root: &str, iss: &str) -> String {
    let reply = app
        .create_issuer(
            root,
            json!({"issuer": iss, "jwks": {"keys": [public_jwk()]}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

fn identity(iss: &str, subject: &str) -> Value {
    json!({"issuer": iss, "subject": subject})
}

async fn issuers_are_registered_read_and_deleted(app: TestApp) {
    let root = app.root().await;
    assert_eq!(app.list_issuers(&root).await.body, json!([]));

    let jwk = public_jwk();
    let body = json!({"issuer": K8S, "jwks": {"keys": [jwk]}, "audiences": ["https://auth.test.example", "urn:payments"]});
    let created = app.create_issuer(&root, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("iss_"), "{id}");
    assert_eq!(created.body["issuer"], K8S);
    assert_eq!(created.body["jwks_uri"], Value::Null);
    assert_eq!(created.body["keys"], json!([jwk]));
    assert_eq!(
        created.body["audiences"],
        json!(["https://auth.test.example", "urn:payments"])
    );

    // Registered twice: 409, and the first registration is unchanged.
    let again = json!({"issuer": K8S, "jwks_uri": "https://other.example/jwks"});
    assert_error(&app.create_issuer(&root, again).await, 409, "conflict");

    // A URL-keyed issuer: https anywhere, http on a loopback host only.
    for (n, uri) in [
        "https://token.actions.githubusercontent.com/.well-known/jwks",
        "http://127.0.0.1:9/jwks",
        "http://[::1]:9/jwks",
        "http://localhost/jwks",
    ]
    .into_iter()
    .enumerate()
    {
        let iss = format!("urn:issuer:{n}");
        let reply = app
            .create_issuer(&root, json!({"issuer": iss, "jwks_uri": uri}))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{uri}: {}", reply.body);
        assert_eq!(reply.body["jwks_uri"], uri);
        assert_eq!(reply.body["keys"], json!([]));
        assert_eq!(reply.body["audiences"], json!([]));
    }

    let listed = app.list_issuers(&root).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let listed = listed.body.as_array().unwrap().clone();
    assert_eq!(listed.len(), 5);
    assert_eq!(listed[0], created.body, "oldest first, shown as created");

    // federation:read is enough to read; it shows public keys only.
    let reader = app.new_client(&["federation:read"]).await;
    let one = app.get_issuer(&reader.token, &id).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    assert_eq!(one.body, created.body);
    assert!(one.body["keys"][0].get("d").is_none());
    assert_error(
        &app.get_issuer(&root, "iss_unknown").await,
        404,
        "not_found",
    );
    assert_error(&app.get_issuer(&root, "..").await, 400, "invalid_request");

    let deleter = app.new_client(&["federation:delete"]).await;
    let reply = app.delete_issuer(&deleter.token, &id).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_error(&app.get_issuer(&root, &id).await, 404, "not_found");
    assert_error(&app.delete_issuer(&root, &id).await, 404, "not_found");
    assert_eq!(
        app.list_issuers(&root).await.body.as_array().unwrap().len(),
        4
    );
    // Deleted, the issuer value may be registered again.
    register(&app, &root, K8S).await;
}

async fn issuer_input_is_checked(app: TestApp) {
    let root = app.root().await;
    let jwk = public_jwk();
    let mut private = jwk.clone();
    private["d"] = json!("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
    let cases = [
        json!({"issuer": "urn:a", "jwks_uri": "http://issuer.example/jwks"}),
        json!({"issuer": "urn:a", "jwks_uri": "http://10.1.2.3/jwks"}),
        json!({"issuer": "urn:a", "jwks_uri": "https://user@issuer.example/jwks"}),
        json!({"issuer": "urn:a", "jwks_uri": "https://issuer.example/jwks#keys"}),
        json!({"issuer": "urn:a", "jwks_uri": "not a url"}),
        json!({"issuer": "urn:a", "jwks_uri": format!("https://issuer.example/{}", "a".repeat(2048))}),
        json!({"issuer": "urn:a", "jwks": {"keys": [private]}}),
        json!({"issuer": "urn:a", "jwks": {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}]}}),
        json!({"issuer": "urn:a", "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}),
        json!({"issuer": "urn:a", "jwks": {"keys": []}}),
        json!({"issuer": "urn:a", "jwks": {"keys": [jwk, jwk]}}),
        json!({"issuer": "urn:a", "jwks_uri": "https://x.example/jwks", "audiences": ["relative/path"]}),
        json!({"issuer": "urn:a", "jwks_uri": "https://x.example/jwks", "audiences": ["https://a b"]}),
        json!({"issuer": "", "jwks_uri": "https://x.example/jwks"}),
        json!({"issuer": "has space", "jwks_uri": "https://x.example/jwks"}),
        json!({"issuer": "a".repeat(513), "jwks_uri": "https://x.example/jwks"}),
    ];
    for body in cases {
        let reply = app.create_issuer(&root, body.clone()).await;
        assert_error(&reply, 422, "invalid_issuer_metadata");
        assert!(
            !reply.body.to_string().contains("nWGxne"),
            "the private member echoed: {}",
            reply.body
        );
    }
    let many: Vec<String> = (0..17).map(|n| format!("urn:aud:{n}")).collect();
    let reply = app
        .create_issuer(
            &root,
            json!({"issuer": "urn:a", "jwks_uri": "https://x.example/j", "audiences": many}),
        )
        .await;
    assert_error(&reply, 422, "invalid_issuer_metadata");

    // Shapes: both key sources, neither, unknown members, wrong types: 400 without Rust names.
    for body in [
        json!({"issuer": "urn:a"}),
        json!({"issuer": "urn:a", "jwks_uri": "https://x.example/j", "jwks": {"keys": [public_jwk()]}}),
        json!({"issuer": "urn:a", "jwks_uri": "https://x.example/j", "extra": 1}),
        json!({"issuer": "urn:a", "jwks": {"keys": [public_jwk()], "extra": 1}}),
        json!({"issuer": "urn:a", "jwks": [[public_jwk()]]}),
        json!({"issuer": 7, "jwks_uri": "https://x.example/j"}),
        json!(["urn:a"]),
    ] {
        let reply = app.create_issuer(&root, body).await;
        assert_error(&reply, 400, "invalid_request");
        let text = reply.body["error_description"].as_str().unwrap();
        assert!(
            !text.contains("IssuerBody") && !text.contains("JwksBody"),
            "{text}"
        );
    }
    assert_eq!(app.list_issuers(&root).await.body, json!([]));
}

async fn client_keys_are_public_checked_keys(app: TestApp) {
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    let jwk = public_jwk();
    let mut unnamed = public_jwk();
    let thumbprint = unnamed.as_object_mut().unwrap().remove("kid").unwrap();

    let reply = app
        .put_keys(&root, &client.id, json!({"keys": [jwk, unnamed]}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["client_id"], client.id);
    assert_eq!(reply.body["keys"][0], jwk);
    assert_eq!(
        reply.body["keys"][1]["kid"], thumbprint,
        "the kid filled in"
    );
    assert_eq!(reply.body["jwks_uri"], Value::Null);
    assert_eq!(reply.body["has_secret"], true);
    assert_eq!(app.get_client(&root, &client.id).await.body, reply.body);

    let mut private = public_jwk();
    private["d"] = json!("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
    let mut wrong_alg = public_jwk();
    wrong_alg["alg"] = json!("RS256");
    let too_many: Vec<Value> = (0..17).map(|_| public_jwk()).collect();
    for body in [
        json!({"keys": [private]}),
        json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}),
        json!({"keys": [{"kty": "OKP", "crv": "Ed25519"}]}),
        json!({"keys": [wrong_alg]}),
        json!({"keys": ["not a key"]}),
        json!({"keys": [jwk, jwk]}),
        json!({"keys": too_many}),
        json!({"jwks_uri": "http://keys.example/jwks"}),
        json!({"jwks_uri": "https://keys.example/jwks#x"}),
        json!({"keys": [], "jwks_uri": "https://keys.example/jwks"}),
    ] {
        let reply = app.put_keys(&root, &client.id, body).await;
        assert_error(&reply, 422, "invalid_client_metadata");
        assert!(!reply.body.to_string().contains("nWGxne"), "{}", reply.body);
    }
    for body in [json!({}), json!({"jwks": {"keys": []}}), json!([jwk])] {
        assert_error(
            &app.put_keys(&root, &client.id, body).await,
            400,
            "invalid_request",
        );
    }
    // The refused calls changed nothing.
    assert_eq!(app.get_client(&root, &client.id).await.body["keys"][0], jwk);

    let reply = app
        .put_keys(
            &root,
            &client.id,
            json!({"jwks_uri": "https://keys.example/client.jwks"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["jwks_uri"], "https://keys.example/client.jwks");
    assert_eq!(reply.body["keys"], json!([]));
    let reply = app.put_keys(&root, &client.id, json!({"keys": []})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        (&reply.body["keys"], &reply.body["jwks_uri"]),
        (&json!([]), &Value::Null)
    );
    assert_error(
        &app.put_keys(&root, "cid_unknown", json!({"keys": []}))
            .await,
        404,
        "not_found",
    );
}

async fn identities_name_registered_issuers_and_free_subjects(app: TestApp) {
    let root = app.root().await;
    register(&app, &root, K8S).await;
    let a = app.new_client(&["client:read"]).await;
    let b = app.new_client(&["client:read"]).await;
    let api = "system:serviceaccount:payments:api";
    let payments = "system:serviceaccount:payments:*";

    let reply = app
        .put_identities(
            &root,
            &a.id,
            json!([identity(K8S, api), identity(K8S, api)]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["identities"], json!([identity(K8S, api)]));
    assert_eq!(
        app.get_client(&root, &a.id).await.body["identities"],
        json!([identity(K8S, api)])
    );

    // An issuer that is not registered is named.
    let reply = app
        .put_identities(
            &root,
            &b.id,
            json!([
                identity(K8S, payments),
                identity("https://ci.example", "repo:x")
            ]),
        )
        .await;
    assert_error(&reply, 422, "invalid_client_metadata");
    assert_eq!(reply.body["unknown_issuers"], json!(["https://ci.example"]));
    assert!(
        reply.body["error_description"]
            .as_str()
            .unwrap()
            .contains("https://ci.example")
    );

    // A subject bound to another client: 409 naming it; nothing changes.
    let reply = app
        .put_identities(
            &root,
            &b.id,
            json!([identity(K8S, payments), identity(K8S, api)]),
        )
        .await;
    assert_error(&reply, 409, "conflict");
    assert_eq!(reply.body["taken_identities"], json!([identity(K8S, api)]));
    assert_eq!(
        app.get_client(&root, &b.id).await.body["identities"],
        json!([])
    );

    // A pattern is a different binding from the exact subject it covers.
    let reply = app
        .put_identities(&root, &b.id, json!([identity(K8S, payments)]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["identities"], json!([identity(K8S, payments)]));

    // A '*' only at the end; subjects bounded; no control characters.
    let long = "s".repeat(513);
    for subject in ["system:*:api", "a**", "", "line\nbreak", long.as_str()] {
        let reply = app
            .put_identities(&root, &b.id, json!([identity(K8S, subject)]))
            .await;
        assert_error(&reply, 422, "invalid_client_metadata");
    }
    for body in [
        json!({"issuer": K8S, "subject": api}),
        json!([{"issuer": K8S}]),
        json!([{"issuer": K8S, "subject": api, "extra": 1}]),
        json!([[K8S, api]]),
    ] {
        let reply = app.put_identities(&root, &b.id, body).await;
        assert_error(&reply, 400, "invalid_request");
        let text = reply.body["error_description"].as_str().unwrap();
        assert!(!text.contains("IdentityBody"), "{text}");
    }
    assert_eq!(
        app.get_client(&root, &b.id).await.body["identities"],
        json!([identity(K8S, payments)])
    );

    // An empty list unbinds; the subject is then free for the other client.
    let reply = app.put_identities(&root, &a.id, json!([])).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["identities"], json!([]));
    let reply = app
        .put_identities(&root, &b.id, json!([identity(K8S, api)]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

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
