//! Tests of the parent module.

use super::*;

// RFC 8037 appendix A.1: the Ed25519 test key, and A.3: its RFC 7638 thumbprint.
const RFC8037_PEM: &str = "-----BEGIN PRIVATE KEY-----\n\
    MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n\
    -----END PRIVATE KEY-----\n";

#[test]
fn ed25519_kid_is_the_rfc_7638_thumbprint() {
    let key = SigningKey::from_pem(RFC8037_PEM).unwrap();
    assert_eq!(key.algorithm(), Algorithm::EdDSA);
    assert_eq!(
        key.verifying_key().jwk().x.as_deref(),
        Some("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
    );
    assert_eq!(key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

#[test]
fn generated_development_keys_are_pkcs8_v1_that_openssl_reads() {
    let (key, pem) = SigningKey::generate_ed25519().unwrap();
    assert_eq!(SigningKey::from_pem(&pem).unwrap().kid(), key.kid());
    // Same layout as RFC 8037's example key: version 0 (v1), no public key member.
    assert_eq!(
        pem.lines().nth(1).unwrap()[..21],
        RFC8037_PEM.lines().nth(1).unwrap()[..21]
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.pem");
    std::fs::write(&path, &pem).unwrap();
    // OpenSSL 3.0 refuses PKCS#8 v2 Ed25519 keys; CI and scripts/test have openssl.
    let output = std::process::Command::new("openssl")
        .args(["pkey", "-noout", "-in"])
        .arg(&path)
        .output()
        .expect("openssl must be installed to run this test");
    assert!(
        output.status.success(),
        "openssl pkey refused the key: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn p256_and_rsa_keys_load_with_their_algorithms() {
    use p256::pkcs8::EncodePrivateKey as _;
    let ec = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let pem = ec.to_pkcs8_pem(Default::default()).unwrap();
    let key = SigningKey::from_pem(&pem).unwrap();
    assert_eq!(key.algorithm(), Algorithm::ES256);
    assert_eq!(key.verifying_key().jwk().crv, Some("P-256"));

    let sec1 = ec.to_sec1_pem(Default::default()).unwrap();
    assert_eq!(SigningKey::from_pem(&sec1).unwrap().kid(), key.kid());

    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    let rsa_key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
    let pem = rsa_key.to_pkcs1_pem(Default::default()).unwrap();
    let key = SigningKey::from_pem(&pem).unwrap();
    assert_eq!(key.algorithm(), Algorithm::RS256);
    assert_eq!(key.verifying_key().jwk().e.as_deref(), Some("AQAB"));
}

#[test]
fn published_jwks_round_trip_into_verifying_keys() {
    let (ed, _) = SigningKey::generate_ed25519().unwrap();
    use p256::pkcs8::EncodePrivateKey as _;
    let ec = SigningKey::from_pem(
        &p256::SecretKey::random(&mut rand::rngs::OsRng)
            .to_pkcs8_pem(Default::default())
            .unwrap(),
    )
    .unwrap();
    let (ed_again, ec_again) = (ed.clone(), ec.clone());
    for key in [ed, ec] {
        let published = serde_json::to_value(key.verifying_key().jwk()).unwrap();
        let input: JwkInput = serde_json::from_value(published).unwrap();
        let parsed = VerifyingKey::from_jwk(&input).unwrap();
        assert_eq!(parsed.kid(), key.kid());
        assert_eq!(parsed.algorithm(), key.algorithm());
    }
    // RFC 9864's name for EdDSA over Ed25519, for an Ed25519 key only.
    let mut ed25519 = serde_json::to_value(ed_again.verifying_key().jwk()).unwrap();
    ed25519["alg"] = "Ed25519".into();
    let input: JwkInput = serde_json::from_value(ed25519).unwrap();
    let parsed = VerifyingKey::from_jwk(&input).unwrap();
    assert_eq!(parsed.algorithm(), Algorithm::EdDSA);
    assert_eq!(
        parsed.jwk.alg, "EdDSA",
        "published under the name every verifier knows"
    );
    let mut not_ed25519 = serde_json::to_value(ec_again.verifying_key().jwk()).unwrap();
    not_ed25519["alg"] = "Ed25519".into();
    let input: JwkInput = serde_json::from_value(not_ed25519).unwrap();
    assert!(
        VerifyingKey::from_jwk(&input).is_err(),
        "a P-256 key is not Ed25519"
    );
    let hmac: JwkInput =
        serde_json::from_value(serde_json::json!({"kty": "oct", "k": "c2VjcmV0"})).unwrap();
    assert!(
        VerifyingKey::from_jwk(&hmac).is_err(),
        "symmetric keys are never accepted"
    );
}

#[test]
fn garbage_and_small_rsa_keys_are_refused() {
    assert!(matches!(
        SigningKey::from_pem("nope"),
        Err(KeyError::Unsupported)
    ));
    use rsa::pkcs8::EncodePrivateKey as _;
    let small = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
    let pem = small.to_pkcs8_pem(Default::default()).unwrap();
    assert!(matches!(
        SigningKey::from_pem(&pem),
        Err(KeyError::Unsupported)
    ));
}

#[test]
fn generated_key_is_created_once_then_reused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys/signing-key.pem");
    let (first, created) = load_or_generate(&path).unwrap();
    assert!(created);
    let (second, created) = load_or_generate(&path).unwrap();
    assert!(!created);
    assert_eq!(first.kid(), second.kid());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key file is readable by others");
    }
}
