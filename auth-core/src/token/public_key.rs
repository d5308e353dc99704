//! Signature checks with a public key parsed once (RustCrypto, pure Rust).
//!
//! jsonwebtoken's `decode` rebuilds the key from its bytes on every call (for Ed25519 a
//! point decompression) and parses the header three times; a verifier here parses each key
//! when it is loaded and each token once. One algorithm per key: EdDSA (RFC 8037, strict
//! verification: no small-order keys or non-canonical signatures; client assertions are
//! checked in batches, see `batch`), ES256 (the fixed-width `r || s` of RFC 7518 §3.4),
//! RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3) and, for client keys, PS256 (§3.5).

use rsa::traits::SignatureScheme as _;
use sha2::{Digest as _, Sha256};

use super::keys::KeyError;

/// A public key ready to check signatures of its one algorithm.
#[derive(Clone)]
pub(crate) enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    Rsa(rsa::RsaPublicKey),
    /// RSASSA-PSS with SHA-256 (PS256, RFC 7518 §3.5).
    RsaPss(rsa::RsaPublicKey),
}

/// The one Ed25519 check of a single signature: strict (RFC 8032 §5.1.7 with a canonical `s`,
/// no small-order `R` or key), for a lone signature and for each one of a failed batch.
pub(crate) fn ed25519_verifies(
    key: &ed25519_dalek::VerifyingKey,
    message: &[u8],
    signature: &ed25519_dalek::Signature,
) -> bool {
    key.verify_strict(message, signature).is_ok()
}

impl PublicKey {
    /// An Ed25519 key from its 32 bytes; never a small-order point, under which anyone
    /// could make signatures that an equation with a cofactor (or a batch) accepts.
    pub(crate) fn ed25519(x: &[u8]) -> Result<Self, KeyError> {
        let bytes: &[u8; 32] = x.try_into().map_err(|_| KeyError::Unsupported)?;
        match ed25519_dalek::VerifyingKey::from_bytes(bytes) {
            Ok(key) if !key.is_weak() => Ok(Self::Ed25519(key)),
            _ => Err(KeyError::Unsupported),
        }
    }

    /// A P-256 key from its affine coordinates (32 bytes each).
    pub(crate) fn p256(x: &[u8], y: &[u8]) -> Result<Self, KeyError> {
        if x.len() != 32 || y.len() != 32 {
            return Err(KeyError::Unsupported);
        }
        let mut sec1 = Vec::with_capacity(65);
        sec1.push(0x04);
        sec1.extend_from_slice(x);
        sec1.extend_from_slice(y);
        p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
            .map(Self::P256)
            .map_err(|_| KeyError::Unsupported)
    }

    /// An RSA key from its big-endian modulus and exponent.
    pub(crate) fn rsa(n: &[u8], e: &[u8]) -> Result<Self, KeyError> {
        rsa::RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(n),
            rsa::BigUint::from_bytes_be(e),
        )
        .map(Self::Rsa)
        .map_err(|_| KeyError::Unsupported)
    }

    /// The same RSA key, checking PS256 instead of RS256.
    pub(crate) fn with_pss(self) -> Self {
        match self {
            Self::Rsa(key) => Self::RsaPss(key),
            other => other,
        }
    }

    /// True when `signature` is this key's signature of `message`.
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Ed25519(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|signature| ed25519_verifies(key, message, &signature)),
            Self::P256(key) => {
                use p256::ecdsa::signature::Verifier as _;
                p256::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|signature| key.verify(message, &signature).is_ok())
            }
            Self::Rsa(key) => rsa::Pkcs1v15Sign::new::<Sha256>()
                .verify(key, &Sha256::digest(message), signature)
                .is_ok(),
            Self::RsaPss(key) => rsa::Pss::new::<Sha256>()
                .verify(key, &Sha256::digest(message), signature)
                .is_ok(),
        }
    }
}
