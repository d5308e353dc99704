//! Access tokens: RFC 9068 JWTs, issued by [`TokenIssuer`] and checked by [`TokenVerifier`].
//!
//! Header `typ: at+jwt`, `alg` fixed by the key, `kid` the key's thumbprint. Claims: `iss`,
//! `sub` and `client_id`, `aud` (always: RFC 9068 §2.2), `iat`, `exp`, `jti`, `scope` (omitted
//! when empty), and `iat_us`:
//! the instant, in microseconds, of the client state the token was built from (its issuance
//! time, or earlier when that state came from a cache; never after `iat`'s second).
//! Revocation cut-offs are compared against it, so "issued before the revocation" is exact
//! within a second and a token built from stale state is always covered. Verification accepts only the
//! algorithm of the key the `kid` names (never `none`, never an HMAC keyed with a public key).
//! Revocation is checked by the caller, after signature and claims (see `crate::revocation`).

#[cfg(feature = "server")]
mod batch;
#[cfg(feature = "server")]
mod issue;
pub mod keys;
mod public_key;
#[cfg(feature = "server")]
mod sign;

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Header;
use serde::{Deserialize, Serialize};

use crate::ids::{ClientId, TokenId};
use crate::scopes::{Scope, parse_scope_list};
use crate::time::Timestamp;
#[cfg(feature = "server")]
pub use issue::{Issue, TokenIssuer};
#[cfg(feature = "server")]
pub use keys::SigningKey;
pub use keys::{JwkInput, Jwks, KeyError, PublicJwk, VerifyingKey};

/// The JOSE `typ` of access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// Tokens longer than this are refused before any parsing.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub client_id: String,
    pub aud: Audience,
    pub iat: i64,
    /// Issuance time in microseconds since the epoch, for exact revocation cut-offs.
    pub iat_us: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub exp: i64,
    pub jti: TokenId,
    /// Space-separated; omitted from the token when empty (RFC 9068 §2.2.3.1).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
}

/// The `aud` claim (RFC 7519 §4.1.3): one audience, as a string (what most tokens carry),
/// or several, as an array (a token asked for with several RFC 8707 `resource`s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    /// The audiences, one or several.
    pub fn as_slice(&self) -> &[String] {
        match self {
            Self::One(one) => std::slice::from_ref(one),
            Self::Many(many) => many,
        }
    }

    /// True when `audience` is one of them.
    pub fn contains(&self, audience: &str) -> bool {
        self.as_slice().iter().any(|a| a == audience)
    }

    /// A string for one audience, an array for several.
    pub fn from_list(mut list: Vec<String>) -> Self {
        if list.len() == 1 {
            Self::One(list.remove(0))
        } else {
            Self::Many(list)
        }
    }
}

impl From<&str> for Audience {
    fn from(audience: &str) -> Self {
        Self::One(audience.to_owned())
    }
}

impl PartialEq<&str> for Audience {
    fn eq(&self, other: &&str) -> bool {
        matches!(self, Self::One(one) if one == other)
    }
}

/// A token that passed verification, with its parts already typed.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub client_id: ClientId,
    pub scopes: Vec<Scope>,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub claims: AccessTokenClaims,
}

/// A freshly signed token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: i64,
    pub claims: AccessTokenClaims,
}

#[derive(Debug, thiserror::Error)]
#[error("signing the token failed")]
pub struct SignError;

/// Why a token was refused. Every variant is a 401 to callers; the variant is for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token is not an access token (typ)")]
    WrongType,
    #[error("the token's algorithm is not accepted for its key")]
    AlgorithmNotAllowed,
    #[error("the token names an unknown key")]
    UnknownKey,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token is from another issuer")]
    WrongIssuer,
    #[error("the token is for another audience")]
    WrongAudience,
}

/// Verifies access tokens against a set of public keys, each parsed once.
#[derive(Debug, Clone)]
pub struct TokenVerifier {
    keys: HashMap<String, VerifyingKey>,
    issuer: String,
    audience: String,
    leeway_secs: i64,
}

/// Clock skew tolerated between the issuer and a verifier.
pub const DEFAULT_LEEWAY_SECS: i64 = 30;

impl TokenVerifier {
    pub fn new(
        keys: impl IntoIterator<Item = VerifyingKey>,
        issuer: String,
        audience: String,
    ) -> Self {
        Self {
            keys: keys.into_iter().map(|key| (key.kid.clone(), key)).collect(),
            issuer,
            audience,
            leeway_secs: DEFAULT_LEEWAY_SECS,
        }
    }

    pub fn with_leeway_secs(mut self, leeway_secs: i64) -> Self {
        self.leeway_secs = leeway_secs;
        self
    }

    /// The published key set.
    pub fn jwks(&self) -> Jwks {
        let mut keys: Vec<PublicJwk> = self.keys.values().map(|k| k.jwk.clone()).collect();
        keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        Jwks { keys }
    }

    /// Checks signature, type, issuer, audience and time. Revocation is the caller's next step.
    /// Each part of the token is decoded once: header, then signature, then claims.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<VerifiedToken, VerifyError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(VerifyError::Malformed);
        }
        // JWS compact serialization (RFC 7515 §7.1): exactly three parts.
        let (signing_input, signature) = token.rsplit_once('.').ok_or(VerifyError::Malformed)?;
        let (header, payload) = signing_input
            .split_once('.')
            .filter(|(_, payload)| !payload.contains('.'))
            .ok_or(VerifyError::Malformed)?;
        let header: Header = decode_part(header)?;
        if header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
            return Err(VerifyError::WrongType);
        }
        if header.crit.is_some() {
            return Err(VerifyError::Malformed);
        }
        let kid = header.kid.as_deref().ok_or(VerifyError::UnknownKey)?;
        let key = self.keys.get(kid).ok_or(VerifyError::UnknownKey)?;
        if header.alg != key.algorithm {
            return Err(VerifyError::AlgorithmNotAllowed);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| VerifyError::Malformed)?;
        if !key.public.verifies(signing_input.as_bytes(), &signature) {
            return Err(VerifyError::BadSignature);
        }
        let claims: AccessTokenClaims = decode_part(payload)?;
        self.check_claims(&claims, now)?;
        let client_id = ClientId::parse(&claims.client_id).map_err(|_| VerifyError::Malformed)?;
        if claims.sub != claims.client_id {
            return Err(VerifyError::Malformed);
        }
        let scopes = if claims.scope.is_empty() {
            Vec::new()
        } else {
            parse_scope_list(&claims.scope).map_err(|_| VerifyError::Malformed)?
        };
        Ok(VerifiedToken {
            client_id,
            scopes,
            issued_at: Timestamp::from_micros(claims.iat_us),
            expires_at: Timestamp::from_secs(claims.exp),
            claims,
        })
    }

    fn check_claims(&self, claims: &AccessTokenClaims, now: Timestamp) -> Result<(), VerifyError> {
        if claims.iss != self.issuer {
            return Err(VerifyError::WrongIssuer);
        }
        if !claims.aud.contains(&self.audience) {
            return Err(VerifyError::WrongAudience);
        }
        let now_secs = now.as_secs();
        if claims.exp.saturating_add(self.leeway_secs) <= now_secs {
            return Err(VerifyError::Expired);
        }
        let not_before = claims.nbf.unwrap_or(claims.iat).max(claims.iat);
        if not_before.saturating_sub(self.leeway_secs) > now_secs {
            return Err(VerifyError::NotYetValid);
        }
        if claims.iat_us.div_euclid(1_000_000) > claims.iat {
            return Err(VerifyError::Malformed);
        }
        Ok(())
    }
}

/// A base64url JSON part of a token (RFC 7515): any fault is `Malformed`, duplicated
/// members included (serde refuses them).
fn decode_part<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, VerifyError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| VerifyError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| VerifyError::Malformed)
}

#[cfg(test)]
#[cfg(feature = "server")]
mod tests;
