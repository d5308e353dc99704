//! RFC 9864's fully-specified name for EdDSA over Ed25519, `Ed25519`, accepted beside
//! `EdDSA` in a `private_key_jwt` assertion's header and in a registered key's `alg`, for
//! an Ed25519 key only (libraries such as joserfc now deprecate `EdDSA`).

use serde_json::json;

use crate::assertions::{ClientKey, claims};
use crate::support::{TestApp, on_both_backends};

on_both_backends!(
    ed25519_is_accepted_as_the_name_of_eddsa,
    a_name_the_key_does_not_have_is_refused,
);

async fn ed25519_is_accepted_as_the_name_of_eddsa(app: TestApp) {
    let key = ClientKey::ed25519();
    let id = app.client_with_key("client:read", &key).await;
    let reply = app
        .token_with_assertion(&key.sign_as("Ed25519", &claims(&id)), &[])
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["scope"], "client:read");

    // A key registered with `"alg": "Ed25519"` takes assertions under either name.
    let mut renamed = ClientKey::ed25519();
    renamed.jwk["alg"] = json!("Ed25519");
    let id = app.client_with_key("", &renamed).await;
    for alg in ["Ed25519", "EdDSA"] {
        let reply = app
            .token_with_assertion(&renamed.sign_as(alg, &claims(&id)), &[])
            .await;
        assert_eq!(reply.status, 200, "{alg}: {:?}", reply.body);
    }
}

async fn a_name_the_key_does_not_have_is_refused(app: TestApp) {
    let key = ClientKey::ed25519();
    let id = app.client_with_key("", &key).await;
    for alg in ["Ed448", "ES256", "ed25519"] {
        let reply = app
            .token_with_assertion(&key.sign_as(alg, &claims(&id)), &[])
            .await;
        assert_eq!(reply.status, 401, "{alg}");
        assert_eq!(reply.body["error"], "invalid_client");
    }
}
