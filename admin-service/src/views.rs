//! Response bodies: typed, documented in the OpenAPI description, never a secret or a hash
//! except the one-time `client_secret` of creation and rotation.

use auth_core::scopes::Scope;
use auth_core::store::StoreError;
use auth_core::store::audit::AuditEvent;
use auth_core::store::clients::Client;
use auth_core::store::federation::{self, Identity, Keys, TrustedIssuer};
use auth_core::time::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};
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
    /// Further audiences its tokens may name (RFC 8707 `resource`), besides the default.
    pub audiences: Vec<String>,
    /// Its public keys for `private_key_jwt` (public JWKs, each with its `kid`); empty when
    /// it has none or they are fetched from `jwks_uri`.
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<Map<String, Value>>,
    /// Where its public keys are fetched from, if they are.
    pub jwks_uri: Option<String>,
    /// The workload identities that authenticate it.
    pub identities: Vec<IdentityView>,
    /// False for a secret-less client (keys or identities only) until a rotation.
    pub has_secret: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
}

impl ClientView {
    pub fn new(
        client: &Client,
        scopes: Vec<Scope>,
        identities: Vec<Identity>,
    ) -> Result<Self, StoreError> {
        let ShownKeys { keys, jwks_uri } =
            ShownKeys::of_columns(client.jwks.as_deref(), client.jwks_uri.as_deref())?;
        Ok(Self {
            client_id: client.id.clone(),
            name: client.name.clone(),
            description: client.description.clone(),
            scopes,
            audiences: federation::audiences_from_column(client.audiences.as_deref())?,
            keys,
            jwks_uri,
            identities: identities.into_iter().map(IdentityView::from).collect(),
            has_secret: client.has_secret(),
            created_at: Timestamp::from_micros(client.created_at).to_rfc3339(),
            updated_at: Timestamp::from_micros(client.updated_at).to_rfc3339(),
        })
    }
}

/// Keys as shown: the inline public JWKs, and the URL they are fetched from.
pub struct ShownKeys {
    pub keys: Vec<Map<String, Value>>,
    pub jwks_uri: Option<String>,
}

impl From<Keys> for ShownKeys {
    fn from(keys: Keys) -> Self {
        let (keys, jwks_uri) = match keys {
            Keys::None => (Vec::new(), None),
            Keys::Inline(keys) => (keys, None),
            Keys::Uri(uri) => (Vec::new(), Some(uri)),
        };
        Self { keys, jwks_uri }
    }
}

impl ShownKeys {
    /// The keys of a row's `jwks` and `jwks_uri` columns.
    fn of_columns(jwks: Option<&str>, jwks_uri: Option<&str>) -> Result<Self, StoreError> {
        Keys::from_columns(jwks, jwks_uri).map(Self::from)
    }
}

/// A workload identity bound to a client: tokens of `issuer` whose `sub` is `subject` (or,
/// for a pattern ending in `*`, starts with what precedes it).
#[derive(Serialize, ToSchema)]
pub struct IdentityView {
    /// The issuer's `iss` value.
    pub issuer: String,
    pub subject: String,
}

impl From<Identity> for IdentityView {
    fn from(identity: Identity) -> Self {
        Self {
            issuer: identity.issuer,
            subject: identity.subject,
        }
    }
}

/// A trusted issuer: its public keys are shown, never anything private.
#[derive(Serialize, ToSchema)]
pub struct IssuerView {
    pub id: String,
    /// The `iss` value of its tokens.
    pub issuer: String,
    /// Where its public keys are fetched from, if they are.
    pub jwks_uri: Option<String>,
    /// Its public keys given inline (public JWKs, each with its `kid`); empty when they are
    /// fetched from `jwks_uri`.
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<Map<String, Value>>,
    /// The audiences its tokens must carry one of; empty: this service's issuer URL.
    pub audiences: Vec<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
}

impl IssuerView {
    pub fn new(issuer: &TrustedIssuer) -> Result<Self, StoreError> {
        let ShownKeys { keys, jwks_uri } =
            ShownKeys::of_columns(issuer.jwks.as_deref(), issuer.jwks_uri.as_deref())?;
        Ok(Self {
            id: issuer.id.clone(),
            issuer: issuer.issuer.clone(),
            jwks_uri,
            keys,
            audiences: federation::audiences_from_column(issuer.audiences.as_deref())?,
            created_at: Timestamp::from_micros(issuer.created_at).to_rfc3339(),
        })
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

/// A new client with its secret, shown this once (none for a secret-less client).
#[derive(Serialize, ToSchema)]
pub struct CreatedClient {
    pub client_id: String,
    /// Absent for a client created with keys or identities: it is secret-less.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<Scope>,
    pub audiences: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<Map<String, Value>>,
    pub jwks_uri: Option<String>,
    pub identities: Vec<IdentityView>,
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
    /// `total_is_estimate`. For a filtered listing (`q`, the audit filters), how many items
    /// match: counted for this answer, but no further than 10,000.
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
    /// one's own changes make the next page count again). For a filtered listing, true
    /// when the count stopped at 10,000: more items match.
    pub total_is_estimate: bool,
}
