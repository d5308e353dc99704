//! Workload identity on the admin side: trusted issuers (register, read, delete) and a
//! client's keys and identities (replace), with what each accepts; who may change them and
//! what a change revokes are in `federation_changes`, whole clients in
//! `federation_clients`. On PostgreSQL and on SQLite.

use actix_web::http::StatusCode;
use auth_core::token::SigningKey;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_error, on_both_backends};

on_both_backends!(
    issuers_are_registered_read_and_deleted,
    issuer_input_is_checked,
    client_keys_are_public_checked_keys,
    identities_name_registered_issuers_and_free_subjects,
);

pub(super) const K8S: &str = "https://kubernetes.default.svc";

/// A fresh Ed25519 public JWK (with its thumbprint `kid`, `alg` and `use`).
pub(super) fn public_jwk() -> Value {
    let (key, _) = SigningKey::generate_ed25519().unwrap();
    serde_json::to_value(key.verifying_key().jwk()).unwrap()
}

/// Registers `iss` with an inline key as root; returns its id.
pub(super) async fn register(app: &TestApp, root: &str, iss: &str) -> String {
    let reply = app
        .create_issuer(
            root,
            json!({"issuer": iss, "jwks": {"keys": [public_jwk()]}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

pub(super) fn identity(iss: &str, subject: &str) -> Value {
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
