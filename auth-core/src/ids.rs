//! Identifiers: client ids ([`ClientId`]) and token ids ([`TokenId`], a token's `jti`).
//!
//! A client id from a request, a path or the environment is parsed into a [`ClientId`]
//! (a token id into a [`TokenId`]) before it is used, so an id with characters no generated
//! id has (`/`, `..`, NUL) is refused at the boundary instead of reaching a query.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use serde::{Deserialize, Deserializer, Serialize};

/// The prefix of every generated client id.
pub const CLIENT_ID_PREFIX: &str = "cid_";
/// The longest client id accepted (the root id from the environment included).
pub const MAX_CLIENT_ID_LEN: usize = 128;
/// [`ClientId::parse`]'s rule as a regular expression (ECMA-262, Rust and Python agree on
/// it), for the OpenAPI descriptions. It spells out "not `.` or `..`" without a look-ahead,
/// which some JSON Schema tools cannot handle.
pub const CLIENT_ID_PATTERN: &str = r"^(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}|\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,126}|\.\.[A-Za-z0-9._-]{1,126})$";

/// Returns `len` bytes from the operating system's CSPRNG, base64url-encoded without padding.
pub(crate) fn random_token(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A client identifier: 1 to 128 characters of `A-Z a-z 0-9 - _ .`, not `.` or `..`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ClientId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a client id is 1 to {MAX_CLIENT_ID_LEN} characters of letters, digits, '-', '_' and '.'")]
pub struct InvalidClientId;

impl ClientId {
    /// Generates a fresh client id from 32 random bytes.
    pub fn generate() -> Self {
        Self(format!("{CLIENT_ID_PREFIX}{}", random_token(32)))
    }

    pub fn parse(value: &str) -> Result<Self, InvalidClientId> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.';
        let valid = !value.is_empty()
            && value.len() <= MAX_CLIENT_ID_LEN
            && value.bytes().all(allowed)
            && value != "."
            && value != "..";
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidClientId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<'de> Deserialize<'de> for ClientId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        ClientId::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// The longest token id accepted (generated ones have 22 characters).
pub const MAX_TOKEN_ID_LEN: usize = 64;

/// A token's id (`jti`): 1 to 64 characters of `A-Z a-z 0-9 - _`. Generated ids are 16
/// random bytes, base64url ([`random_id`]).
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct TokenId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a token id is 1 to {MAX_TOKEN_ID_LEN} characters of letters, digits, '-' and '_'")]
pub struct InvalidTokenId;

impl TokenId {
    /// A fresh token id.
    pub fn generate() -> Self {
        Self(random_id())
    }

    pub fn parse(value: &str) -> Result<Self, InvalidTokenId> {
        let valid = !value.is_empty()
            && value.len() <= MAX_TOKEN_ID_LEN
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidTokenId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<'de> Deserialize<'de> for TokenId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        TokenId::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A fresh random id (token ids, request ids, error ids): 16 random bytes, base64url. The
/// bytes come from the thread's CSPRNG (`rand::thread_rng`: ChaCha12, seeded and
/// periodically reseeded from the operating system), which costs no system call per token.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_and_differ() {
        let a = ClientId::generate();
        let b = ClientId::generate();
        assert_ne!(a, b);
        assert!(a.as_str().starts_with(CLIENT_ID_PREFIX));
        assert_eq!(a.as_str().len(), CLIENT_ID_PREFIX.len() + 43);
        assert_eq!(ClientId::parse(a.as_str()), Ok(a));
    }

    proptest::proptest! {
        #[test]
        fn the_pattern_is_the_parse_rule(value in "[a-z._/ -]{0,4}|[A-Za-z0-9._-]{120,130}|\\PC{0,6}") {
            let pattern = regex::Regex::new(CLIENT_ID_PATTERN).unwrap();
            proptest::prop_assert_eq!(pattern.is_match(&value), ClientId::parse(&value).is_ok(), "{:?}", value);
        }
    }

    #[test]
    fn the_pattern_refuses_what_parse_refuses() {
        let pattern = regex::Regex::new(CLIENT_ID_PATTERN).unwrap();
        for value in [
            "",
            ".",
            "..",
            "...",
            ".a",
            "..a",
            "a.",
            "a/b",
            "a\n",
            &"a".repeat(128),
            &"a".repeat(129),
        ] {
            assert_eq!(
                pattern.is_match(value),
                ClientId::parse(value).is_ok(),
                "{value:?}"
            );
        }
    }

    #[test]
    fn ids_with_path_or_control_characters_are_refused() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a\0b",
            "a b",
            "é",
            "a%2F",
            &"a".repeat(129),
        ] {
            assert_eq!(ClientId::parse(bad), Err(InvalidClientId), "{bad:?}");
        }
        for good in ["fidesopsadmin", "a..b", "svc-1.prod_x"] {
            assert!(ClientId::parse(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn token_ids_are_base64url_words() {
        let generated = TokenId::generate();
        assert_eq!(generated.as_str().len(), 22);
        assert_eq!(TokenId::parse(generated.as_str()), Ok(generated));
        for bad in ["", "a.b", "a b", "a/b", "a\0", &"a".repeat(65)] {
            assert_eq!(TokenId::parse(bad), Err(InvalidTokenId), "{bad:?}");
        }
        assert!(TokenId::parse(&"a".repeat(64)).is_ok());
    }
}
