//! The admin audit trail: one row per admin change or refused attempt. Never a secret.
//!
//! Read oldest first, whole ([`list`]) or narrowed by a [`Filter`] ([`list_matching`]):
//! each of its fields is served by an index that also holds the order (`(column, id)`,
//! migration `audit_filter_indexes`; the time range by `audit_events_occurred_at`), so a
//! filtered page is an index seek, not a scan of the trail.

use diesel::prelude::*;

use super::connection::{Db, DbConnection};
use super::schema::audit_events;
use super::{Start, StoreError};
use crate::ids::ClientId;
use crate::time::Timestamp;

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent {
    pub occurred_at: i64,
    pub actor_client_id: String,
    pub action: String,
    pub target: Option<String>,
    pub source_address: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: i64,
    pub occurred_at: i64,
    pub actor_client_id: String,
    pub action: String,
    pub target: Option<String>,
    pub source_address: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
}

pub fn insert(conn: &mut DbConnection, event: &NewAuditEvent) -> Result<(), StoreError> {
    diesel::insert_into(audit_events::table)
        .values(event)
        .execute(conn)?;
    Ok(())
}

/// At most `limit` events from `start`, oldest first; the key of `Start::After` is an
/// event id (the primary key serves the seek). One statement for every page (an offset is
/// a start after the first possible id), prepared once per connection.
pub fn list(
    conn: &mut DbConnection,
    start: Start<i64>,
    limit: i64,
) -> Result<Vec<AuditEvent>, StoreError> {
    let (after, offset) = keyset_bounds(start);
    Ok(audit_events::table
        .filter(audit_events::id.gt(after))
        .order(audit_events::id.asc())
        .limit(limit)
        .offset(offset)
        .select(AuditEvent::as_select())
        .load(conn)?)
}

/// The id a page starts after, and the rows it skips past it (a page number starts after
/// the lowest id).
fn keyset_bounds(start: Start<i64>) -> (i64, i64) {
    match start {
        Start::Offset(offset) => (i64::MIN, offset),
        Start::After(id) => (id, 0),
    }
}

/// What the audit trail is narrowed to: every field that is set must match (exactly; the
/// time range includes both ends).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// The client that acted.
    pub actor: Option<ClientId>,
    /// What was acted on (a client id, a scope, an issuer id), as recorded.
    pub target: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    /// Events at or after this instant.
    pub since: Option<Timestamp>,
    /// Events at or before this instant.
    pub until: Option<Timestamp>,
}

impl Filter {
    /// True when it narrows nothing: the whole trail.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The events matching, as a query to narrow further.
    fn matching(&self) -> audit_events::BoxedQuery<'_, Db> {
        let mut query = audit_events::table.into_boxed();
        if let Some(actor) = &self.actor {
            query = query.filter(audit_events::actor_client_id.eq(actor.as_str()));
        }
        if let Some(target) = &self.target {
            query = query.filter(audit_events::target.eq(target));
        }
        if let Some(action) = &self.action {
            query = query.filter(audit_events::action.eq(action));
        }
        if let Some(outcome) = &self.outcome {
            query = query.filter(audit_events::outcome.eq(outcome));
        }
        if let Some(since) = self.since {
            query = query.filter(audit_events::occurred_at.ge(since.as_micros()));
        }
        if let Some(until) = self.until {
            query = query.filter(audit_events::occurred_at.le(until.as_micros()));
        }
        query
    }
}

/// At most `limit` events matching `filter` from `start`, oldest first, with the keys of
/// [`list`]. Built for each filter (not prepared once), so the planner sees the values and
/// picks the index that narrows most.
pub fn list_matching(
    conn: &mut DbConnection,
    filter: &Filter,
    start: Start<i64>,
    limit: i64,
) -> Result<Vec<AuditEvent>, StoreError> {
    let (after, offset) = keyset_bounds(start);
    Ok(filter
        .matching()
        .filter(audit_events::id.gt(after))
        .order(audit_events::id.asc())
        .limit(limit)
        .offset(offset)
        .select(AuditEvent::as_select())
        .load(conn)?)
}

/// How many events match `filter`, counted no further than `limit`.
pub fn count_matching(
    conn: &mut DbConnection,
    filter: &Filter,
    limit: i64,
) -> Result<i64, StoreError> {
    let ids: Vec<i64> = filter
        .matching()
        .select(audit_events::id)
        .limit(limit)
        .load(conn)?;
    Ok(i64::try_from(ids.len()).unwrap_or(i64::MAX))
}

pub fn count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(audit_events::table.count().get_result(conn)?)
}

/// The database's estimate of [`count`] (see [`super::estimated_rows`]; `None` on SQLite).
pub fn estimate(conn: &mut DbConnection) -> Result<Option<i64>, StoreError> {
    super::estimated_rows(conn, "audit_events")
}
