//! The identities bound to clients: binding and replacing them, and resolving which live
//! client a token's subject authenticates (the exact binding, else the longest pattern).

use std::collections::HashMap;

use diesel::prelude::*;

use super::issuer_named;
use crate::ids::ClientId;
use crate::store::StoreError;
use crate::store::connection::DbConnection;
use crate::store::schema::{client_identities, clients, trusted_issuers};

/// One binding: tokens of `issuer` (its `iss` value) whose subject is `subject` (exact, or
/// a pattern ending in `*`) authenticate `client_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
}

/// True for a subject pattern (`system:serviceaccount:payments:*`).
pub fn is_pattern(subject: &str) -> bool {
    subject.ends_with('*')
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
