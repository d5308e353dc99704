//! Public keys and audiences as the `jwks`, `jwks_uri` and `audiences` columns hold them
//! (a client's or an issuer's), and the doors that set a client's.

use diesel::prelude::*;
use serde_json::{Map, Value, json};

use crate::ids::ClientId;
use crate::store::StoreError;
use crate::store::connection::DbConnection;
use crate::store::schema::clients;
use crate::time::Timestamp;

/// Public keys as the `jwks` and `jwks_uri` columns hold them (a client's or an issuer's):
/// none, a JWKS given inline, or a URL the keys are fetched from.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Keys {
    #[default]
    None,
    /// Public JWKs (JSON objects), each with a distinct `kid`; stored as `{"keys": [...]}`.
    Inline(Vec<Map<String, Value>>),
    /// Fetched from this URL.
    Uri(String),
}

impl Keys {
    /// The keys of a row's `jwks` and `jwks_uri` columns (a URL wins, as on the token path).
    pub fn from_columns(jwks: Option<&str>, jwks_uri: Option<&str>) -> Result<Self, StoreError> {
        if let Some(uri) = jwks_uri {
            return Ok(Self::Uri(uri.to_owned()));
        }
        let Some(json) = jwks else {
            return Ok(Self::None);
        };
        #[derive(serde::Deserialize)]
        struct Set {
            keys: Vec<Map<String, Value>>,
        }
        let set: Set = serde_json::from_str(json).map_err(|_| StoreError::Corrupt("jwks"))?;
        Ok(if set.keys.is_empty() {
            Self::None
        } else {
            Self::Inline(set.keys)
        })
    }

    /// The `jwks` and `jwks_uri` columns of these keys.
    pub fn to_columns(&self) -> (Option<String>, Option<String>) {
        match self {
            Self::None => (None, None),
            Self::Inline(keys) => (Some(json!({ "keys": keys }).to_string()), None),
            Self::Uri(uri) => (None, Some(uri.clone())),
        }
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Self::None)
    }

    /// The `kid`s of inline keys (none for a URL).
    pub fn kids(&self) -> Vec<&str> {
        match self {
            Self::Inline(keys) => keys
                .iter()
                .filter_map(|key| key.get("kid").and_then(Value::as_str))
                .collect(),
            Self::None | Self::Uri(_) => Vec::new(),
        }
    }

    /// True when these keys, replacing `before`, drop something `before` trusted: one of its
    /// keys, or its URL. Adding keys to those kept drops nothing.
    pub fn drops_from(&self, before: &Keys) -> bool {
        match (before, self) {
            (Self::None, _) => false,
            (Self::Uri(old), Self::Uri(new)) => old != new,
            (Self::Inline(old), Self::Inline(new)) => old.iter().any(|key| !new.contains(key)),
            (Self::Uri(_) | Self::Inline(_), _) => true,
        }
    }
}

/// A list of audiences as a JSON-array column; `None` for an empty list.
pub fn audiences_column(audiences: &[String]) -> Option<String> {
    (!audiences.is_empty()).then(|| json!(audiences).to_string())
}

/// The audiences of a JSON-array column (`None`: none).
pub fn audiences_from_column(column: Option<&str>) -> Result<Vec<String>, StoreError> {
    column.map_or_else(
        || Ok(Vec::new()),
        |json| serde_json::from_str(json).map_err(|_| StoreError::Corrupt("audiences")),
    )
}

/// Sets a live client's keys (inline JWKS or `jwks_uri`, at most one; both `None`: no
/// keys). `false`: no such live client.
pub fn set_keys(
    conn: &mut DbConnection,
    client_id: &ClientId,
    jwks: Option<&str>,
    jwks_uri: Option<&str>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let updated = diesel::update(
        clients::table
            .find(client_id.as_str())
            .filter(clients::deleted_at.is_null()),
    )
    .set((
        clients::jwks.eq(jwks),
        clients::jwks_uri.eq(jwks_uri),
        clients::updated_at.eq(now.as_micros()),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Sets a live client's further audiences (a JSON array; `None`: none). `false`: no such
/// live client.
pub fn set_audiences(
    conn: &mut DbConnection,
    client_id: &ClientId,
    audiences: Option<&str>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let updated = diesel::update(
        clients::table
            .find(client_id.as_str())
            .filter(clients::deleted_at.is_null()),
    )
    .set((
        clients::audiences.eq(audiences),
        clients::updated_at.eq(now.as_micros()),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}
