//! Client rows: the queries token issuance and client management need; the listing and
//! its search are [`listing`].

pub mod listing;

use diesel::prelude::*;

use super::StoreError;
use super::connection::DbConnection;
use super::schema::{client_scopes, clients, scopes};
use crate::ids::ClientId;
use crate::limits::ClientLimits;
use crate::scopes::Scope;
use crate::secret::SecretHash;
use crate::time::Timestamp;
pub use listing::{SearchText, count, count_matching, estimate, list, search};

/// A client as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = clients)]
pub struct Client {
    pub id: String,
    pub secret_hash: String,
    pub previous_secret_hash: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub tokens_valid_after: i64,
    pub deleted_at: Option<i64>,
    pub tokens_per_minute: Option<i64>,
    pub revocations_per_minute: Option<i64>,
    /// Further audiences the client may ask for: a JSON array of absolute URIs.
    pub audiences: Option<String>,
    /// Public keys for `private_key_jwt`, inline: a JWKS (`{"keys": [...]}`).
    pub jwks: Option<String>,
    /// Public keys for `private_key_jwt`, fetched from this URL.
    pub jwks_uri: Option<String>,
}

impl Client {
    /// The client's own limits (`None`: the service's defaults).
    pub fn limits(&self) -> ClientLimits {
        ClientLimits::from_columns(self.tokens_per_minute, self.revocations_per_minute)
    }

    /// The further audiences the client may ask tokens for (RFC 8707 `resource`).
    pub fn audience_list(&self) -> Result<Vec<String>, StoreError> {
        match &self.audiences {
            None => Ok(Vec::new()),
            Some(json) => serde_json::from_str(json).map_err(|_| StoreError::Corrupt("audiences")),
        }
    }

    /// False for a client without a secret (secret-less: keys or identities only).
    pub fn has_secret(&self) -> bool {
        self.secret_hash != NO_SECRET_HASH
    }

    /// The hashes a presented secret may match at `now`, each with the instant it stops
    /// working: the current one (never), and the one a rotation replaced, while its grace
    /// period lasts.
    pub fn secret_hashes(&self, now: Timestamp) -> Vec<(SecretHash, Option<Timestamp>)> {
        let mut hashes = vec![(SecretHash::from_stored(self.secret_hash.clone()), None)];
        if let (Some(hash), Some(until)) =
            (&self.previous_secret_hash, self.previous_secret_expires_at)
            && now.as_micros() < until
        {
            hashes.push((
                SecretHash::from_stored(hash.clone()),
                Some(Timestamp::from_micros(until)),
            ));
        }
        hashes
    }
}

/// A client to insert.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = clients)]
pub struct NewClient<'a> {
    pub id: &'a str,
    pub secret_hash: &'a str,
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub created_at: i64,
    pub updated_at: i64,
    pub tokens_valid_after: i64,
}

/// The row of live (not deleted) client `id`, for queries and updates.
#[diesel::dsl::auto_type]
fn live<'a>(id: &'a str) -> _ {
    clients::table
        .find(id)
        .filter(clients::deleted_at.is_null())
}

/// A live (not deleted) client by id.
pub fn find(conn: &mut DbConnection, id: &ClientId) -> Result<Option<Client>, StoreError> {
    Ok(live(id.as_str())
        .select(Client::as_select())
        .first(conn)
        .optional()?)
}

/// A client's scopes, in registry order.
pub fn scopes_of(conn: &mut DbConnection, id: &ClientId) -> Result<Vec<Scope>, StoreError> {
    let names: Vec<String> = client_scopes::table
        .inner_join(scopes::table)
        .filter(client_scopes::client_id.eq(id.as_str()))
        .order(scopes::position.asc())
        .select(client_scopes::scope)
        .load(conn)?;
    names
        .iter()
        .map(|name| Scope::parse(name).map_err(|_| StoreError::Corrupt("scope")))
        .collect()
}

/// A live client's scopes; `None` if there is no such live client.
pub fn live_scopes(
    conn: &mut DbConnection,
    id: &ClientId,
) -> Result<Option<Vec<Scope>>, StoreError> {
    Ok(find_with_scopes(conn, id)?.map(|(_, scopes)| scopes))
}

/// A live client with its scopes, in registry order (see [`find_many_with_scopes`]).
pub fn find_with_scopes(
    conn: &mut DbConnection,
    id: &ClientId,
) -> Result<Option<(Client, Vec<Scope>)>, StoreError> {
    Ok(find_many_with_scopes(conn, &[id.as_str()])?.pop())
}

/// The live clients among `ids`, each with its scopes in registry order, in no particular
/// order; ids with no live client are left out. One statement (a client row per scope, or
/// one row without a scope), so a client and its scopes are from the same moment, and the
/// cold lookups of concurrent token requests can share one round trip.
pub fn find_many_with_scopes(
    conn: &mut DbConnection,
    ids: &[&str],
) -> Result<Vec<(Client, Vec<Scope>)>, StoreError> {
    let rows: Vec<(Client, Option<String>)> = clients::table
        .left_join(client_scopes::table.inner_join(scopes::table))
        .filter(clients::id.eq_any(ids))
        .filter(clients::deleted_at.is_null())
        .order((clients::id.asc(), scopes::position.nullable().asc()))
        .select((Client::as_select(), client_scopes::scope.nullable()))
        .load(conn)?;
    let mut found: Vec<(Client, Vec<Scope>)> = Vec::new();
    for (client, scope) in rows {
        if found.last().is_none_or(|(last, _)| last.id != client.id) {
            found.push((client, Vec::new()));
        }
        if let (Some(name), Some((_, scopes))) = (scope, found.last_mut()) {
            scopes.push(Scope::parse(&name).map_err(|_| StoreError::Corrupt("scope"))?);
        }
    }
    Ok(found)
}

/// Inserts a client and its scopes in one transaction.
pub fn insert(
    conn: &mut DbConnection,
    client: &NewClient<'_>,
    scopes: &[Scope],
) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        diesel::insert_into(clients::table)
            .values(client)
            .execute(conn)?;
        for scope in scopes {
            diesel::insert_into(client_scopes::table)
                .values((
                    client_scopes::client_id.eq(client.id),
                    client_scopes::scope.eq(scope.as_str()),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// The scopes of several clients at once, in registry order, keyed by client id.
pub fn scopes_of_many(
    conn: &mut DbConnection,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, Vec<Scope>>, StoreError> {
    let rows: Vec<(String, String)> = client_scopes::table
        .inner_join(scopes::table)
        .filter(client_scopes::client_id.eq_any(ids))
        .order(scopes::position.asc())
        .select((client_scopes::client_id, client_scopes::scope))
        .load(conn)?;
    let mut map: std::collections::HashMap<String, Vec<Scope>> = std::collections::HashMap::new();
    for (id, name) in rows {
        let scope = Scope::parse(&name).map_err(|_| StoreError::Corrupt("scope"))?;
        map.entry(id).or_default().push(scope);
    }
    Ok(map)
}

/// Raises a client's cut-off to `at` (never lowers it): its tokens issued before `at` are revoked.
/// Deleted clients are included, so a late raise after a deletion still takes effect.
pub fn raise_cutoff(
    conn: &mut DbConnection,
    id: &ClientId,
    at: Timestamp,
) -> Result<(), StoreError> {
    diesel::update(
        clients::table
            .find(id.as_str())
            .filter(clients::tokens_valid_after.lt(at.as_micros())),
    )
    .set(clients::tokens_valid_after.eq(at.as_micros()))
    .execute(conn)?;
    Ok(())
}

/// Sets a live client's own limits (`None` for the default). False if there is no live
/// client with that id.
pub fn set_limits(
    conn: &mut DbConnection,
    id: &ClientId,
    limits: ClientLimits,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let updated = diesel::update(live(id.as_str()))
        .set((
            clients::tokens_per_minute.eq(limits.tokens_per_minute.map(i64::from)),
            clients::revocations_per_minute.eq(limits.revocations_per_minute.map(i64::from)),
            clients::updated_at.eq(now.as_micros()),
        ))
        .execute(conn)?;
    Ok(updated > 0)
}

/// Marks a client deleted, drops its scopes and secrets, and revokes its tokens.
/// Returns false if there was no live client with that id.
pub fn soft_delete(
    conn: &mut DbConnection,
    id: &ClientId,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let updated = diesel::update(live(id.as_str()))
        .set((
            clients::deleted_at.eq(Some(now.as_micros())),
            clients::updated_at.eq(now.as_micros()),
            clients::tokens_valid_after.eq(now.as_micros()),
            clients::secret_hash.eq(DELETED_SECRET_HASH),
            clients::previous_secret_hash.eq(None::<String>),
            clients::previous_secret_expires_at.eq(None::<i64>),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Ok(false);
    }
    diesel::delete(client_scopes::table.filter(client_scopes::client_id.eq(id.as_str())))
        .execute(conn)?;
    Ok(true)
}

/// The secret hash of a secret-less client (created with keys or identities only): no
/// secret verifies against it, until a rotation gives the client one.
pub const NO_SECRET_HASH: &str = "none";

/// What a deleted client's secret hash is overwritten with: no secret verifies against it.
const DELETED_SECRET_HASH: &str = "!deleted";

/// Replaces a client's scopes. Returns the scopes removed (their tokens must be revoked).
pub fn replace_scopes(
    conn: &mut DbConnection,
    id: &ClientId,
    new_scopes: &[Scope],
    now: Timestamp,
) -> Result<Vec<Scope>, StoreError> {
    let current = scopes_of(conn, id)?;
    let removed: Vec<Scope> = current
        .iter()
        .filter(|s| !new_scopes.contains(s))
        .cloned()
        .collect();
    diesel::delete(client_scopes::table.filter(client_scopes::client_id.eq(id.as_str())))
        .execute(conn)?;
    for scope in new_scopes {
        diesel::insert_into(client_scopes::table)
            .values((
                client_scopes::client_id.eq(id.as_str()),
                client_scopes::scope.eq(scope.as_str()),
            ))
            .execute(conn)?;
    }
    diesel::update(clients::table.find(id.as_str()))
        .set(clients::updated_at.eq(now.as_micros()))
        .execute(conn)?;
    if !removed.is_empty() {
        raise_cutoff(conn, id, now)?;
    }
    Ok(removed)
}

/// Installs a new secret hash. `previous` keeps the old hash valid until the given time.
pub fn rotate_secret(
    conn: &mut DbConnection,
    id: &ClientId,
    new_hash: &SecretHash,
    previous_until: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let client = find(conn, id)?.ok_or(StoreError::Query(diesel::result::Error::NotFound))?;
    let (previous_hash, previous_expires) = match previous_until {
        Some(until) => (Some(client.secret_hash), Some(until.as_micros())),
        None => (None, None),
    };
    diesel::update(clients::table.find(id.as_str()))
        .set((
            clients::secret_hash.eq(new_hash.as_str()),
            clients::previous_secret_hash.eq(previous_hash),
            clients::previous_secret_expires_at.eq(previous_expires),
            clients::updated_at.eq(now.as_micros()),
            clients::tokens_valid_after.eq(now.as_micros()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces `old` by `new` wherever this live client still stores it (current or previous
/// secret): the upgrade of an imported hash whose secret verified. A rotation or deletion
/// that happened meanwhile is left alone. Returns whether a hash was replaced.
pub fn upgrade_secret_hash(
    conn: &mut DbConnection,
    id: &ClientId,
    old: &SecretHash,
    new: &SecretHash,
) -> Result<bool, StoreError> {
    let current = diesel::update(live(id.as_str()).filter(clients::secret_hash.eq(old.as_str())))
        .set(clients::secret_hash.eq(new.as_str()))
        .execute(conn)?;
    let previous =
        diesel::update(live(id.as_str()).filter(clients::previous_secret_hash.eq(old.as_str())))
            .set(clients::previous_secret_hash.eq(new.as_str()))
            .execute(conn)?;
    Ok(current + previous > 0)
}

/// The cut-off of a client, live or deleted: `(tokens_valid_after, deleted)`.
pub fn cutoff(conn: &mut DbConnection, id: &str) -> Result<Option<(i64, bool)>, StoreError> {
    let row: Option<(i64, Option<i64>)> = clients::table
        .find(id)
        .select((clients::tokens_valid_after, clients::deleted_at))
        .first(conn)
        .optional()?;
    Ok(row.map(|(after, deleted)| (after, deleted.is_some())))
}
