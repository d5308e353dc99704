//! Response bodies: typed, documented in the OpenAPI description, never a secret or a hash
//! except the one-time `client_secret` of creation and rotation.

use auth_core::scopes::Scope;
use auth_core::store::audit::AuditEvent;
use auth_core::store::clients::Client;
use auth_core::time::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// The error body of every 4xx and 5xx answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
    pub error_description: String,
}

#[derive(Serialize, ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<Scope>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
}

impl ClientView {
    pub fn new(client: &Client, scopes: Vec<Scope>) -> Self {
        Self {
            client_id: client.id.clone(),
            name: client.name.clone(),
            description: client.description.clone(),
            scopes,
            created_at: Timestamp::from_micros(client.created_at).to_rfc3339(),
            updated_at: Timestamp::from_micros(client.updated_at).to_rfc3339(),
        }
    }
}

/// The root client, which lives in the environment, not the database.
#[derive(Serialize, ToSchema)]
pub struct RootClientView {
    pub client_id: String,
    pub name: &'static str,
    pub description: &'static str,
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<Scope>,
    pub root: bool,
}

/// The answer of `GET /api/v1/oauth/client/{id}`: a stored client, or the root client.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum OneClient {
    Stored(ClientView),
    Root(RootClientView),
}

/// A new client with its secret, shown this once.
#[derive(Serialize, ToSchema)]
pub struct CreatedClient {
    pub client_id: String,
    pub client_secret: String,
    pub name: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<Scope>,
    pub created_at: String,
}

/// A rotated secret, shown this once.
#[derive(Serialize, ToSchema)]
pub struct RotatedSecret {
    pub client_id: String,
    pub client_secret: String,
    /// Until when the previous secret still works (RFC 3339), when a grace period was asked.
    pub previous_secret_expires_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ScopeAdded {
    pub name: String,
    /// False when the scope already existed.
    pub created: bool,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub occurred_at: String,
    pub actor_client_id: String,
    pub action: String,
    pub target: Option<String>,
    pub source_address: Option<String>,
    /// `success`, `refused` or `failed`.
    pub outcome: String,
    pub detail: Option<String>,
}

impl From<&AuditEvent> for AuditEntry {
    fn from(event: &AuditEvent) -> Self {
        Self {
            id: event.id,
            occurred_at: Timestamp::from_micros(event.occurred_at).to_rfc3339(),
            actor_client_id: event.actor_client_id.clone(),
            action: event.action.clone(),
            target: event.target.clone(),
            source_address: event.source_address.clone(),
            outcome: event.outcome.clone(),
            detail: event.detail.clone(),
        }
    }
}

/// One page of a listing: fidesops' fastapi-pagination envelope (`items`, `total`, `page`,
/// `size`, `pages`), with `next` and `total_is_estimate`.
#[derive(Serialize, ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// How many items the whole listing has: counted (below 100,000 items) or PostgreSQL's
    /// estimate (from then on), taken again at most every 5 seconds; see
    /// `total_is_estimate`.
    pub total: i64,
    /// The page number asked for (1 when none was); `null` for a page asked by cursor
    /// (`after`).
    pub page: Option<i64>,
    pub size: i64,
    /// `total` divided by `size`, rounded up.
    pub pages: i64,
    /// The cursor of the next page (`?after=<next>`, with the same `size`): present
    /// whenever more items follow this page, `null` on the last page.
    pub next: Option<String>,
    /// False when `total` was counted exactly for this answer. True when it is the
    /// database's estimate (a large listing), or a total this service took up to 5 seconds
    /// earlier, which may miss changes made since by another replica or process (this
    /// one's own changes make the next page count again).
    pub total_is_estimate: bool,
}
