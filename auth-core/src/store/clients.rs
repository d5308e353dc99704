//! Client rows: the queries token issuance and client management need.

use diesel::prelude::*;

use super::StoreError;
use super::connection::DbConnection;
use super::schema::{client_scopes, clients, scopes};
use crate::ids::ClientId;
use crate::scopes::Scope;
use crate::secret::SecretHash;
use crate::time::Timestamp;

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
}

impl Client {
    /// The hashes a presented secret may match at `now`: the current one, and the one
    /// replaced by a rotation while its grace period lasts.
    pub fn secret_hashes(&self, now: Timestamp) -> Vec<SecretHash> {
        let mut hashes = vec![SecretHash::from_stored(self.secret_hash.clone())];
        if let (Some(hash), Some(until)) =
            (&self.previous_secret_hash, self.previous_secret_expires_at)
        {
            if now.as_micros() < until {
                hashes.push(SecretHash::from_stored(hash.clone()));
            }
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

/// A live (not deleted) client by id.
pub fn find(conn: &mut DbConnection, id: &ClientId) -> Result<Option<Client>, StoreError> {
    Ok(clients::table
        .find(id.as_str())
        .filter(clients::deleted_at.is_null())
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

/// A live client with its scopes, in one transaction so both are from the same moment.
pub fn find_with_scopes(
    conn: &mut DbConnection,
    id: &ClientId,
) -> Result<Option<(Client, Vec<Scope>)>, StoreError> {
    conn.transaction(|conn| {
        let Some(client) = find(conn, id)? else {
            return Ok(None);
        };
        let scopes = scopes_of(conn, id)?;
        Ok(Some((client, scopes)))
    })
}

/// Inserts a client and its scopes in one transaction.
pub fn insert(
    conn: &mut DbConnection,
    client: &NewClient<'_>,
    scopes: &[Scope],
) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        diesel::insert_into(clients::table).values(client).execute(conn)?;
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
