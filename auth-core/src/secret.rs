//! Client secrets: generation, bcrypt hashing and constant-time checks.
//!
//! Secrets are stored only as bcrypt hashes. Presented secrets longer than bcrypt's input
//! (72 bytes with its NUL terminator) are refused rather than silently truncated, so `secret + anything` never verifies.
//! An unknown client costs the same bcrypt work as a wrong secret ([`SecretHasher::verify_unknown`]),
//! so the two cannot be told apart by timing.

use std::fmt;

use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::ids::random_token;

/// The recognisable prefix of generated secrets, for leak scanners.
pub const CLIENT_SECRET_PREFIX: &str = "ocs_";
/// bcrypt reads 72 bytes including a NUL terminator; longer secrets are refused.
pub const MAX_SECRET_LEN: usize = 71;
/// Bounds accepted for `BCRYPT_COST` (bcrypt's own minimum is 4).
pub const BCRYPT_COST_RANGE: std::ops::RangeInclusive<u32> = 4..=16;

/// A client secret in clear text: shown once at creation, never logged (`Debug` is redacted).
#[derive(Clone)]
pub struct ClientSecret(SecretString);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a client secret must be 1 to {MAX_SECRET_LEN} bytes")]
    BadLength,
    #[error("bcrypt failed")]
    Bcrypt,
}

impl ClientSecret {
    /// Generates a secret from 32 random bytes: `ocs_` followed by 43 base64url characters.
    pub fn generate() -> Self {
        Self(SecretString::from(format!(
            "{CLIENT_SECRET_PREFIX}{}",
            random_token(32)
        )))
    }

    /// Accepts a presented secret if bcrypt can check it without truncation.
    pub fn parse(value: &str) -> Result<Self, SecretError> {
        if value.is_empty() || value.len() > MAX_SECRET_LEN {
            return Err(SecretError::BadLength);
        }
        Ok(Self(SecretString::from(value)))
    }

    /// The clear text, for the one response that hands it to its owner.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// A stored bcrypt hash of a client secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash(String);

impl SecretHash {
    /// Wraps a hash read from the database.
    pub fn from_stored(hash: String) -> Self {
        Self(hash)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash([redacted])")
    }
}

/// Hashes and verifies secrets at one configured cost.
#[derive(Clone)]
pub struct SecretHasher {
    cost: u32,
    /// A hash of a random secret at the same cost, verified against for unknown clients.
    dummy: SecretHash,
}

impl fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretHasher")
            .field("cost", &self.cost)
            .finish_non_exhaustive()
    }
}

impl SecretHasher {
    /// Builds a hasher; computes one bcrypt hash (the dummy), so call it off async workers.
    pub fn new(cost: u32) -> Result<Self, SecretError> {
        if !BCRYPT_COST_RANGE.contains(&cost) {
            return Err(SecretError::Bcrypt);
        }
        let dummy = hash_at(&ClientSecret::generate(), cost)?;
        Ok(Self { cost, dummy })
    }

    pub fn cost(&self) -> u32 {
        self.cost
    }

    /// Hashes a secret for storage. Blocking: run it off async workers.
    pub fn hash(&self, secret: &ClientSecret) -> Result<SecretHash, SecretError> {
        hash_at(secret, self.cost)
    }

    /// Checks a presented secret against a stored hash in constant time. Blocking.
    pub fn verify(&self, secret: &ClientSecret, hash: &SecretHash) -> bool {
        bcrypt::non_truncating_verify(secret.expose(), hash.as_str()).unwrap_or(false)
    }

    /// Spends the same work as [`Self::verify`] and returns false: used for unknown clients.
    pub fn verify_unknown(&self, secret: &ClientSecret) -> bool {
        let _ = self.verify(secret, &self.dummy);
        false
    }
}

fn hash_at(secret: &ClientSecret, cost: u32) -> Result<SecretHash, SecretError> {
    bcrypt::non_truncating_hash(secret.expose(), cost)
        .map(SecretHash)
        .map_err(|_| SecretError::Bcrypt)
}

/// Compares two secrets in constant time, whatever their lengths (digests are compared).
pub fn secrets_equal(presented: &str, expected: &str) -> bool {
    let a = Sha256::digest(presented.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    a.ct_eq(&b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_have_the_prefix_and_fit_bcrypt() {
        let secret = ClientSecret::generate();
        assert!(secret.expose().starts_with(CLIENT_SECRET_PREFIX));
        assert!(secret.expose().len() <= MAX_SECRET_LEN);
        assert_ne!(secret.expose(), ClientSecret::generate().expose());
        assert_eq!(format!("{secret:?}"), "ClientSecret([redacted])");
    }

    #[test]
    fn hash_verifies_only_the_same_secret() {
        let hasher = SecretHasher::new(4).unwrap();
        let secret = ClientSecret::generate();
        let hash = hasher.hash(&secret).unwrap();
        assert!(hasher.verify(&secret, &hash));
        assert!(!hasher.verify(&ClientSecret::generate(), &hash));
        assert!(!hasher.verify_unknown(&secret));
        assert!(!format!("{hash:?}").contains('$'));
    }

    #[test]
    fn secrets_longer_than_bcrypt_reads_are_refused_not_truncated() {
        let hasher = SecretHasher::new(4).unwrap();
        let exact = ClientSecret::parse(&"s".repeat(MAX_SECRET_LEN)).unwrap();
        let hash = hasher.hash(&exact).unwrap();
        assert!(hasher.verify(&exact, &hash));
        let longer = format!("{}x", "s".repeat(MAX_SECRET_LEN));
        assert_eq!(
            ClientSecret::parse(&longer).err(),
            Some(SecretError::BadLength)
        );
        assert_eq!(ClientSecret::parse("").err(), Some(SecretError::BadLength));
    }

    #[test]
    fn constant_time_equality_handles_any_lengths() {
        assert!(secrets_equal("root-secret", "root-secret"));
        assert!(!secrets_equal("root-secret", "root-secreT"));
        assert!(!secrets_equal("root", "root-secret"));
        assert!(!secrets_equal("", "root-secret"));
    }

    #[test]
    fn cost_outside_the_range_is_refused() {
        assert!(SecretHasher::new(3).is_err());
        assert!(SecretHasher::new(17).is_err());
    }
}
