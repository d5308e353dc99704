//! The admin audit trail: one row per admin change or refused attempt. Never a secret.

use diesel::prelude::*;

use super::StoreError;
use super::connection::DbConnection;
use super::schema::audit_events;

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

/// Events oldest first.
pub fn list(
    conn: &mut DbConnection,
    offset: i64,
    limit: i64,
) -> Result<Vec<AuditEvent>, StoreError> {
    Ok(audit_events::table
        .order(audit_events::id.asc())
        .offset(offset)
        .limit(limit)
        .select(AuditEvent::as_select())
        .load(conn)?)
}

pub fn count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(audit_events::table.count().get_result(conn)?)
}
