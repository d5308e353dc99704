//! Tokens agree with jsonwebtoken's for every key type; key material in headers is
//! ignored; duplicated claims, non-UTF-8 payloads, arbitrary strings and single-byte
//! changes are refused; short RSA moduli are refused however they are padded.

use super::*;

#[test]
fn ed25519_tokens_are_byte_identical_to_jsonwebtoken_encode() {
    // EdDSA is deterministic: the issuer's own JWS assembly and aws-lc signature must give
    // exactly what jsonwebtoken (RustCrypto's ed25519-dalek) gives for the same claims, and
    // the verifier's own parsing must accept both.
    let (issuer, verifier, key) = issuer_verifier_and_key();
    for list in ["", "client:read", "client:read scope:read client:delete"] {
        let token = issuer.issue(&client(), &scopes_or_none(list), NOW).unwrap();
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        header.kid = Some(issuer.signing_key().kid().into());
        let expected = jsonwebtoken::encode(&header, &token.claims, &key).unwrap();
        assert_eq!(token.access_token, expected);
        assert!(verifier.verify(&token.access_token, NOW).is_ok());
    }
}

#[test]
fn p256_and_rsa_tokens_agree_with_jsonwebtoken() {
    use p256::pkcs8::EncodePrivateKey as _;
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    let p256_key = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let p256_pem = p256_key
        .to_pkcs8_pem(Default::default())
        .unwrap()
        .to_string();
    let p256_jwt = EncodingKey::from_ec_der(p256_key.to_pkcs8_der().unwrap().as_bytes());
    let rsa_key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
    let rsa_pem = rsa_key
        .to_pkcs1_pem(Default::default())
        .unwrap()
        .to_string();
    let rsa_jwt = EncodingKey::from_rsa_der(rsa_key.to_pkcs1_der().unwrap().as_bytes());
    for (pem, algorithm, jwt_key) in [
        (p256_pem, Algorithm::ES256, p256_jwt),
        (rsa_pem, Algorithm::RS256, rsa_jwt),
    ] {
        let key = SigningKey::from_pem(&pem).unwrap();
        assert_eq!(key.algorithm(), algorithm);
        let verifier =
            TokenVerifier::new([key.verifying_key().clone()], ISSUER.into(), ISSUER.into());
        let issuer = TokenIssuer::new(key, ISSUER.into(), ISSUER.into(), 3600);
        let token = issuer
            .issue(&client(), &scopes("client:read"), NOW)
            .unwrap();
        let header = jsonwebtoken::decode_header(&token.access_token).unwrap();
        assert_eq!(header.alg, algorithm);
        let verified = verifier.verify(&token.access_token, NOW).unwrap();
        assert_eq!(verified.claims, token.claims);
        let tampered = edit_part(&token.access_token, 1, |c| {
            c["scope"] = "client:delete".into()
        });
        assert_eq!(
            verifier.verify(&tampered, NOW).err(),
            Some(VerifyError::BadSignature)
        );
        // Signed by jsonwebtoken (RustCrypto), an implementation independent of the issuer's.
        let mut header = Header::new(algorithm);
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        header.kid = Some(issuer.signing_key().kid().into());
        let theirs = jsonwebtoken::encode(&header, &token.claims, &jwt_key).unwrap();
        assert_eq!(verifier.verify(&theirs, NOW).unwrap().claims, token.claims);
    }
}

fn scopes_or_none(list: &str) -> Vec<Scope> {
    if list.is_empty() {
        Vec::new()
    } else {
        scopes(list)
    }
}

#[test]
fn key_material_in_headers_is_ignored() {
    let (issuer, verifier) = issuer_and_verifier();
    let claims = issuer.issue(&client(), &[], NOW).unwrap().claims;
    // An attacker signs with their own key and points at it every way JOSE allows.
    let (attacker, attacker_pem) = SigningKey::generate_ed25519().unwrap();
    let attacker_key = jsonwebtoken_key(&attacker_pem);
    let attacker_jwk = serde_json::to_value(attacker.verifying_key().jwk()).unwrap();
    for (name, value) in [
        ("jku", serde_json::json!("https://evil.example/jwks.json")),
        ("x5u", serde_json::json!("https://evil.example/cert.pem")),
        ("jwk", attacker_jwk),
    ] {
        let mut header =
            serde_json::json!({"alg": "EdDSA", "typ": "at+jwt", "kid": issuer.signing_key().kid()});
        header[name] = value;
        let head = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        let signing_input = format!("{head}.{body}");
        let signature =
            jsonwebtoken::crypto::sign(signing_input.as_bytes(), &attacker_key, Algorithm::EdDSA)
                .unwrap();
        let forged = format!("{signing_input}.{signature}");
        assert!(
            verifier.verify(&forged, NOW).is_err(),
            "{name} must not supply the key"
        );
    }
}

#[test]
fn duplicated_claims_and_non_utf8_payloads_are_refused() {
    let (issuer, verifier, key) = issuer_verifier_and_key();
    let token = issuer.issue(&client(), &[], NOW).unwrap().access_token;
    let (head, rest) = token.split_once('.').unwrap();
    let (payload, _) = rest.split_once('.').unwrap();
    let json = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let duplicated = json.replacen(
        "\"jti\":",
        "\"scope\":\"\",\"scope\":\"client:delete\",\"jti\":",
        1,
    );
    assert_ne!(duplicated, json);
    for body in [duplicated.into_bytes(), vec![0xff, 0xfe, b'{', b'}']] {
        let input = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&body));
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::EdDSA).unwrap();
        // Validly signed, yet malformed: refused.
        assert_eq!(
            verifier.verify(&format!("{input}.{signature}"), NOW).err(),
            Some(VerifyError::Malformed)
        );
    }
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_strings_never_verify_or_panic(token in ".{0,600}") {
            let (_, verifier) = issuer_and_verifier();
            prop_assert!(verifier.verify(&token, NOW).is_err());
        }

        #[test]
        fn any_single_byte_change_to_a_token_is_refused(index in 0usize..400, byte in any::<u8>()) {
            let (issuer, verifier) = issuer_and_verifier();
            let token = issuer.issue(&client(), &scopes("client:read"), NOW).unwrap().access_token;
            let mut bytes = token.clone().into_bytes();
            let index = index % bytes.len();
            prop_assume!(bytes[index] != byte);
            bytes[index] = byte;
            let changed = String::from_utf8_lossy(&bytes).into_owned();
            prop_assume!(changed != token);
            // Base64url has a few equivalent final characters; anything else must fail.
            if let Ok(verified) = verifier.verify(&changed, NOW) {
                prop_assert_eq!(verified.claims, verifier.verify(&token, NOW).unwrap().claims);
            }
        }

        #[test]
        fn scope_lists_parse_only_into_valid_scopes(raw in "[ -~]{0,80}") {
            if let Ok(parsed) = parse_scope_list(&raw) {
                prop_assert!(!parsed.is_empty());
                for scope in &parsed {
                    prop_assert!(Scope::parse(scope.as_str()).is_ok());
                    prop_assert!(!scope.as_str().contains(' '));
                }
            }
        }
    }
}

/// An RSA key is measured by its modulus, not by the bytes that encode it: a 1024-bit
/// modulus padded with zero bytes to 2048 bits' length is still refused.
#[test]
fn a_padded_short_rsa_modulus_is_refused() {
    use rsa::traits::PublicKeyParts as _;
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap();
    let mut padded = vec![0u8; 128];
    padded.extend(key.n().to_bytes_be());
    let jwk = |n: &[u8]| JwkInput {
        kty: "RSA".into(),
        crv: None,
        x: None,
        y: None,
        n: Some(URL_SAFE_NO_PAD.encode(n)),
        e: Some(URL_SAFE_NO_PAD.encode(key.e().to_bytes_be())),
        kid: None,
        key_use: None,
        alg: None,
    };
    assert_eq!(padded.len() * 8, 2048);
    assert!(VerifyingKey::from_jwk(&jwk(&padded)).is_err());
    assert!(VerifyingKey::from_jwk(&jwk(&key.n().to_bytes_be())).is_err());
}
