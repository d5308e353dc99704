//! Token signatures with a key parsed once, by aws-lc-rs (feature `server`).
//!
//! Signing is the largest cost of a warm token request, so the key is parsed at start-up and
//! each token costs one signature operation, nothing more: jsonwebtoken's `encode` parses
//! the PKCS#8 key again on every call, which for Ed25519 also derives the public key again.
//! aws-lc-rs signs instead of a pure-Rust backend because a benchmark says so: an Ed25519
//! signature takes 6 µs with it against 14 µs with ed25519-dalek on the benchmark machine
//! (`cargo bench -p auth-core --bench sign`, docs/BENCHMARKS.md). Verification stays pure
//! Rust (`token::public_key`, RustCrypto), so a resource server built with auth-core's
//! `actix` feature compiles no C.

use std::fmt;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};

use super::keys::KeyError;

/// A private key ready to sign JWS signing inputs with its one algorithm.
pub(crate) enum KeySigner {
    /// EdDSA (RFC 8037): deterministic.
    Ed25519(Ed25519KeyPair),
    /// ES256: the fixed-width `r || s` form JWS uses (RFC 7518 §3.4).
    P256(EcdsaKeyPair, SystemRandom),
    /// RS256: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3).
    Rsa(RsaKeyPair, SystemRandom),
}

impl fmt::Debug for KeySigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ed25519(_) => "KeySigner::Ed25519",
            Self::P256(..) => "KeySigner::P256",
            Self::Rsa(..) => "KeySigner::Rsa",
        })
    }
}

/// Signing failed (aws-lc reported an error; not expected with a key that loaded).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the signature could not be made")]
pub(crate) struct SignatureFailed;

impl KeySigner {
    /// An Ed25519 key from its 32-byte seed, checked against the public key it must have.
    pub(crate) fn ed25519(seed: &[u8], public: &[u8]) -> Result<Self, KeyError> {
        Ed25519KeyPair::from_seed_and_public_key(seed, public)
            .map(Self::Ed25519)
            .map_err(|_| KeyError::Unsupported)
    }

    /// A P-256 key from its PKCS#8 encoding.
    pub(crate) fn p256(pkcs8: &[u8]) -> Result<Self, KeyError> {
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
            .map(|pair| Self::P256(pair, SystemRandom::new()))
            .map_err(|_| KeyError::Unsupported)
    }

    /// An RSA key from its PKCS#1 `RSAPrivateKey` encoding.
    pub(crate) fn rsa(pkcs1: &[u8]) -> Result<Self, KeyError> {
        RsaKeyPair::from_der(pkcs1)
            .map(|pair| Self::Rsa(pair, SystemRandom::new()))
            .map_err(|_| KeyError::Unsupported)
    }

    /// Signs `input` and hands the signature bytes to `out`.
    pub(crate) fn sign<T>(
        &self,
        input: &[u8],
        out: impl FnOnce(&[u8]) -> T,
    ) -> Result<T, SignatureFailed> {
        match self {
            Self::Ed25519(pair) => Ok(out(pair.sign(input).as_ref())),
            Self::P256(pair, rng) => pair
                .sign(rng, input)
                .map(|signature| out(signature.as_ref()))
                .map_err(|_| SignatureFailed),
            Self::Rsa(pair, rng) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, rng, input, &mut signature)
                    .map_err(|_| SignatureFailed)?;
                Ok(out(&signature))
            }
        }
    }
}
