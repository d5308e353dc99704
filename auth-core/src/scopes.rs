//! Scopes: the typed `Scope`, the parsing of OAuth scope strings, and the default registry.
//!
//! A scope string from a request or a database row becomes a [`Scope`] here and nowhere
//! else, so nothing downstream ever handles an unvalidated scope. The registry itself lives
//! in the database (operators add their own scopes); [`DEFAULT_SCOPES`] is its seed, in
//! fidesops' order followed by this service's own scopes.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// fidesops' scope registry, in its order, followed by the scopes this service adds.
/// Migrations seed the `scopes` table from exactly this list, in this order.
pub const DEFAULT_SCOPES: [&str; 56] = [
    "client:create",
    "client:update",
    "client:read",
    "client:delete",
    "config:read",
    "connection:read",
    "connection:create_or_update",
    "connection:delete",
    "connection:authorize",
    "connection:instantiate",
    "consent:read",
    "connection_type:read",
    "dataset:create_or_update",
    "dataset:delete",
    "dataset:read",
    "encryption:exec",
    "policy:create_or_update",
    "policy:read",
    "policy:delete",
    "privacy-request:review",
    "privacy-request:read",
    "privacy-request:delete",
    "privacy-request:resume",
    "privacy-request:upload_data",
    "privacy-request:view_data",
    "rule:create_or_update",
    "rule:read",
    "rule:delete",
    "scope:read",
    "storage:create_or_update",
    "storage:delete",
    "storage:read",
    "email:create_or_update",
    "email:delete",
    "email:read",
    "webhook:create_or_update",
    "webhook:read",
    "webhook:delete",
    "saas_config:create_or_update",
    "saas_config:read",
    "saas_config:delete",
    "user:create",
    "user:update",
    "user:read",
    "user:reset-password",
    "user:delete",
    "user-permission:create",
    "user-permission:update",
    "user-permission:read",
    "scope:create_or_update",
    "scope:delete",
    "token:revoke",
    "audit:read",
    "federation:read",
    "federation:create_or_update",
    "federation:delete",
];

/// The longest scope name accepted anywhere.
pub const MAX_SCOPE_LEN: usize = 128;
/// [`Scope::parse`]'s rule as a regular expression, for the OpenAPI descriptions.
pub const SCOPE_PATTERN: &str = r"^[!#-\[\]-~]{1,128}$";
/// [`parse_scope_list`]'s rule: scopes separated by single spaces.
pub const SCOPE_LIST_PATTERN: &str = r"^[!#-\[\]-~]{1,128}(?: [!#-\[\]-~]{1,128})*$";

/// One OAuth scope token (RFC 6749 §3.3): 1 to [`MAX_SCOPE_LEN`] printable ASCII characters,
/// excluding space, `"` and `\`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Scope(String);

/// Why a scope string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("a scope must not be empty")]
    Empty,
    #[error("a scope must be at most {MAX_SCOPE_LEN} characters")]
    TooLong,
    #[error("a scope may contain only printable ASCII characters other than space, '\"' and '\\'")]
    InvalidCharacter,
}

impl Scope {
    /// Parses one scope token.
    pub fn parse(value: &str) -> Result<Self, ScopeError> {
        if value.is_empty() {
            return Err(ScopeError::Empty);
        }
        if value.len() > MAX_SCOPE_LEN {
            return Err(ScopeError::TooLong);
        }
        let allowed = |b: u8| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b);
        if !value.bytes().all(allowed) {
            return Err(ScopeError::InvalidCharacter);
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Scope::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Parses a space-delimited scope parameter (RFC 6749 §3.3) into distinct scopes, keeping
/// the first occurrence of each. An empty string, or one with empty tokens, is refused.
pub fn parse_scope_list(value: &str) -> Result<Vec<Scope>, ScopeError> {
    let mut scopes: Vec<Scope> = Vec::new();
    for token in value.split(' ') {
        let scope = Scope::parse(token)?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    Ok(scopes)
}

/// Joins scopes into the space-delimited form used in tokens and responses.
pub fn join_scopes<'a>(scopes: impl IntoIterator<Item = &'a Scope>) -> String {
    let mut joined = String::new();
    for scope in scopes {
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(scope.as_str());
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_registry_is_fidesops_then_ours_without_duplicates() {
        assert_eq!(DEFAULT_SCOPES[0], "client:create");
        assert_eq!(DEFAULT_SCOPES[48], "user-permission:read");
        assert_eq!(
            DEFAULT_SCOPES[49..],
            [
                "scope:create_or_update",
                "scope:delete",
                "token:revoke",
                "audit:read",
                "federation:read",
                "federation:create_or_update",
                "federation:delete"
            ]
        );
        let mut sorted = DEFAULT_SCOPES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), DEFAULT_SCOPES.len());
        assert!(DEFAULT_SCOPES.iter().all(|s| Scope::parse(s).is_ok()));
    }

    #[test]
    fn parse_refuses_what_rfc_6749_forbids() {
        assert_eq!(Scope::parse(""), Err(ScopeError::Empty));
        assert_eq!(Scope::parse("a b"), Err(ScopeError::InvalidCharacter));
        assert_eq!(Scope::parse("a\"b"), Err(ScopeError::InvalidCharacter));
        assert_eq!(Scope::parse("a\\b"), Err(ScopeError::InvalidCharacter));
        assert_eq!(Scope::parse("é"), Err(ScopeError::InvalidCharacter));
        assert_eq!(Scope::parse("a\0"), Err(ScopeError::InvalidCharacter));
        assert_eq!(Scope::parse(&"a".repeat(129)), Err(ScopeError::TooLong));
        assert!(Scope::parse(&"a".repeat(128)).is_ok());
        assert!(Scope::parse("client:read").is_ok());
    }

    proptest::proptest! {
        #[test]
        fn the_patterns_are_the_parse_rules(value in "[a-c :\"\\\\]{0,6}|[ -~]{120,135}|\\PC{0,6}") {
            let one = regex::Regex::new(SCOPE_PATTERN).unwrap();
            let list = regex::Regex::new(SCOPE_LIST_PATTERN).unwrap();
            proptest::prop_assert_eq!(one.is_match(&value), Scope::parse(&value).is_ok(), "{:?}", value);
            proptest::prop_assert_eq!(list.is_match(&value), parse_scope_list(&value).is_ok(), "{:?}", value);
        }
    }

    #[test]
    fn scope_lists_are_space_delimited_and_deduplicated() {
        let parsed = parse_scope_list("client:read client:create client:read").unwrap();
        assert_eq!(join_scopes(&parsed), "client:read client:create");
        assert_eq!(parse_scope_list(""), Err(ScopeError::Empty));
        assert_eq!(parse_scope_list("a  b"), Err(ScopeError::Empty));
        assert_eq!(parse_scope_list(" a"), Err(ScopeError::Empty));
    }
}
