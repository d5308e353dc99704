//! Signing keys: PEM loading (Ed25519, P-256, RSA), the RFC 7638 `kid`, and JWKS rendering.
//!
//! A key's algorithm is fixed by its type, never by a token header: Ed25519 signs EdDSA,
//! P-256 signs ES256, RSA (2048 bits or more) signs RS256. The `kid` is the key's RFC 7638
//! thumbprint, so the same key always has the same id on every replica.

use std::fmt;
#[cfg(feature = "server")]
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::public_key::PublicKey;
#[cfg(feature = "server")]
use super::sign::KeySigner;
#[cfg(feature = "server")]
use pem::PrivatePem;

/// Smallest RSA modulus accepted.
const MIN_RSA_BITS: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "not a PEM private key of a supported type (Ed25519, P-256 or RSA of {MIN_RSA_BITS} bits or more)"
    )]
    Unsupported,
    #[error("cannot read the key file: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot encode the key")]
    Encoding,
}

/// The public half of a key in JWK form (RFC 7517), as published in the JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicJwk {
    pub kty: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    pub kid: String,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub key_use: &'static str,
}

/// A JWK Set (RFC 7517 §5).
#[derive(Debug, Clone, Serialize)]
pub struct Jwks {
    pub keys: Vec<PublicJwk>,
}

/// A public key that verifies tokens: its `kid`, its one algorithm and the key itself.
#[derive(Clone)]
pub struct VerifyingKey {
    pub(crate) kid: String,
    pub(crate) algorithm: Algorithm,
    pub(crate) public: PublicKey,
    pub(crate) jwk: PublicJwk,
}

impl VerifyingKey {
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn jwk(&self) -> &PublicJwk {
        &self.jwk
    }

    /// True when `signature` is this key's signature of `message` (with its one algorithm).
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        self.public.verifies(message, signature)
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

/// A public key as published in a JWKS, before it is checked.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct JwkInput {
    pub kty: String,
    pub crv: Option<String>,
    pub x: Option<String>,
    pub y: Option<String>,
    pub n: Option<String>,
    pub e: Option<String>,
    pub kid: Option<String>,
    #[serde(rename = "use")]
    pub key_use: Option<String>,
    /// The key's one algorithm; only an RSA key has a choice (RS256, the default, or PS256).
    pub alg: Option<String>,
}

impl VerifyingKey {
    /// A verifying key from a published JWK: Ed25519 (EdDSA), P-256 (ES256) or RSA (RS256).
    /// Its `kid` is the published one, or the RFC 7638 thumbprint when none is given.
    pub fn from_jwk(input: &JwkInput) -> Result<Self, KeyError> {
        if input.key_use.as_deref().is_some_and(|u| u != "sig") {
            return Err(KeyError::Unsupported);
        }
        let text = |v: &Option<String>| v.clone().ok_or(KeyError::Unsupported);
        let bytes = |v: &str| URL_SAFE_NO_PAD.decode(v).map_err(|_| KeyError::Unsupported);
        let (algorithm, mut jwk, key) = match (input.kty.as_str(), input.crv.as_deref()) {
            ("OKP", Some("Ed25519")) => {
                let x = text(&input.x)?;
                let key = PublicKey::ed25519(&bytes(&x)?)?;
                let mut public = jwk("OKP", "EdDSA");
                public.crv = Some("Ed25519");
                public.x = Some(x);
                (Algorithm::EdDSA, public, key)
            }
            ("EC", Some("P-256")) => {
                let (x, y) = (text(&input.x)?, text(&input.y)?);
                let key = PublicKey::p256(&bytes(&x)?, &bytes(&y)?)?;
                let mut public = jwk("EC", "ES256");
                public.crv = Some("P-256");
                public.x = Some(x);
                public.y = Some(y);
                (Algorithm::ES256, public, key)
            }
            ("RSA", _) => {
                let (n, e) = (text(&input.n)?, text(&input.e)?);
                let modulus = bytes(&n)?;
                // Bits of the number, not of its encoding: leading zero bytes add none.
                if rsa::BigUint::from_bytes_be(&modulus).bits() < MIN_RSA_BITS {
                    return Err(KeyError::Unsupported);
                }
                let key = PublicKey::rsa(&modulus, &bytes(&e)?)?;
                let (algorithm, key, name) = match input.alg.as_deref() {
                    None | Some("RS256") => (Algorithm::RS256, key, "RS256"),
                    Some("PS256") => (Algorithm::PS256, key.with_pss(), "PS256"),
                    Some(_) => return Err(KeyError::Unsupported),
                };
                let mut public = jwk("RSA", name);
                public.n = Some(n);
                public.e = Some(e);
                (algorithm, public, key)
            }
            _ => return Err(KeyError::Unsupported),
        };
        // RFC 9864 names EdDSA over Ed25519 `Ed25519`; a JWK may say either.
        let named = |alg: &str| alg == jwk.alg || (alg == "Ed25519" && jwk.alg == "EdDSA");
        if input.alg.as_deref().is_some_and(|alg| !named(alg)) {
            return Err(KeyError::Unsupported);
        }
        let kid = input
            .kid
            .clone()
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| thumbprint(&jwk));
        jwk.kid.clone_from(&kid);
        Ok(Self {
            kid,
            algorithm,
            public: key,
            jwk,
        })
    }
}

/// A private signing key, parsed once, with its public half.
#[cfg(feature = "server")]
#[derive(Clone)]
pub struct SigningKey {
    pub(crate) signer: std::sync::Arc<KeySigner>,
    public: VerifyingKey,
}

#[cfg(feature = "server")]
impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.public.kid)
            .field("algorithm", &self.public.algorithm)
            .finish_non_exhaustive()
    }
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order.
fn thumbprint(jwk: &PublicJwk) -> String {
    let canonical = match jwk.kty {
        "OKP" => format!(
            r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#,
            jwk.crv.unwrap_or_default(),
            jwk.x.as_deref().unwrap_or_default()
        ),
        "EC" => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk.crv.unwrap_or_default(),
            jwk.x.as_deref().unwrap_or_default(),
            jwk.y.as_deref().unwrap_or_default()
        ),
        _ => format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            jwk.e.as_deref().unwrap_or_default(),
            jwk.n.as_deref().unwrap_or_default()
        ),
    };
    b64(Sha256::digest(canonical.as_bytes()))
}

fn jwk(kty: &'static str, alg: &'static str) -> PublicJwk {
    PublicJwk {
        kty,
        crv: None,
        x: None,
        y: None,
        n: None,
        e: None,
        kid: String::new(),
        alg,
        key_use: "sig",
    }
}

#[cfg(feature = "server")]
impl SigningKey {
    /// Parses a PEM private key: PKCS#8 (Ed25519, P-256, RSA), SEC1 (P-256) or PKCS#1 (RSA).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        Ok(match pem::decode(pem)? {
            PrivatePem::Ed25519(key) => {
                let signer = KeySigner::ed25519(key.as_bytes(), key.verifying_key().as_bytes())?;
                let mut public = jwk("OKP", "EdDSA");
                public.crv = Some("Ed25519");
                public.x = Some(b64(key.verifying_key().as_bytes()));
                let verifying = PublicKey::Ed25519(key.verifying_key());
                Self::assemble(signer, Algorithm::EdDSA, public, verifying)
            }
            PrivatePem::P256 { pkcs8_der, x, y } => {
                let mut public = jwk("EC", "ES256");
                public.crv = Some("P-256");
                public.x = Some(b64(&x));
                public.y = Some(b64(&y));
                let signer = KeySigner::p256(&pkcs8_der)?;
                Self::assemble(signer, Algorithm::ES256, public, PublicKey::p256(&x, &y)?)
            }
            PrivatePem::Rsa { pkcs1_der, n, e } => {
                let mut public = jwk("RSA", "RS256");
                public.n = Some(b64(&n));
                public.e = Some(b64(&e));
                let signer = KeySigner::rsa(&pkcs1_der)?;
                Self::assemble(signer, Algorithm::RS256, public, PublicKey::rsa(&n, &e)?)
            }
        })
    }

    /// Reads and parses a PEM key file.
    pub fn from_pem_file(path: &Path) -> Result<Self, KeyError> {
        Self::from_pem(&std::fs::read_to_string(path)?)
    }

    /// A fresh Ed25519 key, returned with its PEM encoding (PKCS#8 version 1, see
    /// `pem::generate_ed25519`).
    pub fn generate_ed25519() -> Result<(Self, String), KeyError> {
        let pem = pem::generate_ed25519();
        Ok((Self::from_pem(&pem)?, pem.to_string()))
    }

    fn assemble(
        signer: KeySigner,
        algorithm: Algorithm,
        mut jwk: PublicJwk,
        public: PublicKey,
    ) -> Self {
        let kid = thumbprint(&jwk);
        jwk.kid.clone_from(&kid);
        Self {
            signer: std::sync::Arc::new(signer),
            public: VerifyingKey {
                kid,
                algorithm,
                public,
                jwk,
            },
        }
    }

    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    pub fn algorithm(&self) -> Algorithm {
        self.public.algorithm
    }

    /// The public half, for verifiers and the JWKS.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }
}

#[cfg(feature = "server")]
mod development;
#[cfg(any(feature = "server", feature = "client"))]
pub(crate) mod pem;
#[cfg(feature = "server")]
pub use development::load_or_generate;

#[cfg(test)]
#[cfg(feature = "server")]
mod tests;
