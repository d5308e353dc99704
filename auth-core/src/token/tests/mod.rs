//! Issue and verify, and every way verification must refuse a token; agreement with
//! jsonwebtoken, hostile headers and payloads, and property tests in `interop`.

mod interop;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use super::*;

const ISSUER: &str = "https://auth.test";
const NOW: Timestamp = Timestamp::from_micros(1_800_000_000_250_000);

fn issuer_and_verifier() -> (TokenIssuer, TokenVerifier) {
    let (issuer, verifier, _) = issuer_verifier_and_key();
    (issuer, verifier)
}

/// Also the signing key in jsonwebtoken's form: an implementation independent of the
/// issuer's, for cross-checks and for signing forged tokens.
fn issuer_verifier_and_key() -> (TokenIssuer, TokenVerifier, EncodingKey) {
    let (key, pem) = SigningKey::generate_ed25519().unwrap();
    let verifier = TokenVerifier::new([key.verifying_key().clone()], ISSUER.into(), ISSUER.into());
    let encoding = jsonwebtoken_key(&pem);
    (
        TokenIssuer::new(key, ISSUER.into(), ISSUER.into(), 3600),
        verifier,
        encoding,
    )
}

fn scopes(list: &str) -> Vec<Scope> {
    parse_scope_list(list).unwrap()
}

fn client() -> ClientId {
    ClientId::parse("client-1").unwrap()
}

/// An Ed25519 PEM key in jsonwebtoken's form.
fn jsonwebtoken_key(pem: &str) -> EncodingKey {
    use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
    let key = ed25519_dalek::SigningKey::from_pkcs8_pem(pem).unwrap();
    EncodingKey::from_ed_der(key.to_pkcs8_der().unwrap().as_bytes())
}

/// Re-encodes a token's part `index` after `edit` changed its JSON, keeping the signature.
fn edit_part(token: &str, index: usize, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut json: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[index]).unwrap()).unwrap();
    edit(&mut json);
    parts[index] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&json).unwrap());
    parts.join(".")
}

#[test]
fn issued_token_verifies_with_the_design_claims() {
    let (issuer, verifier) = issuer_and_verifier();
    let token = issuer
        .issue(&client(), &scopes("client:read scope:read"), NOW)
        .unwrap();
    let header = jsonwebtoken::decode_header(&token.access_token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), Some(issuer.signing_key().kid()));

    let verified = verifier.verify(&token.access_token, NOW).unwrap();
    assert_eq!(verified.client_id, client());
    assert_eq!(verified.scopes, scopes("client:read scope:read"));
    assert_eq!(verified.issued_at, NOW);
    let claims = verified.claims;
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(
        (claims.sub.as_str(), claims.client_id.as_str()),
        ("client-1", "client-1")
    );
    assert_eq!(claims.iat, 1_800_000_000);
    assert_eq!(claims.exp, 1_800_003_600);
    assert_eq!(claims.jti.as_str().len(), 22);
    assert_eq!(
        claims.aud, ISSUER,
        "every token carries aud (RFC 9068 §2.2)"
    );
    assert_eq!(token.expires_in, 3600);
}

#[test]
fn tokens_have_distinct_ids_and_an_empty_scope_is_allowed() {
    let (issuer, verifier) = issuer_and_verifier();
    let a = issuer.issue(&client(), &[], NOW).unwrap();
    let b = issuer.issue(&client(), &[], NOW).unwrap();
    assert_ne!(a.claims.jti, b.claims.jti);
    // No scope: the claim is omitted, not "" (which some libraries read as one empty scope).
    let payload = a.access_token.split('.').nth(1).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert!(claims.get("scope").is_none(), "{claims}");
    assert!(claims["aud"].is_string(), "{claims}");
    assert!(
        verifier
            .verify(&a.access_token, NOW)
            .unwrap()
            .scopes
            .is_empty()
    );
}

#[test]
fn expired_tokens_are_refused_after_the_leeway() {
    let (issuer, verifier) = issuer_and_verifier();
    let token = issuer.issue(&client(), &[], NOW).unwrap().access_token;
    let verifier = verifier.with_leeway_secs(0);
    assert!(verifier.verify(&token, NOW.plus_secs(3599)).is_ok());
    assert_eq!(
        verifier.verify(&token, NOW.plus_secs(3600)).err(),
        Some(VerifyError::Expired)
    );
}

#[test]
fn tokens_from_the_future_are_not_yet_valid() {
    let (issuer, verifier) = issuer_and_verifier();
    let token = issuer
        .issue(&client(), &[], NOW.plus_secs(120))
        .unwrap()
        .access_token;
    assert_eq!(
        verifier.verify(&token, NOW).err(),
        Some(VerifyError::NotYetValid)
    );
    assert!(
        verifier.verify(&token, NOW.plus_secs(100)).is_ok(),
        "within the leeway"
    );
}

#[test]
fn another_issuer_is_refused() {
    let (key, _) = SigningKey::generate_ed25519().unwrap();
    let verifier = TokenVerifier::new([key.verifying_key().clone()], ISSUER.into(), ISSUER.into());
    let other = TokenIssuer::new(key, "https://evil.test".into(), ISSUER.into(), 3600);
    let token = other.issue(&client(), &[], NOW).unwrap().access_token;
    assert_eq!(
        verifier.verify(&token, NOW).err(),
        Some(VerifyError::WrongIssuer)
    );
}

#[test]
fn audience_is_checked_when_configured() {
    let (key, _) = SigningKey::generate_ed25519().unwrap();
    let public = key.verifying_key().clone();
    let issuer = TokenIssuer::new(key, ISSUER.into(), "api".into(), 3600);
    let token = issuer.issue(&client(), &[], NOW).unwrap().access_token;
    let right = TokenVerifier::new([public.clone()], ISSUER.into(), "api".into());
    let wrong = TokenVerifier::new([public], ISSUER.into(), "other".into());
    assert!(right.verify(&token, NOW).is_ok());
    assert_eq!(
        wrong.verify(&token, NOW).err(),
        Some(VerifyError::WrongAudience)
    );
}

#[test]
fn alg_none_is_refused() {
    let (issuer, verifier) = issuer_and_verifier();
    let token = issuer.issue(&client(), &[], NOW).unwrap().access_token;
    let unsigned = edit_part(&token, 0, |h| h["alg"] = "none".into());
    let (head, rest) = unsigned.split_once('.').unwrap();
    let (payload, _) = rest.split_once('.').unwrap();
    for candidate in [
        format!("{head}.{payload}."),
        format!("{head}.{payload}"),
        unsigned,
    ] {
        assert_eq!(
            verifier.verify(&candidate, NOW).err(),
            Some(VerifyError::Malformed)
        );
    }
}

#[test]
fn hs256_keyed_with_the_public_key_is_refused() {
    let (issuer, verifier) = issuer_and_verifier();
    let public = issuer.signing_key().verifying_key().jwk().clone();
    let claims = issuer.issue(&client(), &[], NOW).unwrap().claims;
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some(ACCESS_TOKEN_TYPE.into());
    header.kid = Some(public.kid.clone());
    let raw_public = URL_SAFE_NO_PAD.decode(public.x.unwrap()).unwrap();
    for secret in [
        raw_public.as_slice(),
        serde_json::to_vec(&verifier.jwks()).unwrap().as_slice(),
    ] {
        let forged =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret)).unwrap();
        assert_eq!(
            verifier.verify(&forged, NOW).err(),
            Some(VerifyError::AlgorithmNotAllowed)
        );
    }
}

#[test]
fn unknown_or_missing_kid_is_refused() {
    let (issuer, verifier) = issuer_and_verifier();
    let token = issuer.issue(&client(), &[], NOW).unwrap().access_token;
    let unknown = edit_part(&token, 0, |h| h["kid"] = "not-a-key".into());
    assert_eq!(
        verifier.verify(&unknown, NOW).err(),
        Some(VerifyError::UnknownKey)
    );
    let missing = edit_part(&token, 0, |h| {
        h.as_object_mut().unwrap().remove("kid");
    });
    assert_eq!(
        verifier.verify(&missing, NOW).err(),
        Some(VerifyError::UnknownKey)
    );

    let (other_issuer, _) = issuer_and_verifier();
    let other = other_issuer
        .issue(&client(), &[], NOW)
        .unwrap()
        .access_token;
    assert_eq!(
        verifier.verify(&other, NOW).err(),
        Some(VerifyError::UnknownKey)
    );
}

#[test]
fn tampered_payload_is_refused() {
    let (issuer, verifier) = issuer_and_verifier();
    let token = issuer
        .issue(&client(), &scopes("client:read"), NOW)
        .unwrap()
        .access_token;
    let widened = edit_part(&token, 1, |c| {
        c["scope"] = "client:read client:delete".into()
    });
    assert_eq!(
        verifier.verify(&widened, NOW).err(),
        Some(VerifyError::BadSignature)
    );
    let extended = edit_part(&token, 1, |c| c["exp"] = (NOW.as_secs() + 999_999).into());
    assert_eq!(
        verifier.verify(&extended, NOW).err(),
        Some(VerifyError::BadSignature)
    );
}

#[test]
fn tampered_signature_or_header_is_refused() {
    let (issuer, verifier) = issuer_and_verifier();
    let token = issuer.issue(&client(), &[], NOW).unwrap().access_token;
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bytes[10] ^= 0x01;
    let flipped = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(bytes));
    assert_eq!(
        verifier.verify(&flipped, NOW).err(),
        Some(VerifyError::BadSignature)
    );
    let truncated = &token[..token.len() - 4];
    assert!(verifier.verify(truncated, NOW).is_err());
    let retyped = edit_part(&token, 0, |h| h["typ"] = "JWT".into());
    assert_eq!(
        verifier.verify(&retyped, NOW).err(),
        Some(VerifyError::WrongType)
    );
}

#[test]
fn garbage_is_malformed_never_a_panic() {
    let (_, verifier) = issuer_and_verifier();
    let huge = "a".repeat(MAX_TOKEN_LEN + 1);
    for garbage in [
        "",
        ".",
        "..",
        "a.b.c",
        "a.b",
        "\u{0}.\u{0}.\u{0}",
        "ü.ü.ü",
        huge.as_str(),
    ] {
        assert!(verifier.verify(garbage, NOW).is_err(), "{garbage:?}");
    }
}

#[test]
fn previous_keys_still_verify_and_all_are_published() {
    let (old_key, _) = SigningKey::generate_ed25519().unwrap();
    let (new_key, _) = SigningKey::generate_ed25519().unwrap();
    let verifier = TokenVerifier::new(
        [
            new_key.verifying_key().clone(),
            old_key.verifying_key().clone(),
        ],
        ISSUER.into(),
        ISSUER.into(),
    );
    let old = TokenIssuer::new(old_key, ISSUER.into(), ISSUER.into(), 60);
    let token = old.issue(&client(), &[], NOW).unwrap().access_token;
    assert!(verifier.verify(&token, NOW).is_ok());
    assert_eq!(verifier.jwks().keys.len(), 2);
}

#[test]
fn tokens_from_cached_state_carry_the_state_time() {
    let (issuer, verifier) = issuer_and_verifier();
    let state_at = Timestamp::from_micros(NOW.as_micros() - 5_000_000);
    let token = issuer
        .issue_from_state(&client(), &[], NOW, state_at)
        .unwrap();
    assert_eq!(token.claims.iat, NOW.as_secs());
    let verified = verifier.verify(&token.access_token, NOW).unwrap();
    assert_eq!(verified.issued_at, state_at);
    let future = issuer
        .issue_from_state(&client(), &[], NOW, NOW.plus_secs(10))
        .unwrap();
    assert_eq!(future.claims.iat_us, NOW.as_micros(), "never after now");
    let forged = edit_part(&token.access_token, 1, |c| {
        c["iat_us"] = (NOW.as_micros() + 2_000_000).into()
    });
    assert!(verifier.verify(&forged, NOW).is_err());
}
