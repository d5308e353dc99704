//! The fixtures of client assertions: clients that authenticate with a signed JWT instead
//! of a secret (token-service's `client_auth::assertion`).
//!
//! - Keyed clients (`private_key_jwt`, RFC 7523): each has an Ed25519 key pair whose public
//!   half is registered inline (`clients.jwks`: `{"keys":[{"kty":"OKP","crv":"Ed25519",
//!   ...}]}`, `kid` its RFC 7638 thumbprint). Each assertion is signed EdDSA, `kid` in its
//!   header, with claims `iss` = `sub` = the client id, `aud` = the service's issuer URL,
//!   `iat` = the generation time, `exp` = `iat` + 600 s (the longest the service accepts)
//!   and a `jti` of its own: the service accepts it once, within 10 minutes of its
//!   generation. Assertions rotate over the clients (the i-th is client i mod COUNT's), so
//!   the first COUNT name each client once.
//! - Workloads: one trusted issuer, [`PLATFORM_ISSUER`], with an RSA-2048 key (its JWKS
//!   given inline, for `trusted_issuers.jwks`), and per workload a Kubernetes service
//!   account, `system:serviceaccount:bench:workload-N`, bound (exactly) to a client of its
//!   own, and a token shaped like a projected service-account token: RS256 with `kid`,
//!   `aud` = [the service's issuer URL], `iat` = `nbf` = the generation time, `exp` an hour
//!   later, a `jti` and the `kubernetes.io` object. The service accepts such a token until
//!   it expires, as often as it is sent, and remembers one that verified.
//!
//! Signed with jsonwebtoken (the workspace's rust_crypto backend) from keys in the DER
//! forms it takes: PKCS#8 for Ed25519, PKCS#1 for RSA.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore as _;
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::{Files, csv_row, lines, on_all_cores, random_token};

/// The `iss` of the bench platform's tokens (`trusted_issuers.issuer`).
pub const PLATFORM_ISSUER: &str = "https://kubernetes.bench.local";
/// The Kubernetes namespace of the bench workloads.
const NAMESPACE: &str = "bench";
/// A `private_key_jwt` assertion's lifetime: the longest the service accepts.
const ASSERTION_LIFETIME_SECS: i64 = 600;
/// A platform token's lifetime: a projected service-account token's usual hour.
const PLATFORM_TOKEN_LIFETIME_SECS: i64 = 3600;
const RSA_BITS: usize = 2048;

/// The RFC 7638 thumbprint of a public JWK, given its required members (in
/// lexicographic order, as the thumbprint's JSON must have them).
fn thumbprint(required: &Value) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(required.to_string().as_bytes()))
}

/// A random value shaped like a Kubernetes uid (a UUID).
fn uid() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// A keyed client: its id, its key's `kid` and its private key.
struct KeyedClient {
    id: String,
    kid: String,
    key: EncodingKey,
}

/// `count` clients with an Ed25519 key each (`.csv`), and `assertions` `private_key_jwt`
/// assertions for `audience` issued at `now` (`.assertions`), rotating over the clients.
pub fn keyed_clients(
    count: usize,
    assertions: usize,
    audience: &str,
    now: i64,
) -> Result<Files, String> {
    if count == 0 && assertions > 0 {
        return Err("assertions need at least one keyed client".to_owned());
    }
    let mut csv = String::new();
    let mut clients = Vec::with_capacity(count);
    for _ in 0..count {
        let signing = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes());
        let kid = thumbprint(&json!({ "crv": "Ed25519", "kty": "OKP", "x": x }));
        let jwks = json!({ "keys": [{
            "kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig",
        }] });
        let der = signing.to_pkcs8_der().map_err(|e| e.to_string())?;
        let id = format!("cid_{}", random_token(32));
        csv.push_str(&csv_row(&[&id, "none", &jwks.to_string()]));
        clients.push(KeyedClient {
            id,
            kid,
            key: EncodingKey::from_ed_der(der.as_bytes()),
        });
    }
    let indices: Vec<usize> = (0..assertions).collect();
    let signed = on_all_cores(&indices, |i| {
        let client = &clients[i % count];
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(client.kid.clone());
        let claims = json!({
            "iss": client.id,
            "sub": client.id,
            "aud": audience,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
            "jti": random_token(16),
        });
        jsonwebtoken::encode(&header, &claims, &client.key).map_err(|e| e.to_string())
    })?;
    Ok(vec![(".csv", csv), (".assertions", lines(&signed))])
}

/// The bench platform's issuer (`-issuer.csv`), `count` clients (`.csv`) bound to a
/// service account each (`-identities.csv`), and a platform token for each account, for
/// `audience`, issued at `now` (`.assertions`, in the clients' order).
pub fn workloads(count: usize, audience: &str, now: i64) -> Result<Files, String> {
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, RSA_BITS)
        .map_err(|e| format!("generating the platform's RSA key: {e}"))?;
    let (n, e) = (
        URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    );
    let kid = thumbprint(&json!({ "e": e, "kty": "RSA", "n": n }));
    let jwks = json!({ "keys": [{
        "kty": "RSA", "n": n, "e": e, "kid": kid, "alg": "RS256", "use": "sig",
    }] });
    let der = key.to_pkcs1_der().map_err(|e| e.to_string())?;
    let signer = EncodingKey::from_rsa_der(der.as_bytes());
    // Issuer ids as admin-service generates them: `iss_` and 22 base64url characters.
    let issuer_id = format!("iss_{}", random_token(16));
    let issuer = csv_row(&[&issuer_id, PLATFORM_ISSUER, &jwks.to_string()]);
    let node = json!({ "name": "bench-node-1", "uid": uid() });

    // (client id, service account name)
    let accounts: Vec<(String, String)> = (1..=count)
        .map(|i| {
            (
                format!("cid_{}", random_token(32)),
                format!("workload-{i:05}"),
            )
        })
        .collect();
    let (mut csv, mut identities) = (String::new(), String::new());
    for (id, name) in &accounts {
        let subject = format!("system:serviceaccount:{NAMESPACE}:{name}");
        csv.push_str(&csv_row(&[id, "none", ""]));
        identities.push_str(&csv_row(&[&issuer_id, &subject, id]));
    }
    let tokens = on_all_cores(&accounts, |(_, name)| {
        // As the API server writes it: `alg` and `kid`, no `typ`.
        let mut header = Header::new(Algorithm::RS256);
        header.typ = None;
        header.kid = Some(kid.clone());
        let claims = json!({
            "aud": [audience],
            "exp": now + PLATFORM_TOKEN_LIFETIME_SECS,
            "iat": now,
            "iss": PLATFORM_ISSUER,
            "jti": uid(),
            "kubernetes.io": {
                "namespace": NAMESPACE,
                "node": node,
                "pod": { "name": format!("{name}-0"), "uid": uid() },
                "serviceaccount": { "name": name, "uid": uid() },
            },
            "nbf": now,
            "sub": format!("system:serviceaccount:{NAMESPACE}:{name}"),
        });
        jsonwebtoken::encode(&header, &claims, &signer).map_err(|e| e.to_string())
    })?;
    Ok(vec![
        (".csv", csv),
        ("-issuer.csv", issuer),
        ("-identities.csv", identities),
        (".assertions", lines(&tokens)),
    ])
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::time::{SystemTime, UNIX_EPOCH};

    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{DecodingKey, Validation};

    use super::*;

    const AUDIENCE: &str = "http://auth.bench";

    fn now() -> i64 {
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        i64::try_from(secs.as_secs()).unwrap()
    }

    fn file<'a>(files: &'a Files, suffix: &str) -> &'a str {
        &files.iter().find(|(s, _)| *s == suffix).unwrap().1
    }

    /// The one JWKS of a CSV line's last field (quoted, quotes doubled).
    fn jwks_of(csv_line: &str) -> JwkSet {
        let field = &csv_line[csv_line.find(",\"").unwrap() + 2..csv_line.len() - 1];
        serde_json::from_str(&field.replace("\"\"", "\"")).unwrap()
    }

    /// The claims of `token`, verified with the key of `jwks` its header names.
    fn verified(token: &str, jwks: &JwkSet, algorithm: Algorithm) -> Value {
        let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        let key = DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
        let mut validation = Validation::new(algorithm);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud"]);
        jsonwebtoken::decode::<Value>(token, &key, &validation)
            .unwrap()
            .claims
    }

    #[test]
    fn keyed_assertions_are_private_key_jwt_each_with_its_own_jti() {
        let now = now();
        let files = keyed_clients(2, 5, AUDIENCE, now).unwrap();
        let rows: Vec<&str> = file(&files, ".csv").lines().collect();
        assert_eq!(rows.len(), 2);
        let mut jtis = HashSet::new();
        for (i, token) in file(&files, ".assertions").lines().enumerate() {
            let row = rows[i % 2];
            let (id, rest) = row.split_once(',').unwrap();
            assert!(rest.starts_with("none,"), "{row}");
            let claims = verified(token, &jwks_of(row), Algorithm::EdDSA);
            assert_eq!(
                (claims["iss"].as_str(), claims["sub"].as_str()),
                (Some(id), Some(id))
            );
            assert_eq!(claims["aud"], AUDIENCE);
            assert_eq!(claims["iat"], now);
            assert_eq!(claims["exp"], now + 600);
            assert!(jtis.insert(claims["jti"].as_str().unwrap().to_owned()));
        }
        assert_eq!(jtis.len(), 5);
    }

    #[test]
    fn workload_tokens_are_shaped_like_service_account_tokens() {
        let now = now();
        let files = workloads(2, AUDIENCE, now).unwrap();
        let issuer = file(&files, "-issuer.csv");
        let issuer_id = issuer.split(',').next().unwrap();
        assert!(issuer.contains(&format!(",{PLATFORM_ISSUER},")), "{issuer}");
        let jwks = jwks_of(issuer.trim_end());
        let clients: Vec<&str> = file(&files, ".csv").lines().collect();
        let identities: Vec<&str> = file(&files, "-identities.csv").lines().collect();
        for (i, token) in file(&files, ".assertions").lines().enumerate() {
            let header = jsonwebtoken::decode_header(token).unwrap();
            assert_eq!(header.typ, None);
            let claims = verified(token, &jwks, Algorithm::RS256);
            let subject = claims["sub"].as_str().unwrap();
            assert_eq!(
                subject,
                format!("system:serviceaccount:bench:workload-{:05}", i + 1)
            );
            let id = clients[i].strip_suffix(",none,").unwrap();
            assert_eq!(identities[i], format!("{issuer_id},{subject},{id}"));
            assert_eq!(claims["aud"], json!([AUDIENCE]));
            assert_eq!(
                (claims["nbf"].as_i64(), claims["exp"].as_i64()),
                (Some(now), Some(now + 3600))
            );
            assert_eq!(claims["kubernetes.io"]["namespace"], "bench");
        }
    }
}
