//! The admin audit trail: one row per admin change or refused attempt. Never a secret.

use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::audit_events;
use super::{Start, StoreError};

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
    let (after, offset) = match start {
        Start::Offset(offset) => (i64::MIN, offset),
        Start::After(id) => (id, 0),
    };
    Ok(audit_events::table
        .filter(audit_events::id.gt(after))
        .order(audit_events::id.asc())
        .limit(limit)
        .offset(offset)
        .select(AuditEvent::as_select())
        .load(conn)?)
}

pub fn count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(audit_events::table.count().get_result(conn)?)
}

/// The database's estimate of [`count`] (see [`super::estimated_rows`]; `None` on SQLite).
pub fn estimate(conn: &mut DbConnection) -> Result<Option<i64>, StoreError> {
    super::estimated_rows(conn, "audit_events")
}
