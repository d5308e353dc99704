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

/// The scopes in `candidates` that the registry does not have.
pub fn unknown(conn: &mut DbConnection, candidates: &[Scope]) -> Result<Vec<Scope>, StoreError> {
    let names: Vec<&str> = candidates.iter().map(Scope::as_str).collect();
    let known: Vec<String> = scopes::table
        .filter(scopes::name.eq_any(&names))
        .select(scopes::name)
        .load(conn)?;
    Ok(candidates
        .iter()
        .filter(|s| !known.iter().any(|k| k == s.as_str()))
        .cloned()
        .collect())
}

/// Adds a custom scope at the end of the registry. Returns false if it already existed.
pub fn add(conn: &mut DbConnection, scope: &Scope) -> Result<bool, StoreError> {
    conn.transaction(|conn| {
        let exists: i64 = scopes::table
            .filter(scopes::name.eq(scope.as_str()))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            return Ok(false);
        }
        let last: Option<i64> = scopes::table
            .select(diesel::dsl::max(scopes::position))
            .first(conn)?;
        diesel::insert_into(scopes::table)
            .values((
                scopes::name.eq(scope.as_str()),
                scopes::position.eq(last.unwrap_or(-1) + 1),
                scopes::built_in.eq(false),
            ))
            .execute(conn)?;
        Ok(true)
    })
}

/// Why a scope was not removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoveOutcome {
    Removed,
    NotFound,
    BuiltIn,
    /// Still granted to these clients (at most a few named).
    InUse(Vec<String>),
}

/// Removes a custom scope that no client holds.
pub fn remove(conn: &mut DbConnection, scope: &Scope) -> Result<RemoveOutcome, StoreError> {
    use super::schema::client_scopes;
    conn.transaction(|conn| {
        let built_in: Option<bool> = scopes::table
            .find(scope.as_str())
            .select(scopes::built_in)
            .first(conn)
            .optional()?;
        match built_in {
            None => return Ok(RemoveOutcome::NotFound),
            Some(true) => return Ok(RemoveOutcome::BuiltIn),
            Some(false) => {}
        }
        let holders: Vec<String> = client_scopes::table
            .filter(client_scopes::scope.eq(scope.as_str()))
            .select(client_scopes::client_id)
            .order(client_scopes::client_id.asc())
            .limit(5)
            .load(conn)?;
        if !holders.is_empty() {
            return Ok(RemoveOutcome::InUse(holders));
        }
        diesel::delete(scopes::table.find(scope.as_str())).execute(conn)?;
        Ok(RemoveOutcome::Removed)
    })
}
