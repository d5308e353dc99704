//! Tests of the token source: keys and assertions, the builder and the environment here;
//! exchanges with a token endpoint in `exchanges`.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::*;
use crate::config::Env;
use crate::token::PublicJwk;

const TOKEN_URL: &str = "http://127.0.0.1:9/api/v1/oauth/token";

fn client_id() -> ClientId {
    ClientId::parse("orders-service").unwrap()
}

fn p256_pem() -> String {
    use p256::pkcs8::EncodePrivateKey as _;
    p256::SecretKey::random(&mut rand::rngs::OsRng)
        .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
        .unwrap()
        .to_string()
}

fn p256_sec1_pem() -> String {
    p256::SecretKey::random(&mut rand::rngs::OsRng)
        .to_sec1_pem(p256::pkcs8::LineEnding::LF)
        .unwrap()
        .to_string()
}

fn rsa_pem(bits: usize) -> String {
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, bits)
        .unwrap()
        .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
        .unwrap()
        .to_string()
}

/// The claims of `assertion`, verified with `jwk` (the public half only).
fn verify(assertion: &str, jwk: &PublicJwk, audience: &str) -> Value {
    let jwk = serde_json::to_value(jwk).unwrap();
    let text = |name: &str| jwk[name].as_str().unwrap().to_owned();
    let (key, algorithm) = match jwk["kty"].as_str().unwrap() {
        "OKP" => (
            DecodingKey::from_ed_components(&text("x")).unwrap(),
            Algorithm::EdDSA,
        ),
        "EC" => (
            DecodingKey::from_ec_components(&text("x"), &text("y")).unwrap(),
            Algorithm::ES256,
        ),
        _ => (
            DecodingKey::from_rsa_components(&text("n"), &text("e")).unwrap(),
            Algorithm::RS256,
        ),
    };
    let mut validation = Validation::new(algorithm);
    validation.set_audience(&[audience]);
    validation.set_issuer(&["orders-service"]);
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
    jsonwebtoken::decode::<Value>(assertion, &key, &validation)
        .unwrap_or_else(|e| panic!("the assertion does not verify: {e}"))
        .claims
}

fn check_assertion_claims(claims: &Value, audience: &str) {
    assert_eq!(claims["iss"], "orders-service");
    assert_eq!(claims["sub"], "orders-service");
    assert_eq!(claims["aud"], audience);
    let iat = claims["iat"].as_i64().unwrap();
    assert!((iat - Timestamp::now().as_secs()).abs() <= 5, "{iat}");
    assert_eq!(claims["exp"].as_i64(), Some(iat + 60));
    let jti = claims["jti"].as_str().unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(jti).unwrap().len(), 16, "{jti}");
}

#[test]
fn every_key_type_signs_assertions_that_verify_with_its_public_key() {
    let (ed25519, _) = PrivateKey::generate_ed25519().unwrap();
    let keys = [
        (ed25519, Algorithm::EdDSA),
        (PrivateKey::from_pem(&p256_pem()).unwrap(), Algorithm::ES256),
        (
            PrivateKey::from_pem(&p256_sec1_pem()).unwrap(),
            Algorithm::ES256,
        ),
        (
            PrivateKey::from_pem(&rsa_pem(2048)).unwrap(),
            Algorithm::RS256,
        ),
    ];
    for (key, algorithm) in keys {
        assert_eq!(key.algorithm(), algorithm);
        let assertion = key
            .assertion(&client_id(), TOKEN_URL, Timestamp::now())
            .unwrap();
        let header = jsonwebtoken::decode_header(&assertion).unwrap();
        assert_eq!(header.alg, algorithm);
        assert_eq!(header.kid.as_deref(), Some(key.thumbprint()));
        let claims = verify(&assertion, &key.public_jwk(), TOKEN_URL);
        check_assertion_claims(&claims, TOKEN_URL);
        assert!(
            !format!("{key:?}").contains("PRIVATE"),
            "Debug shows no key material"
        );
    }
}

#[test]
fn the_default_kid_is_the_rfc_7638_thumbprint_and_can_be_replaced_or_left_out() {
    // RFC 8037 Appendix A: this Ed25519 key's thumbprint is given in A.3.
    let seed = URL_SAFE_NO_PAD
        .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
        .unwrap();
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&seed);
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(der)
    );
    let key = PrivateKey::from_pem(&pem).unwrap();
    let thumbprint = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
    assert_eq!(key.thumbprint(), thumbprint);
    assert_eq!(key.kid(), Some(thumbprint));
    assert_eq!(key.public_jwk().kid, thumbprint);
    assert_eq!(
        key.public_jwk().x.as_deref(),
        Some("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
    );

    let named = key.clone().with_key_id(Some("key-2026".to_owned()));
    assert_eq!(named.public_jwk().kid, "key-2026");
    let assertion = named
        .assertion(&client_id(), TOKEN_URL, Timestamp::now())
        .unwrap();
    let header = jsonwebtoken::decode_header(&assertion).unwrap();
    assert_eq!(header.kid.as_deref(), Some("key-2026"));

    let anonymous = key.with_key_id(None);
    let assertion = anonymous
        .assertion(&client_id(), TOKEN_URL, Timestamp::now())
        .unwrap();
    assert_eq!(jsonwebtoken::decode_header(&assertion).unwrap().kid, None);
}

#[test]
fn unsupported_keys_are_refused_without_echoing_them() {
    for pem in [
        "not a key".to_owned(),
        rsa_pem(1024),
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_owned(),
    ] {
        let error = PrivateKey::from_pem(&pem).unwrap_err().to_string();
        assert!(error.contains("not a PEM private key"), "{error}");
        assert!(!error.contains("BEGIN"), "{error}");
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let error = PrivateKey::from_pem_file(&missing).unwrap_err().to_string();
    assert!(error.contains(&missing.display().to_string()), "{error}");
}

#[test]
fn the_token_file_is_trimmed_and_refused_when_missing_empty_or_huge() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    let error = credential::read_token_file(&path).unwrap_err().to_string();
    assert!(error.contains(&path.display().to_string()), "{error}");

    std::fs::write(&path, "  \n").unwrap();
    let error = credential::read_token_file(&path).unwrap_err().to_string();
    assert!(error.contains("empty"), "{error}");
    assert!(error.contains(&path.display().to_string()), "{error}");

    let huge = "x".repeat(usize::try_from(MAX_TOKEN_FILE_BYTES).unwrap() + 1);
    std::fs::write(&path, &huge).unwrap();
    let error = credential::read_token_file(&path).unwrap_err().to_string();
    assert!(error.contains("longer than"), "{error}");
    assert!(!error.contains("xxxx"), "never the content: {error}");

    std::fs::write(&path, "eyJ.token.sig\n").unwrap();
    assert_eq!(credential::read_token_file(&path).unwrap(), "eyJ.token.sig");
}

#[test]
fn the_builder_checks_what_each_credential_needs() {
    let secret = ClientSecret::parse("ocs_secret-value").unwrap();
    let error = TokenSource::builder(TOKEN_URL)
        .client_secret(secret.clone())
        .build()
        .unwrap_err();
    assert!(matches!(error, TokenSourceError::Incomplete(_)), "{error}");
    let error = TokenSource::builder(TOKEN_URL).build().unwrap_err();
    assert!(matches!(error, TokenSourceError::Incomplete(_)), "{error}");
    for url in ["", "token-service/token", "ftp://host/token"] {
        let error = TokenSource::builder(url)
            .client_id(client_id())
            .client_secret(secret.clone())
            .build()
            .unwrap_err();
        assert!(
            matches!(error, TokenSourceError::InvalidUrl(_)),
            "{url}: {error}"
        );
    }
    for resource in ["not a uri", "relative/path", "https://api.example/#frag"] {
        let error = TokenSource::builder(TOKEN_URL)
            .client_id(client_id())
            .client_secret(secret.clone())
            .resource(resource)
            .build()
            .unwrap_err();
        assert!(
            matches!(error, TokenSourceError::InvalidResource(_)),
            "{resource}: {error}"
        );
    }
    let (key, _) = PrivateKey::generate_ed25519().unwrap();
    let error = TokenSource::builder(TOKEN_URL)
        .private_key(key)
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("private_key_jwt"), "{error}");

    let source = TokenSource::new(
        "http://token-service:8080/",
        client_id(),
        secret.clone(),
        None,
    )
    .unwrap();
    assert_eq!(
        source.token_url(),
        "http://token-service:8080/api/v1/oauth/token"
    );
    let debug = format!("{source:?}");
    assert!(!debug.contains("secret-value"), "{debug}");
    assert!(debug.contains("client_secret_basic"), "{debug}");
}

fn env(vars: &[(&str, &str)]) -> Env<'static> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Env::from_fn(move |name| map.get(name).cloned())
}

#[test]
fn from_env_takes_exactly_one_credential() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("key.pem");
    let (_, pem) = PrivateKey::generate_ed25519().unwrap();
    std::fs::write(&key_path, pem.as_bytes()).unwrap();
    let token_path = dir.path().join("token");
    std::fs::write(&token_path, "platform-token").unwrap();
    let key_file = key_path.to_str().unwrap();
    let token_file = token_path.to_str().unwrap();
    let with = |extra: &[(&str, &str)]| {
        let mut vars = vec![
            ("OAUTH_TOKEN_URL", TOKEN_URL),
            ("OAUTH_CLIENT_ID", "orders-service"),
        ];
        vars.extend_from_slice(extra);
        env(&vars)
    };

    let source = TokenSource::from_env(&with(&[("OAUTH_CLIENT_SECRET", "ocs_s3cret")])).unwrap();
    assert_eq!(source.auth.method(), "client_secret_basic");
    let source = TokenSource::from_env(&with(&[
        ("OAUTH_CLIENT_KEY_FILE", key_file),
        ("OAUTH_CLIENT_KEY_ID", "k1"),
        ("OAUTH_CLIENT_SCOPE", "client:read"),
        (
            "OAUTH_CLIENT_RESOURCE",
            "https://a.example, https://b.example",
        ),
    ]))
    .unwrap();
    assert_eq!(source.auth.method(), "private_key_jwt");
    assert_eq!(source.scope.as_deref(), Some("client:read"));
    assert_eq!(source.resources, ["https://a.example", "https://b.example"]);
    assert!(format!("{source:?}").contains("\"k1\""));
    // A token file needs no client id.
    let source = TokenSource::from_env(&env(&[
        ("OAUTH_TOKEN_URL", TOKEN_URL),
        ("OAUTH_CLIENT_TOKEN_FILE", token_file),
    ]))
    .unwrap();
    assert_eq!(source.auth.method(), "workload_identity");
    assert!(source.auth.client_id().is_none());

    let error = TokenSource::from_env(&with(&[
        ("OAUTH_CLIENT_SECRET", "ocs_s3cret"),
        ("OAUTH_CLIENT_TOKEN_FILE", token_file),
    ]))
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("OAUTH_CLIENT_SECRET") && error.contains("OAUTH_CLIENT_TOKEN_FILE"),
        "{error}"
    );
    assert!(!error.contains("s3cret"), "{error}");
    let error = TokenSource::from_env(&with(&[])).unwrap_err().to_string();
    for name in [
        "OAUTH_CLIENT_SECRET",
        "OAUTH_CLIENT_KEY_FILE",
        "OAUTH_CLIENT_TOKEN_FILE",
    ] {
        assert!(error.contains(name), "{error}");
    }
    let error = TokenSource::from_env(&env(&[("OAUTH_CLIENT_SECRET", "ocs_s3cret")])).unwrap_err();
    assert_eq!(error.variable, "OAUTH_TOKEN_URL");
    let error = TokenSource::from_env(&env(&[
        ("OAUTH_TOKEN_URL", TOKEN_URL),
        ("OAUTH_CLIENT_KEY_FILE", key_file),
    ]))
    .unwrap_err();
    assert_eq!(error.variable, "OAUTH_CLIENT_ID");
    let missing = dir.path().join("missing");
    let missing = missing.to_str().unwrap();
    for variable in ["OAUTH_CLIENT_KEY_FILE", "OAUTH_CLIENT_TOKEN_FILE"] {
        let error = TokenSource::from_env(&with(&[(variable, missing)])).unwrap_err();
        assert_eq!(error.variable, variable);
        assert!(error.message.contains(missing), "{error}");
    }
    let error = TokenSource::from_env(&with(&[
        ("OAUTH_CLIENT_SECRET", "ocs_s3cret"),
        ("OAUTH_CLIENT_KEY_ID", "k1"),
    ]))
    .unwrap_err();
    assert_eq!(error.variable, "OAUTH_CLIENT_KEY_ID");
    let error = TokenSource::from_env(&with(&[
        ("OAUTH_CLIENT_SECRET", "ocs_s3cret"),
        ("OAUTH_CLIENT_RESOURCE", "not-a-uri"),
    ]))
    .unwrap_err();
    assert_eq!(error.variable, "OAUTH_CLIENT_RESOURCE");
}

#[test]
fn from_env_reads_the_client_id_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("key.pem");
    std::fs::write(
        &key_path,
        PrivateKey::generate_ed25519().unwrap().1.as_bytes(),
    )
    .unwrap();
    let id_path = dir.path().join("example-service.id");
    std::fs::write(&id_path, "cid_from-a-file\n").unwrap();
    let (key_file, id_file) = (key_path.to_str().unwrap(), id_path.to_str().unwrap());
    let source = TokenSource::from_env(&env(&[
        ("OAUTH_TOKEN_URL", TOKEN_URL),
        ("OAUTH_CLIENT_ID_FILE", id_file),
        ("OAUTH_CLIENT_KEY_FILE", key_file),
    ]))
    .unwrap();
    assert_eq!(
        source.auth.client_id().map(ClientId::as_str),
        Some("cid_from-a-file")
    );
    let both = TokenSource::from_env(&env(&[
        ("OAUTH_TOKEN_URL", TOKEN_URL),
        ("OAUTH_CLIENT_ID", "orders"),
        ("OAUTH_CLIENT_ID_FILE", id_file),
        ("OAUTH_CLIENT_KEY_FILE", key_file),
    ]))
    .unwrap_err();
    assert_eq!(both.variable, "OAUTH_CLIENT_ID_FILE");
    let missing = dir.path().join("missing.id");
    let error = TokenSource::from_env(&env(&[
        ("OAUTH_TOKEN_URL", TOKEN_URL),
        ("OAUTH_CLIENT_ID_FILE", missing.to_str().unwrap()),
        ("OAUTH_CLIENT_KEY_FILE", key_file),
    ]))
    .unwrap_err();
    assert_eq!(error.variable, "OAUTH_CLIENT_ID_FILE");
}

#[cfg(feature = "testing")]
mod exchanges;
