//! Client secrets: generation, the stored forms of their hashes, and constant-time checks.
//!
//! Secrets this service generates carry 256 random bits, so a slow hash would protect
//! nothing (nobody can try 2^256 guesses): they are stored as SHA-256 digests
//! (`sha256$<base64url>`) and checked in microseconds, on every replica, cold or warm.
//! Hashes that came from elsewhere (fidesops' bcrypt strings, its older salted SHA-512, or
//! rows written by earlier versions of this service) are still read: a fidesops SHA-512 is
//! checked as fast as our own, a bcrypt hash is slow ([`StoredSecret::Bcrypt`]: the caller
//! runs it on the bcrypt threads) and, once it has verified, the row is upgraded to the fast
//! form so each imported client pays bcrypt once in the whole fleet. SECURITY.md explains
//! the choice.
//!
//! Presented secrets longer than 71 bytes are refused: bcrypt reads 72 bytes including a NUL
//! terminator, and an imported bcrypt hash must never verify a truncated secret.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256, Sha512};
use subtle::ConstantTimeEq as _;

use crate::ids::random_token;

/// The recognisable prefix of generated secrets, for leak scanners.
pub const CLIENT_SECRET_PREFIX: &str = "ocs_";
/// bcrypt reads 72 bytes including a NUL terminator; longer secrets are refused.
pub const MAX_SECRET_LEN: usize = 71;
/// Bounds accepted for `BCRYPT_COST`, the highest cost of an imported hash that is run.
pub const BCRYPT_COST_RANGE: std::ops::RangeInclusive<u32> = 4..=16;
/// The stored form of a SHA-256 digest: this prefix, then 43 base64url characters.
const SHA256_PREFIX: &str = "sha256$";
/// The stored form of fidesops' pre-2022 hash: this prefix, the 128 hex digits of
/// `SHA-512(secret ‖ salt)`, `$`, then the salt.
pub const FIDESOPS_SHA512_PREFIX: &str = "fidesops-sha512$";

/// A client secret in clear text: shown once at creation, never logged (`Debug` is redacted).
#[derive(Clone)]
pub struct ClientSecret(SecretString);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a client secret must be 1 to {MAX_SECRET_LEN} bytes")]
    BadLength,
}

impl ClientSecret {
    /// Generates a secret from 32 random bytes: `ocs_` followed by 43 base64url characters.
    pub fn generate() -> Self {
        Self(SecretString::from(format!(
            "{CLIENT_SECRET_PREFIX}{}",
            random_token(32)
        )))
    }

    /// Accepts a presented secret if every stored form can check it without truncation.
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

    /// The SHA-256 digest of the secret: what is stored, and what caches remember.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.expose().as_bytes()).into()
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// A secret as presented at the token endpoint: the form RFC 6749 §2.3.1 prescribes, and,
/// for Basic credentials that differ once form-decoded, the raw form too, because many
/// client libraries (requests' `HTTPBasicAuth`, authlib, requests-oauthlib) skip that
/// encoding and a `+` or `%` in their secret would otherwise never verify.
#[derive(Debug, Clone)]
pub struct PresentedSecret {
    pub decoded: ClientSecret,
    pub raw: Option<ClientSecret>,
}

impl PresentedSecret {
    pub fn new(decoded: ClientSecret) -> Self {
        Self { decoded, raw: None }
    }

    /// The forms to try, the decoded one first.
    pub fn candidates(&self) -> impl Iterator<Item = &ClientSecret> {
        std::iter::once(&self.decoded).chain(self.raw.as_ref())
    }
}

/// A stored secret hash, in the text form kept in the database.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash(String);

impl SecretHash {
    /// The fast form of `secret`: what this service stores for every secret it generates,
    /// and what an imported hash is upgraded to once its secret has verified.
    pub fn of(secret: &ClientSecret) -> Self {
        Self(format!(
            "{SHA256_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(secret.digest())
        ))
    }

    /// Wraps a hash read from the database.
    pub fn from_stored(hash: String) -> Self {
        Self(hash)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hash, parsed.
    pub fn parse(&self) -> StoredSecret {
        StoredSecret::parse(&self.0)
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash([redacted])")
    }
}

/// A stored hash by kind.
#[derive(Clone, PartialEq, Eq)]
pub enum StoredSecret {
    /// This service's form: SHA-256 of the secret.
    Sha256([u8; 32]),
    /// fidesops before mid-2022: SHA-512 of the secret followed by a per-client salt.
    FidesopsSha512 { digest: [u8; 64], salt: String },
    /// A bcrypt string (`$2a$`, `$2b$`, `$2y$`): imported, or written by earlier versions.
    Bcrypt(String),
    /// Anything else (a deleted client's marker, a corrupt value): nothing verifies.
    Unusable,
}

impl fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sha256(_) => "Sha256([redacted])",
            Self::FidesopsSha512 { .. } => "FidesopsSha512([redacted])",
            Self::Bcrypt(_) => "Bcrypt([redacted])",
            Self::Unusable => "Unusable",
        })
    }
}

/// What a fast check of a stored hash found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FastCheck {
    Match,
    NoMatch,
    /// The hash is bcrypt: only [`verify_bcrypt`] can tell.
    NeedsBcrypt,
}

impl StoredSecret {
    pub fn parse(stored: &str) -> Self {
        if let Some(encoded) = stored.strip_prefix(SHA256_PREFIX) {
            let mut digest = [0u8; 32];
            return match URL_SAFE_NO_PAD.decode_slice(encoded, &mut digest) {
                Ok(32) => Self::Sha256(digest),
                _ => Self::Unusable,
            };
        }
        if let Some(rest) = stored.strip_prefix(FIDESOPS_SHA512_PREFIX) {
            let mut digest = [0u8; 64];
            return match rest.split_once('$') {
                Some((hex, salt)) if decode_hex(hex, &mut digest) => Self::FidesopsSha512 {
                    digest,
                    salt: salt.to_owned(),
                },
                _ => Self::Unusable,
            };
        }
        if is_bcrypt(stored) {
            return Self::Bcrypt(stored.to_owned());
        }
        Self::Unusable
    }

    /// Checks `secret` without bcrypt, in constant time for the hash's kind.
    pub fn check_fast(&self, secret: &ClientSecret) -> FastCheck {
        let matched = match self {
            Self::Sha256(stored) => bool::from(secret.digest().ct_eq(stored)),
            Self::FidesopsSha512 { digest, salt } => {
                let mut hasher = Sha512::new();
                hasher.update(secret.expose().as_bytes());
                hasher.update(salt.as_bytes());
                bool::from(hasher.finalize().as_slice().ct_eq(digest))
            }
            Self::Bcrypt(_) => return FastCheck::NeedsBcrypt,
            Self::Unusable => false,
        };
        if matched {
            FastCheck::Match
        } else {
            FastCheck::NoMatch
        }
    }

    /// True for forms that are upgraded to SHA-256 once their secret has verified.
    pub fn is_imported(&self) -> bool {
        matches!(self, Self::FidesopsSha512 { .. } | Self::Bcrypt(_))
    }
}

/// Checks `secret` against a bcrypt string, never truncating it. Slow (the hash's cost):
/// run it on the bcrypt threads.
pub fn verify_bcrypt(secret: &ClientSecret, hash: &str) -> bool {
    bcrypt::non_truncating_verify(secret.expose(), hash).unwrap_or(false)
}

/// The cost of a bcrypt string (its two digits after the version).
pub fn bcrypt_cost(hash: &str) -> Option<u32> {
    hash.get(4..6)?.parse().ok()
}

/// A bcrypt string: `$2a$`, `$2b$` or `$2y$`, a two-digit cost, `$`, 53 characters.
pub fn is_bcrypt(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 60
        && (value.starts_with("$2a$") || value.starts_with("$2b$") || value.starts_with("$2y$"))
        && bytes[4].is_ascii_digit()
        && bytes[5].is_ascii_digit()
        && bytes[6] == b'$'
        && bytes[7..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'/')
}

fn decode_hex(hex: &str, out: &mut [u8]) -> bool {
    if hex.len() != out.len() * 2 {
        return false;
    }
    for (byte, pair) in out.iter_mut().zip(hex.as_bytes().chunks(2)) {
        let digit = |c: u8| char::from(c).to_digit(16);
        match (digit(pair[0]), digit(pair[1])) {
            (Some(hi), Some(lo)) => *byte = (hi * 16 + lo) as u8,
            _ => return false,
        }
    }
    true
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
    fn the_fast_form_verifies_only_the_same_secret() {
        let secret = ClientSecret::generate();
        let hash = SecretHash::of(&secret);
        assert!(hash.as_str().starts_with("sha256$"));
        assert_eq!(hash.parse().check_fast(&secret), FastCheck::Match);
        let other = ClientSecret::generate();
        assert_eq!(hash.parse().check_fast(&other), FastCheck::NoMatch);
        assert!(!hash.parse().is_imported());
        assert!(!format!("{hash:?}").contains("sha256"));
        assert!(!format!("{:?}", hash.parse()).contains(&hash.as_str()[7..]));
    }

    #[test]
    fn bcrypt_hashes_need_the_slow_check_and_never_truncate() {
        let secret = ClientSecret::parse(&"s".repeat(MAX_SECRET_LEN)).unwrap();
        let hash = bcrypt::hash(secret.expose(), 4).unwrap();
        let stored = StoredSecret::parse(&hash);
        assert!(matches!(stored, StoredSecret::Bcrypt(_)));
        assert!(stored.is_imported());
        assert_eq!(stored.check_fast(&secret), FastCheck::NeedsBcrypt);
        assert!(verify_bcrypt(&secret, &hash));
        assert!(!verify_bcrypt(&ClientSecret::generate(), &hash));
        let longer = format!("{}x", "s".repeat(MAX_SECRET_LEN));
        assert_eq!(
            ClientSecret::parse(&longer).err(),
            Some(SecretError::BadLength)
        );
        assert_eq!(ClientSecret::parse("").err(), Some(SecretError::BadLength));
    }

    #[test]
    fn fidesops_sha512_verifies_secret_then_salt() {
        let secret = ClientSecret::parse("a-fidesops-secret").unwrap();
        let salt = "$2b$12$abcdefghijklmnopqrstuu";
        let digest = Sha512::digest(format!("{}{salt}", secret.expose()).as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let stored = StoredSecret::parse(&format!("{FIDESOPS_SHA512_PREFIX}{hex}${salt}"));
        assert!(stored.is_imported());
        assert_eq!(stored.check_fast(&secret), FastCheck::Match);
        let wrong = ClientSecret::parse("a-fidesops-secreT").unwrap();
        assert_eq!(stored.check_fast(&wrong), FastCheck::NoMatch);
    }

    #[test]
    fn anything_else_is_unusable() {
        for stored in [
            "",
            "!deleted",
            "sha256$short",
            "fidesops-sha512$00$salt",
            "$2b$12$tooshort",
            "plaintext-secret",
        ] {
            let parsed = StoredSecret::parse(stored);
            assert_eq!(parsed, StoredSecret::Unusable, "{stored}");
            assert_eq!(
                parsed.check_fast(&ClientSecret::parse("x").unwrap()),
                FastCheck::NoMatch
            );
        }
    }

    #[test]
    fn presented_secrets_try_the_decoded_form_first() {
        let decoded = ClientSecret::parse("a b").unwrap();
        let raw = ClientSecret::parse("a+b").unwrap();
        let presented = PresentedSecret {
            decoded,
            raw: Some(raw),
        };
        let forms: Vec<&str> = presented.candidates().map(ClientSecret::expose).collect();
        assert_eq!(forms, ["a b", "a+b"]);
    }

    #[test]
    fn constant_time_equality_handles_any_lengths() {
        assert!(secrets_equal("root-secret", "root-secret"));
        assert!(!secrets_equal("root-secret", "root-secreT"));
        assert!(!secrets_equal("root", "root-secret"));
        assert!(!secrets_equal("", "root-secret"));
    }
}
