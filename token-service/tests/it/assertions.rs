//! `private_key_jwt` (RFC 7523 §2.2) and audiences (RFC 8707) at the token endpoint: a
//! client signs an assertion with a registered key; every fault is the same 401. Single
//! use across replicas through Redis is in `assertion_replay`.

use auth_core::ids::ClientId;
use auth_core::store::federation;
use auth_core::time::Timestamp;
use auth_core::token::{JwkInput, SigningKey, TokenVerifier, VerifyingKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::support::{ISSUER, Reply, TestApp, on_both_backends};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A client key: its private half for signing assertions, its public JWK for the client.
pub(crate) struct ClientKey {
    encoding: EncodingKey,
    pub(crate) jwk: Value,
}

impl ClientKey {
    pub(crate) fn ed25519() -> Self {
        let (key, pem) = SigningKey::generate_ed25519().unwrap();
        Self {
            encoding: EncodingKey::from_ed_der(&pem_der(&pem)),
            jwk: serde_json::to_value(key.verifying_key().jwk()).unwrap(),
        }
    }

    fn kid(&self) -> &str {
        self.jwk["kid"].as_str().unwrap()
    }

    pub(crate) fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid().to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }

    /// An Ed25519 signature under another `alg` name (jsonwebtoken writes only `EdDSA`).
    pub(crate) fn sign_as(&self, alg: &str, claims: &Value) -> String {
        let part = |value: Value| URL_SAFE_NO_PAD.encode(value.to_string());
        let input = format!(
            "{}.{}",
            part(json!({"alg": alg, "kid": self.kid()})),
            part(claims.clone())
        );
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &self.encoding, Algorithm::EdDSA);
        format!("{input}.{}", signature.unwrap())
    }
}

/// The DER inside a PEM document (PKCS#8 here).
fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// The claims of a valid assertion of `client`, for this service.
pub(crate) fn claims(client: &str) -> Value {
    let now = Timestamp::now().as_secs();
    json!({
        "iss": client, "sub": client, "aud": ISSUER,
        "iat": now, "exp": now + 60,
        "jti": URL_SAFE_NO_PAD.encode(rand_bytes()),
    })
}

fn rand_bytes() -> [u8; 16] {
    *ClientId::generate()
        .as_str()
        .as_bytes()
        .first_chunk()
        .unwrap()
}

impl TestApp {
    /// A client with `scopes` and the public key of `key`, no usable secret.
    pub(crate) async fn client_with_key(&self, scopes: &str, key: &ClientKey) -> String {
        let id = self.insert_client("none", scopes).await;
        let jwks = json!({"keys": [key.jwk]}).to_string();
        let client = ClientId::parse(&id).unwrap();
        self.store
            .run(move |conn| {
                federation::set_keys(conn, &client, Some(&jwks), None, Timestamp::now())
            })
            .await
            .unwrap();
        id
    }

    async fn set_audiences(&self, id: &str, audiences: &[&str]) {
        let client = ClientId::parse(id).unwrap();
        let json = json!(audiences).to_string();
        self.store
            .run(move |conn| {
                federation::set_audiences(conn, &client, Some(&json), Timestamp::now())
            })
            .await
            .unwrap();
    }

    pub(crate) async fn token_with_assertion(
        &self,
        assertion: &str,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut pairs = vec![
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion),
        ];
        pairs.extend_from_slice(extra);
        self.token_form(&pairs).await
    }
}

on_both_backends!(
    a_signed_assertion_gets_the_clients_token,
    an_assertion_is_used_once,
    every_bad_assertion_gets_the_same_401,
    resources_name_the_tokens_audiences,
);

async fn a_signed_assertion_gets_the_clients_token(app: TestApp) {
    let key = ClientKey::ed25519();
    let id = app.client_with_key("client:read scope:read", &key).await;
    for audience in [ISSUER.to_owned(), format!("{ISSUER}/api/v1/oauth/token")] {
        let mut c = claims(&id);
        c["aud"] = json!([audience]);
        let reply = app
            .token_with_assertion(&key.sign(&c), &[("client_id", &id)])
            .await;
        assert_eq!(reply.status, 200, "{audience}: {:?}", reply.body);
        assert_eq!(reply.body["scope"], "client:read scope:read");
        let verified = app
            .verifier
            .verify(reply.token(), Timestamp::now())
            .unwrap();
        assert_eq!(verified.client_id.as_str(), id);
    }
    // No secret verifies for a secret-less client, not even the empty marker's text.
    let reply = app
        .token_form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", "none"),
        ])
        .await;
    assert_eq!(reply.status, 401);
    let metadata = app.get("/.well-known/oauth-authorization-server").await;
    assert!(
        metadata.body["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("private_key_jwt"))
    );
    assert_eq!(
        metadata.body["token_endpoint_auth_signing_alg_values_supported"],
        json!(["EdDSA", "Ed25519", "ES256", "RS256", "PS256"])
    );
}

async fn an_assertion_is_used_once(app: TestApp) {
    let key = ClientKey::ed25519();
    let id = app.client_with_key("", &key).await;
    let assertion = key.sign(&claims(&id));
    assert_eq!(app.token_with_assertion(&assertion, &[]).await.status, 200);
    let replica = app.replica().await;
    for (name, service) in [("same replica", &app), ("another replica", &replica)] {
        let replay = service.token_with_assertion(&assertion, &[]).await;
        assert_eq!(replay.status, 401, "{name}");
        assert_eq!(replay.error(), "invalid_client", "{name}");
    }
    // A fresh assertion (another jti) works.
    let fresh = key.sign(&claims(&id));
    assert_eq!(replica.token_with_assertion(&fresh, &[]).await.status, 200);
}

async fn every_bad_assertion_gets_the_same_401(app: TestApp) {
    let key = ClientKey::ed25519();
    let id = app.client_with_key("client:read", &key).await;
    let other_key = ClientKey::ed25519();
    let other = app.client_with_key("", &other_key).await;
    let now = Timestamp::now().as_secs();
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = claims(&id);
        change(&mut c);
        key.sign(&c)
    };
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let unsigned = |header: Value| format!("{}.{}.", encode(&header), encode(&claims(&id)));
    let cases: Vec<(&str, String)> = vec![
        (
            "signed by another client's key",
            other_key.sign(&claims(&id)),
        ),
        (
            "expired",
            with(&|c| {
                c["iat"] = json!(now - 600);
                c["exp"] = json!(now - 61);
            }),
        ),
        (
            "living more than 10 minutes",
            with(&|c| c["exp"] = json!(now + 601)),
        ),
        (
            "issued in the future",
            with(&|c| c["iat"] = json!(now + 120)),
        ),
        (
            "for another audience",
            with(&|c| c["aud"] = json!("https://elsewhere.example")),
        ),
        (
            "without a jti",
            with(&|c| {
                c.as_object_mut().unwrap().remove("jti");
            }),
        ),
        ("a wrongly typed exp", with(&|c| c["exp"] = json!("soon"))),
        (
            "iss differs from sub (no such issuer)",
            with(&|c| c["iss"] = json!("https://unknown.example")),
        ),
        (
            "an unknown client",
            with(&|c| {
                let stranger = ClientId::generate();
                c["iss"] = json!(stranger.as_str());
                c["sub"] = json!(stranger.as_str());
            }),
        ),
        ("alg none", unsigned(json!({"alg": "none", "typ": "JWT"}))),
        ("HMAC keyed with the public key", {
            let header = Header::new(Algorithm::HS256);
            let secret = EncodingKey::from_secret(key.jwk["x"].as_str().unwrap().as_bytes());
            jsonwebtoken::encode(&header, &claims(&id), &secret).unwrap()
        }),
        ("an embedded jwk", {
            let mut header = Header::new(Algorithm::EdDSA);
            header.kid = Some(key.kid().to_owned());
            header.jwk = Some(serde_json::from_value(key.jwk.clone()).unwrap());
            jsonwebtoken::encode(&header, &claims(&id), &key.encoding).unwrap()
        }),
        ("a jku header", {
            let mut header = Header::new(Algorithm::EdDSA);
            header.kid = Some(key.kid().to_owned());
            header.jku = Some("https://attacker.example/jwks".to_owned());
            jsonwebtoken::encode(&header, &claims(&id), &key.encoding).unwrap()
        }),
        ("an unknown kid", {
            let mut header = Header::new(Algorithm::EdDSA);
            header.kid = Some("not-a-key".to_owned());
            jsonwebtoken::encode(&header, &claims(&id), &key.encoding).unwrap()
        }),
        (
            "oversized",
            format!("{}.{}.sig", "a".repeat(5000), "b".repeat(5000)),
        ),
        ("not a JWS", "garbage".to_owned()),
    ];
    let mut bodies = Vec::new();
    for (name, assertion) in &cases {
        let reply = app.token_with_assertion(assertion, &[]).await;
        assert_eq!(reply.status, 401, "{name}: {:?}", reply.body);
        bodies.push(reply.body.clone());
    }
    assert!(
        bodies.windows(2).all(|pair| pair[0] == pair[1]),
        "one body for every cause"
    );
    // The client_id parameter must name the assertion's subject.
    let reply = app
        .token_with_assertion(&key.sign(&claims(&id)), &[("client_id", &other)])
        .await;
    assert_eq!(reply.status, 401);
    // An assertion type other than jwt-bearer, or a secret beside the assertion.
    let reply = app
        .token_form(&[
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
            ),
            ("client_assertion", &key.sign(&claims(&id))),
        ])
        .await;
    assert_eq!(reply.status, 401);
    let reply = app
        .token_with_assertion(&key.sign(&claims(&id)), &[("client_secret", "x")])
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error(), "invalid_request");
    // None of the refusals spent the good assertion's single use: a valid one still works.
    assert_eq!(
        app.token_with_assertion(&key.sign(&claims(&id)), &[])
            .await
            .status,
        200
    );
}

async fn resources_name_the_tokens_audiences(app: TestApp) {
    let (id, secret) = app.create_client("client:read").await;
    let payments = "https://payments.example/api";
    app.set_audiences(&id, &[payments, "urn:example:ledger"])
        .await;
    let ask = |resources: &[&'static str]| {
        let mut pairs = vec![
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
        ];
        pairs.extend(resources.iter().map(|r| ("resource", *r)));
        let app = &app;
        async move { app.token_form(&pairs).await }
    };
    let default = ask(&[]).await;
    assert_eq!(default.status, 200);
    let claims = app
        .verifier
        .verify(default.token(), Timestamp::now())
        .unwrap()
        .claims;
    assert_eq!(claims.aud, ISSUER, "without resource: the default audience");

    let one = ask(&[payments]).await;
    assert_eq!(one.status, 200, "{:?}", one.body);
    // A verifier whose audience is payments accepts it.
    let jwks = app.verifier.jwks();
    let keys: Vec<VerifyingKey> = jwks
        .keys
        .iter()
        .map(|jwk| {
            let input: JwkInput =
                serde_json::from_value(serde_json::to_value(jwk).unwrap()).unwrap();
            VerifyingKey::from_jwk(&input).unwrap()
        })
        .collect();
    let for_payments = TokenVerifier::new(keys, ISSUER.to_owned(), payments.to_owned());
    let token = one.token().to_owned();
    assert!(for_payments.verify(&token, Timestamp::now()).is_ok());
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(payload["aud"], payments);
    // The default verifier (the issuer's audience) refuses a token minted for payments.
    assert!(app.verifier.verify(&token, Timestamp::now()).is_err());

    let two = ask(&[payments, ISSUER, payments]).await;
    assert_eq!(two.status, 200);
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(two.token().split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        payload["aud"],
        json!([payments, ISSUER]),
        "in order, once each"
    );
    assert!(app.verifier.verify(two.token(), Timestamp::now()).is_ok());

    for bad in [
        "https://not-allowed.example",
        "relative/path",
        "https://x.example#frag",
    ] {
        let reply = ask(&[bad]).await;
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(reply.error(), "invalid_target", "{bad}");
    }
    // The root client may name any absolute URI.
    let root = app
        .token_form(&[
            ("grant_type", "client_credentials"),
            ("client_id", crate::support::ROOT_ID),
            ("client_secret", crate::support::ROOT_SECRET),
            ("resource", "https://anything.example"),
        ])
        .await;
    assert_eq!(root.status, 200);
}
