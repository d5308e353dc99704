//! Writing imported clients into this service's database. Each client, the custom scopes
//! it brings and their audit events are one transaction; a client id already here, live or
//! deleted, is left alone, so a second run changes nothing and never overwrites a hash
//! token-service has since upgraded.

use auth_core::scopes::{Scope, join_scopes};
use auth_core::store::audit::{self, NewAuditEvent};
use auth_core::store::connection::ConnectionManager;
use auth_core::store::{self, DatabaseUrl, DbConnection, StoreError, clients, migrate, registry};
use auth_core::time::Timestamp;

use super::convert::Candidate;
use crate::audit::{Action, Outcome as AuditOutcome};

/// The actor of the import's audit events.
pub const ACTOR: &str = "import-fidesops";

/// What happened (or, in a dry run, would happen) to one client.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Imported, with the scopes that had to be added to the registry for it.
    Imported {
        added_scopes: Vec<Scope>,
    },
    AlreadyPresent,
}

/// Connects to this service's database and checks that its schema is current.
pub fn open(url: &DatabaseUrl) -> Result<DbConnection, String> {
    const MIGRATE_FIRST: &str = "run `admin-service migrate` first";
    if let DatabaseUrl::Sqlite(path) = url
        && !path.exists()
    {
        return Err(format!("no database there: {MIGRATE_FIRST}"));
    }
    let mut conn = ConnectionManager::new(url.clone())
        .establish()
        .map_err(|e| format!("cannot connect: {e}"))?;
    let pending = migrate::pending_migrations(&mut conn).map_err(|e| describe(&e))?;
    if pending.is_empty() {
        Ok(conn)
    } else {
        Err(format!(
            "the database schema is not current ({} pending migrations): {MIGRATE_FIRST}",
            pending.len()
        ))
    }
}

/// What [`import`] would do, reading only.
pub fn plan(conn: &mut DbConnection, candidate: &Candidate) -> Result<Outcome, StoreError> {
    if clients::cutoff(conn, candidate.id.as_str())?.is_some() {
        return Ok(Outcome::AlreadyPresent);
    }
    Ok(Outcome::Imported {
        added_scopes: registry::unknown(conn, &candidate.scopes)?,
    })
}

/// Imports one client unless its id is already taken.
pub fn import(
    conn: &mut DbConnection,
    candidate: &Candidate,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let id = candidate.id.as_str();
    let result = store::transaction(conn, |conn| {
        if clients::cutoff(conn, id)?.is_some() {
            return Ok(Outcome::AlreadyPresent);
        }
        let mut added_scopes = Vec::new();
        for scope in registry::unknown(conn, &candidate.scopes)? {
            if registry::add(conn, &scope)? {
                let detail = format!("added for imported client {id}");
                audit::insert(conn, &event(Action::ScopeAdd, scope.as_str(), detail, now))?;
                added_scopes.push(scope);
            }
        }
        let client = clients::NewClient {
            id,
            secret_hash: candidate.hash.as_str(),
            name: None,
            description: None,
            created_at: now.as_micros(),
            updated_at: now.as_micros(),
            tokens_valid_after: now.as_micros(),
        };
        clients::insert(conn, &client, &candidate.scopes)?;
        // The detail `client.create` records, so both read alike in the audit log.
        let detail = format!("scopes: {}", join_scopes(&candidate.scopes));
        audit::insert(conn, &event(Action::ClientImport, id, detail, now))?;
        Ok(Outcome::Imported { added_scopes })
    });
    match result {
        // Created meanwhile (another import, or an operator): left alone all the same.
        Err(_) if clients::cutoff(conn, id).is_ok_and(|row| row.is_some()) => {
            Ok(Outcome::AlreadyPresent)
        }
        other => other,
    }
}

fn event(action: Action, target: &str, detail: String, now: Timestamp) -> NewAuditEvent {
    NewAuditEvent {
        occurred_at: now.as_micros(),
        actor_client_id: ACTOR.to_owned(),
        action: action.as_str().to_owned(),
        target: Some(target.to_owned()),
        source_address: None,
        outcome: AuditOutcome::Success.as_str().to_owned(),
        detail: Some(detail),
    }
}

/// A store error with its causes, for the operator running the command.
pub fn describe(error: &StoreError) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
