//! A client's private key for `private_key_jwt` (RFC 7523 §2.2): PEM loading (Ed25519,
//! P-256, RSA), its RFC 7638 `kid`, and the client assertion it signs for each token request.
//!
//! The algorithm follows from the key type, never from configuration: Ed25519 signs EdDSA,
//! P-256 signs ES256, RSA (2048 bits or more) signs RS256. The key is parsed by the same
//! crates the rest of auth-core uses, and signed with `jsonwebtoken`, so the `client` feature
//! adds no dependency of its own.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::TokenSourceError;
use crate::ids::{ClientId, random_token};
use crate::time::Timestamp;
use crate::token::keys::pem::{self, PrivatePem};
use crate::token::{JwkInput, KeyError, PublicJwk, VerifyingKey};

/// How long an assertion is valid: `exp` = `iat` + this many seconds.
pub const ASSERTION_LIFETIME_SECS: i64 = 60;
/// Random bytes in an assertion's `jti`.
const JTI_BYTES: usize = 16;

/// A private key that signs client assertions. `Debug` shows its `kid` and algorithm only.
#[derive(Clone)]
pub struct PrivateKey {
    pair: Arc<KeyPair>,
    /// The `kid` header of assertions: the thumbprint unless configured, or none.
    kid: Option<String>,
}

/// The key itself, shared by the clones of a [`PrivateKey`].
struct KeyPair {
    encoding: EncodingKey,
    /// The public half; its `kid` is the RFC 7638 thumbprint.
    public: VerifyingKey,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

/// The claims of a client assertion (RFC 7523 §3).
#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
}

impl PrivateKey {
    /// Parses a PEM private key: PKCS#8 (Ed25519, P-256, RSA), SEC1 (P-256) or PKCS#1 (RSA).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        match pem::decode(pem)? {
            PrivatePem::Ed25519(key) => {
                use ed25519_dalek::pkcs8::EncodePrivateKey as _;
                let der = key.to_pkcs8_der().map_err(|_| KeyError::Encoding)?;
                let x = b64(key.verifying_key().as_bytes());
                let jwk = json!({ "kty": "OKP", "crv": "Ed25519", "x": x });
                Self::assemble(EncodingKey::from_ed_der(der.as_bytes()), jwk)
            }
            PrivatePem::P256 { pkcs8_der, x, y } => {
                let jwk = json!({ "kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y) });
                Self::assemble(EncodingKey::from_ec_der(&pkcs8_der), jwk)
            }
            PrivatePem::Rsa { pkcs1_der, n, e } => {
                let jwk = json!({ "kty": "RSA", "n": b64(n), "e": b64(e) });
                Self::assemble(EncodingKey::from_rsa_der(&pkcs1_der), jwk)
            }
        }
    }

    /// Reads and parses a PEM key file; an error names the file, never its content.
    pub fn from_pem_file(path: &Path) -> Result<Self, TokenSourceError> {
        let failed = |source| TokenSourceError::KeyFile {
            path: path.to_owned(),
            source,
        };
        let pem = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| failed(e.into()))?);
        Self::from_pem(&pem).map_err(failed)
    }

    /// A fresh Ed25519 key, with its PKCS#8 PEM (for tests and tools that register a key).
    pub fn generate_ed25519() -> Result<(Self, Zeroizing<String>), KeyError> {
        let pem = pem::generate_ed25519();
        Ok((Self::from_pem(&pem)?, pem))
    }

    /// The `kid` header of its assertions: `Some(kid)` sets it, `None` leaves it out. By
    /// default it is the key's RFC 7638 thumbprint.
    #[must_use]
    pub fn with_key_id(mut self, kid: Option<String>) -> Self {
        self.kid = kid;
        self
    }

    /// The `kid` its assertions carry, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The key's RFC 7638 thumbprint (its default `kid`).
    pub fn thumbprint(&self) -> &str {
        self.pair.public.kid()
    }

    /// The signing algorithm, fixed by the key type: EdDSA, ES256 or RS256.
    pub fn algorithm(&self) -> Algorithm {
        self.pair.public.algorithm()
    }

    /// The public half as a JWK, to register with the authorization server; its `kid` is
    /// the one assertions carry (the thumbprint when none is set).
    pub fn public_jwk(&self) -> PublicJwk {
        let mut jwk = self.pair.public.jwk().clone();
        if let Some(kid) = &self.kid {
            jwk.kid.clone_from(kid);
        }
        jwk
    }

    /// A client assertion (RFC 7523 §2.2) issued at `now`: `iss` = `sub` = `client_id`,
    /// `aud` = `audience` (the token endpoint URL), `iat` = now, `exp` = `iat` + 60 s and a
    /// random 16-byte `jti`. The result is a credential: never log it.
    pub fn assertion(
        &self,
        client_id: &ClientId,
        audience: &str,
        now: Timestamp,
    ) -> Result<String, TokenSourceError> {
        let mut header = Header::new(self.algorithm());
        header.kid.clone_from(&self.kid);
        let iat = now.as_secs();
        let claims = AssertionClaims {
            iss: client_id.as_str(),
            sub: client_id.as_str(),
            aud: audience,
            iat,
            exp: iat.saturating_add(ASSERTION_LIFETIME_SECS),
            jti: random_token(JTI_BYTES),
        };
        jsonwebtoken::encode(&header, &claims, &self.pair.encoding)
            .map_err(|_| TokenSourceError::Sign)
    }

    fn assemble(encoding: EncodingKey, jwk: serde_json::Value) -> Result<Self, KeyError> {
        let input: JwkInput = serde_json::from_value(jwk).map_err(|_| KeyError::Encoding)?;
        let public = VerifyingKey::from_jwk(&input)?;
        Ok(Self {
            kid: Some(public.kid().to_owned()),
            pair: Arc::new(KeyPair { encoding, public }),
        })
    }
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}
