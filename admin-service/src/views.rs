//! JSON renderings of stored rows. Never a secret or a hash.

use auth_core::scopes::Scope;
use auth_core::store::audit::AuditEvent;
use auth_core::store::clients::Client;
use auth_core::time::Timestamp;
use serde_json::{Value, json};

pub fn client_json(client: &Client, scopes: &[Scope]) -> Value {
    json!({
        "client_id": client.id,
        "name": client.name,
        "description": client.description,
        "scopes": scopes,
        "created_at": Timestamp::from_micros(client.created_at).to_rfc3339(),
        "updated_at": Timestamp::from_micros(client.updated_at).to_rfc3339(),
    })
}

pub fn audit_json(event: &AuditEvent) -> Value {
    json!({
        "id": event.id,
        "occurred_at": Timestamp::from_micros(event.occurred_at).to_rfc3339(),
        "actor_client_id": event.actor_client_id,
        "action": event.action,
        "target": event.target,
        "source_address": event.source_address,
        "outcome": event.outcome,
        "detail": event.detail,
    })
}
