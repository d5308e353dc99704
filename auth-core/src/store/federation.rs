//! Workload identity rows: trusted issuers, the identities bound to clients, client keys,
//! and the record of `private_key_jwt` assertions already used.

use std::collections::HashMap;

use diesel::prelude::*;
use serde_json::{Map, Value, json};

use super::StoreError;
use super::connection::DbConnection;
use super::schema::{client_identities, clients, trusted_issuers, used_assertions};
use crate::ids::ClientId;
use crate::time::Timestamp;

/// A trusted issuer as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = trusted_issuers)]
pub struct TrustedIssuer {
    pub id: String,
    /// The `iss` value its tokens carry.
    pub issuer: String,
    pub jwks_uri: Option<String>,
    /// A JWKS given inline (`{"keys": [...]}`).
    pub jwks: Option<String>,
    /// The audiences its tokens must carry one of: a JSON array (`None`: this service's
    /// issuer URL).
    pub audiences: Option<String>,
    pub created_at: i64,
}

/// One binding: tokens of `issuer` (its `iss` value) whose subject is `subject` (exact, or
/// a pattern ending in `*`) authenticate `client_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
}

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

/// True for a subject pattern (`system:serviceaccount:payments:*`).
pub fn is_pattern(subject: &str) -> bool {
    subject.ends_with('*')
}

/// Inserts `issuer`; `false` when an issuer with the same `iss` is registered already.
pub fn insert_issuer(conn: &mut DbConnection, issuer: &TrustedIssuer) -> Result<bool, StoreError> {
    conn.transaction(|conn| {
        let exists: i64 = trusted_issuers::table
            .filter(trusted_issuers::issuer.eq(&issuer.issuer))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            return Ok(false);
        }
        diesel::insert_into(trusted_issuers::table)
            .values(issuer)
            .execute(conn)?;
        Ok(true)
    })
}

/// Every trusted issuer, oldest first.
pub fn issuers(conn: &mut DbConnection) -> Result<Vec<TrustedIssuer>, StoreError> {
    Ok(trusted_issuers::table
        .order((trusted_issuers::created_at.asc(), trusted_issuers::id.asc()))
        .select(TrustedIssuer::as_select())
        .load(conn)?)
}

/// One trusted issuer by id.
pub fn issuer(conn: &mut DbConnection, id: &str) -> Result<Option<TrustedIssuer>, StoreError> {
    Ok(trusted_issuers::table
        .find(id)
        .select(TrustedIssuer::as_select())
        .first(conn)
        .optional()?)
}

/// One trusted issuer by its `iss` value.
pub fn issuer_named(
    conn: &mut DbConnection,
    iss: &str,
) -> Result<Option<TrustedIssuer>, StoreError> {
    Ok(trusted_issuers::table
        .filter(trusted_issuers::issuer.eq(iss))
        .select(TrustedIssuer::as_select())
        .first(conn)
        .optional()?)
}

/// Deletes issuer `id` and every binding through it. Returns the clients that were bound
/// through it (their older tokens are the caller's to revoke), or `None` when there is no
/// such issuer.
pub fn delete_issuer(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<Vec<ClientId>>, StoreError> {
    conn.transaction(|conn| {
        let bound: Vec<String> = client_identities::table
            .filter(client_identities::issuer_id.eq(id))
            .select(client_identities::client_id)
            .distinct()
            .load(conn)?;
        diesel::delete(client_identities::table.filter(client_identities::issuer_id.eq(id)))
            .execute(conn)?;
        let deleted = diesel::delete(trusted_issuers::table.find(id)).execute(conn)?;
        if deleted == 0 {
            return Ok(None);
        }
        bound
            .iter()
            .map(|id| ClientId::parse(id).map_err(|_| StoreError::Corrupt("client id")))
            .collect::<Result<_, _>>()
            .map(Some)
    })
}

/// The identities bound to a client, by issuer `iss` value then subject.
pub fn identities_of(
    conn: &mut DbConnection,
    client_id: &ClientId,
) -> Result<Vec<Identity>, StoreError> {
    let rows: Vec<(String, String)> = client_identities::table
        .inner_join(trusted_issuers::table)
        .filter(client_identities::client_id.eq(client_id.as_str()))
        .order((
            trusted_issuers::issuer.asc(),
            client_identities::subject.asc(),
        ))
        .select((trusted_issuers::issuer, client_identities::subject))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(issuer, subject)| Identity { issuer, subject })
        .collect())
}

/// The identities bound to each of several clients, keyed by client id (clients without
/// any are absent), each list by issuer `iss` value then subject.
pub fn identities_of_many(
    conn: &mut DbConnection,
    client_ids: &[&str],
) -> Result<HashMap<String, Vec<Identity>>, StoreError> {
    let rows: Vec<(String, String, String)> = client_identities::table
        .inner_join(trusted_issuers::table)
        .filter(client_identities::client_id.eq_any(client_ids))
        .order((
            trusted_issuers::issuer.asc(),
            client_identities::subject.asc(),
        ))
        .select((
            client_identities::client_id,
            trusted_issuers::issuer,
            client_identities::subject,
        ))
        .load(conn)?;
    let mut map: HashMap<String, Vec<Identity>> = HashMap::new();
    for (client_id, issuer, subject) in rows {
        map.entry(client_id)
            .or_default()
            .push(Identity { issuer, subject });
    }
    Ok(map)
}

/// Why identities were not bound.
#[derive(Debug, PartialEq, Eq)]
pub enum BindError {
    /// These `iss` values are not registered issuers.
    UnknownIssuers(Vec<String>),
    /// These identities are bound to another client already.
    Taken(Vec<Identity>),
}

/// Replaces the identities of `client_id` by `wanted`, or changes nothing and says why.
/// Returns the identities the client had before.
pub fn replace_identities(
    conn: &mut DbConnection,
    client_id: &ClientId,
    wanted: &[Identity],
) -> Result<Result<Vec<Identity>, BindError>, StoreError> {
    let mut ids = Vec::with_capacity(wanted.len());
    let mut unknown = Vec::new();
    for identity in wanted {
        match issuer_named(conn, &identity.issuer)? {
            Some(issuer) => ids.push(issuer.id),
            None if !unknown.contains(&identity.issuer) => unknown.push(identity.issuer.clone()),
            None => {}
        }
    }
    if !unknown.is_empty() {
        return Ok(Err(BindError::UnknownIssuers(unknown)));
    }
    let mut taken = Vec::new();
    for (identity, issuer_id) in wanted.iter().zip(&ids) {
        let holder: Option<String> = client_identities::table
            .find((issuer_id, &identity.subject))
            .select(client_identities::client_id)
            .first(conn)
            .optional()?;
        if holder.is_some_and(|holder| holder != client_id.as_str()) {
            taken.push(identity.clone());
        }
    }
    if !taken.is_empty() {
        return Ok(Err(BindError::Taken(taken)));
    }
    let before = identities_of(conn, client_id)?;
    diesel::delete(
        client_identities::table.filter(client_identities::client_id.eq(client_id.as_str())),
    )
    .execute(conn)?;
    for (identity, issuer_id) in wanted.iter().zip(&ids) {
        diesel::insert_into(client_identities::table)
            .values((
                client_identities::issuer_id.eq(issuer_id),
                client_identities::subject.eq(&identity.subject),
                client_identities::client_id.eq(client_id.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(Ok(before))
}

/// The live clients bound through any of the issuers whose `iss` values are `issuers`:
/// those whose resolved bindings may change when a binding through them does (a more
/// specific one now wins, or a pattern went away).
pub fn clients_bound_through(
    conn: &mut DbConnection,
    issuers: &[&str],
) -> Result<Vec<ClientId>, StoreError> {
    let ids: Vec<String> = client_identities::table
        .inner_join(trusted_issuers::table)
        .inner_join(clients::table)
        .filter(trusted_issuers::issuer.eq_any(issuers))
        .filter(clients::deleted_at.is_null())
        .select(client_identities::client_id)
        .distinct()
        .load(conn)?;
    ids.iter()
        .map(|id| ClientId::parse(id).map_err(|_| StoreError::Corrupt("client id")))
        .collect()
}

/// Removes every identity of `client_id` (a deleted client frees its subjects).
pub fn remove_identities(conn: &mut DbConnection, client_id: &ClientId) -> Result<(), StoreError> {
    diesel::delete(
        client_identities::table.filter(client_identities::client_id.eq(client_id.as_str())),
    )
    .execute(conn)?;
    Ok(())
}

/// The live client a token of issuer `issuer_id` with subject `subject` authenticates: the
/// exact binding, else the longest pattern whose prefix the subject starts with.
pub fn bound_client(
    conn: &mut DbConnection,
    issuer_id: &str,
    subject: &str,
) -> Result<Option<ClientId>, StoreError> {
    let candidates: Vec<(String, String)> = client_identities::table
        .inner_join(clients::table)
        .filter(clients::deleted_at.is_null())
        .filter(client_identities::issuer_id.eq(issuer_id))
        .filter(
            client_identities::subject
                .eq(subject)
                .or(client_identities::subject.like("%*")),
        )
        .select((client_identities::subject, client_identities::client_id))
        .load(conn)?;
    most_specific(subject, &candidates)
        .map(|client| ClientId::parse(client).map_err(|_| StoreError::Corrupt("client id")))
        .transpose()
}

/// Of `(binding, client)` pairs, the client of the binding that matches `subject` most
/// specifically: the exact one, else the longest matching pattern.
pub fn most_specific<'a>(subject: &str, bindings: &'a [(String, String)]) -> Option<&'a str> {
    bindings
        .iter()
        .filter_map(|(binding, client)| {
            let rank = match binding.strip_suffix('*') {
                _ if binding == subject => usize::MAX,
                Some(prefix) if subject.starts_with(prefix) => prefix.len(),
                _ => return None,
            };
            Some((rank, client.as_str()))
        })
        .max_by_key(|(rank, _)| *rank)
        .map(|(_, client)| client)
}

/// Sets a live client's keys (inline JWKS or `jwks_uri`, at most one; both `None`: no
/// keys) and, when given, its audiences (a JSON array). `false`: no such live client.
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

/// Records the first use of assertion `id` (client id and `jti`), kept until
/// `expires_at`; `false` when it was used before (a replay). Expired records are removed
/// on the way.
pub fn use_assertion(
    conn: &mut DbConnection,
    id: &str,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<bool, StoreError> {
    diesel::delete(used_assertions::table.filter(used_assertions::expires_at.le(now.as_micros())))
        .execute(conn)?;
    let inserted = diesel::insert_into(used_assertions::table)
        .values((
            used_assertions::id.eq(id),
            used_assertions::expires_at.eq(expires_at.as_micros()),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::most_specific;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(b, c)| ((*b).to_owned(), (*c).to_owned()))
            .collect()
    }

    #[test]
    fn the_exact_binding_wins_then_the_longest_pattern() {
        let bindings = pairs(&[
            ("system:serviceaccount:*", "any"),
            ("system:serviceaccount:payments:*", "payments"),
            ("system:serviceaccount:payments:api", "api"),
        ]);
        let pick = |s| most_specific(s, &bindings);
        assert_eq!(pick("system:serviceaccount:payments:api"), Some("api"));
        assert_eq!(
            pick("system:serviceaccount:payments:worker"),
            Some("payments")
        );
        assert_eq!(pick("system:serviceaccount:billing:api"), Some("any"));
        assert_eq!(pick("spiffe://example.org/api"), None);
        // A pattern matches by prefix only, not as a glob in the middle.
        assert_eq!(
            most_specific("system:x", &pairs(&[("system:y*", "y")])),
            None
        );
    }
}
