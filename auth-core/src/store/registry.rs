//! The scope registry in the database: the built-in seed plus operators' own scopes.

use diesel::prelude::*;

use super::StoreError;
use super::connection::DbConnection;
use super::schema::scopes;
use crate::scopes::Scope;

/// Every registered scope, in registry order.
pub fn all(conn: &mut DbConnection) -> Result<Vec<Scope>, StoreError> {
    let names: Vec<String> = scopes::table
        .order(scopes::position.asc())
        .select(scopes::name)
        .load(conn)?;
    names
        .iter()
        .map(|name| Scope::parse(name).map_err(|_| StoreError::Corrupt("scope")))
        .collect()
}
