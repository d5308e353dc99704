//! Workload identity rows: trusted issuers, the identities bound to clients, client keys,
//! and the record of `private_key_jwt` assertions already used.
//!
//! This module holds the trusted issuers themselves; the other rows live in submodules
//! (identities and their bindings, keys and audiences, used assertions), all re-exported
//! here so callers name them `store::federation::*`.

mod assertions;
mod identities;
mod keys;

use diesel::prelude::*;

use super::StoreError;
use super::connection::DbConnection;
use super::schema::{client_identities, trusted_issuers};
use crate::ids::ClientId;

pub use assertions::use_assertion;
pub use identities::{
    BindError, Identity, bound_client, clients_bound_through, identities_of, identities_of_many,
    is_pattern, most_specific, remove_identities, replace_identities,
};
pub use keys::{Keys, audiences_column, audiences_from_column, set_audiences, set_keys};

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
