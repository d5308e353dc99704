//! The test issuer's key material: its RS256 signing keys with their published JWKs, the
//! key set it publishes, and the process's spare keys (RSA key generation is slow in debug
//! builds, so a few are made ahead on a background thread; each is used by one issuer only).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::RsaPrivateKey;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};
use sha2::Sha256;

use super::lock;
use crate::token::{JwkInput, VerifyingKey};

const RSA_BITS: usize = 2048;
/// Spare keys kept ready per process.
const SPARE_KEYS: usize = 2;

/// One RSA signing key of the issuer, with its published JWK.
pub(super) struct IssuerKey {
    pub(super) kid: String,
    signer: rsa::pkcs1v15::SigningKey<Sha256>,
    pub(super) jwk: Value,
}

impl IssuerKey {
    pub(super) fn new(key: RsaPrivateKey) -> Self {
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        // The RFC 7638 thumbprint, as auth-core computes it for keys published without a kid.
        let input: JwkInput =
            serde_json::from_value(json!({ "kty": "RSA", "n": n, "e": e })).expect("an RSA JWK");
        let kid = VerifyingKey::from_jwk(&input)
            .expect("a 2048-bit RSA key is a valid JWK")
            .kid()
            .to_owned();
        let jwk = json!({
            "kty": "RSA",
            "n": n,
            "e": e,
            "kid": kid,
            "alg": "RS256",
            "use": "sig",
        });
        Self {
            kid,
            signer: rsa::pkcs1v15::SigningKey::new(key),
            jwk,
        }
    }

    /// `header.claims.signature`, RS256 over the two encoded parts.
    pub(super) fn sign(&self, header: &Value, claims: &Value) -> String {
        let message = format!("{}.{}", encode_part(header), encode_part(claims));
        let signature = self.signer.sign(message.as_bytes()).to_vec();
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// A JWS part: base64url of the JSON, unpadded.
pub(super) fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON values serialize"))
}

/// The keys an issuer publishes; `current` signs.
pub(super) struct KeySet {
    pub(super) current: Arc<IssuerKey>,
    pub(super) published: Vec<Arc<IssuerKey>>,
}

pub(super) fn jwks(keys: &KeySet) -> Value {
    json!({ "keys": keys.published.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
}

/// The spare keys of this process, and whether a thread is making more.
struct Spares {
    keys: Mutex<Vec<RsaPrivateKey>>,
    refilling: AtomicBool,
}

fn spares() -> &'static Spares {
    static SPARES: OnceLock<Spares> = OnceLock::new();
    SPARES.get_or_init(|| Spares {
        keys: Mutex::new(Vec::new()),
        refilling: AtomicBool::new(false),
    })
}

fn generate_key() -> RsaPrivateKey {
    RsaPrivateKey::new(&mut rand::rngs::OsRng, RSA_BITS).expect("generate an RSA key")
}

/// A key no other issuer of this process has: a spare if one is ready, else a fresh one.
/// Either way the spares are topped up in the background.
pub(super) fn take_key() -> RsaPrivateKey {
    let spare = lock(&spares().keys).pop();
    refill();
    spare.unwrap_or_else(generate_key)
}

fn refill() {
    let spares = spares();
    if spares.refilling.swap(true, Ordering::SeqCst) {
        return;
    }
    let started = std::thread::Builder::new()
        .name("test-issuer-keys".to_owned())
        .spawn(move || {
            while lock(&spares.keys).len() < SPARE_KEYS {
                let key = generate_key();
                lock(&spares.keys).push(key);
            }
            spares.refilling.store(false, Ordering::SeqCst);
        });
    if started.is_err() {
        spares.refilling.store(false, Ordering::SeqCst);
    }
}
