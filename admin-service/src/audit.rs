//! Audit events for admin changes: who, what, on which target, from where, and the outcome.
//!
//! A successful change writes its event in the change's own transaction ([`Audit::success`]),
//! so neither exists without the other. A refused attempt by an authenticated caller is
//! recorded afterwards by [`audited`], which then marks the audit listing's cached count
//! stale (`crate::listing::count`). Secrets never enter an event.
//!
//! What an event records is typed: its [`Action`] and [`Outcome`], so the audit listing's
//! filters (`crate::listing::filters`) accept exactly the values events can hold.

use std::future::Future;

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::store::audit::NewAuditEvent;
use auth_core::store::{Store, audit};
use auth_core::time::Timestamp;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::listing::CachedCount;
use crate::state::AppState;

/// What an admin change did, as its events name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ClientCreate,
    ClientDelete,
    ClientScopesReplace,
    ClientLimitsReplace,
    ClientSecretRotate,
    ClientKeysReplace,
    ClientIdentitiesReplace,
    ClientTokensRevoke,
    /// A client brought in by `admin-service import-fidesops`.
    ClientImport,
    ScopeAdd,
    ScopeRemove,
    IssuerCreate,
    IssuerDelete,
    TokenRevoke,
}

impl Action {
    pub const ALL: [Self; 14] = [
        Self::ClientCreate,
        Self::ClientDelete,
        Self::ClientScopesReplace,
        Self::ClientLimitsReplace,
        Self::ClientSecretRotate,
        Self::ClientKeysReplace,
        Self::ClientIdentitiesReplace,
        Self::ClientTokensRevoke,
        Self::ClientImport,
        Self::ScopeAdd,
        Self::ScopeRemove,
        Self::IssuerCreate,
        Self::IssuerDelete,
        Self::TokenRevoke,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientCreate => "client.create",
            Self::ClientDelete => "client.delete",
            Self::ClientScopesReplace => "client.scopes.replace",
            Self::ClientLimitsReplace => "client.limits.replace",
            Self::ClientSecretRotate => "client.secret.rotate",
            Self::ClientKeysReplace => "client.keys.replace",
            Self::ClientIdentitiesReplace => "client.identities.replace",
            Self::ClientTokensRevoke => "client.tokens.revoke",
            Self::ClientImport => "client.import",
            Self::ScopeAdd => "scope.add",
            Self::ScopeRemove => "scope.remove",
            Self::IssuerCreate => "issuer.create",
            Self::IssuerDelete => "issuer.delete",
            Self::TokenRevoke => "token.revoke",
        }
    }
}

/// How an admin change ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Answered with a 4xx: not allowed, or not valid.
    Refused,
    /// Answered with a 5xx.
    Failed,
}

impl Outcome {
    pub const ALL: [Self; 3] = [Self::Success, Self::Refused, Self::Failed];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Audit {
    actor: String,
    action: Action,
    target: Option<String>,
    source: Option<String>,
    /// The audit listing's cached count, marked stale once the event is written.
    listed: Option<CachedCount>,
}

impl Audit {
    pub fn new(req: &HttpRequest, caller: &Caller, action: Action, target: Option<&str>) -> Self {
        let peer = req.peer_addr().map(|addr| addr.ip().to_string());
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .map(printable);
        let source = match (peer, forwarded) {
            (Some(peer), Some(forwarded)) => Some(format!("{peer} (x-forwarded-for: {forwarded})")),
            (peer, _) => peer,
        };
        Self {
            actor: caller.client_id().as_str().to_owned(),
            action,
            target: target.map(printable),
            source,
            listed: req
                .app_data::<web::Data<AppState>>()
                .map(|state| state.totals.audit.clone()),
        }
    }

    fn event(&self, outcome: Outcome, detail: Option<String>, at: Timestamp) -> NewAuditEvent {
        NewAuditEvent {
            occurred_at: at.as_micros(),
            actor_client_id: self.actor.clone(),
            action: self.action.as_str().to_owned(),
            target: self.target.clone(),
            source_address: self.source.clone(),
            outcome: outcome.as_str().to_owned(),
            detail,
        }
    }

    /// The event of a change that succeeded, to insert in the change's transaction.
    pub fn success(&self, detail: Option<String>, at: Timestamp) -> NewAuditEvent {
        self.event(Outcome::Success, detail, at)
    }

    pub fn with_target(mut self, target: &str) -> Self {
        self.target = Some(printable(target));
        self
    }
}

/// Longest request-supplied text kept in an event.
pub const MAX_FIELD_CHARS: usize = 200;

/// Request-supplied text made storable on every backend: control characters (NUL among
/// them, which PostgreSQL text cannot hold) become `?`, and it is cut to a bounded length.
fn printable(text: &str) -> String {
    text.chars()
        .take(MAX_FIELD_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Runs a change; if it is refused or fails, records that outcome (best effort). Either
/// way the audit listing counts again.
pub async fn audited<F>(store: Store, audit: Audit, change: F) -> Result<HttpResponse, ApiError>
where
    F: Future<Output = Result<HttpResponse, ApiError>>,
{
    let result = change.await;
    if let Err(error) = &result {
        let outcome = if error.status().is_client_error() {
            Outcome::Refused
        } else {
            Outcome::Failed
        };
        let event = audit.event(outcome, Some(error.code().to_owned()), Timestamp::now());
        if let Err(store_error) = store.run(move |conn| audit::insert(conn, &event)).await {
            tracing::warn!(error = %store_error, "could not record a refused admin change");
        }
    }
    if let Some(listed) = &audit.listed {
        listed.invalidate();
    }
    result
}
