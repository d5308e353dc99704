//! Revocation: is a verified token still good, and telling every verifier when it is not.
//!
//! A token is revoked when its `jti` was revoked, or when it was issued (to the microsecond)
//! before its client's cut-off: deletion, scope removal, secret rotation and revoke-all raise
//! that cut-off. The database is the truth (`db`); Redis caches it for every verifier and
//! carries change messages in sequence (`shared`); each process keeps a complete copy of
//! Redis's cache that those messages keep current (`cache`), so a check costs no round
//! trip. A check asks, in order: the local copy (once complete; until then only for what it
//! knows to be revoked), Redis (only once its cache is complete), the database (if this
//! process has one); with none of them it fails closed. Processes with a database also keep
//! Redis in step (`sync`).

mod cache;
#[cfg(feature = "server")]
pub mod db;
mod jti_set;
mod shared;
#[cfg(feature = "server")]
mod sync;

use std::sync::Arc;

pub use cache::{ClientState, ClientVersion};
pub use shared::SharedError;

use crate::ids::TokenId;
use crate::metrics::Metrics;
use crate::time::Timestamp;
use crate::token::VerifiedToken;

/// How long after a revoked token's expiry its revocation is kept (Redis, every copy, the
/// database): verifiers accept a token up to [`crate::token::DEFAULT_LEEWAY_SECS`] after
/// its `exp`, so the revocation must outlive that.
pub(crate) const EXPIRY_MARGIN_SECS: i64 = 60;
const _: () = assert!(EXPIRY_MARGIN_SECS > crate::token::DEFAULT_LEEWAY_SECS);

/// A client's revocation cut-off: its tokens issued before an instant are revoked, or, once
/// the client is deleted, all of them. Cut-offs only rise (`Deleted` is the highest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cutoff {
    /// Tokens issued (to the microsecond) before this instant are revoked.
    Before(Timestamp),
    /// The client was deleted: every token of it is revoked.
    Deleted,
}

impl Cutoff {
    /// No cut-off: nothing is revoked.
    pub const NONE: Self = Self::Before(Timestamp::from_micros(0));

    /// How it is written in Redis, on the change channel and in the shared cache's copies:
    /// microseconds, and `i64::MAX` for a deletion. Every replica reads and writes this
    /// form, so it must not change.
    pub const fn to_wire(self) -> i64 {
        match self {
            Self::Before(at) => at.as_micros(),
            Self::Deleted => i64::MAX,
        }
    }

    /// The inverse of [`Cutoff::to_wire`].
    pub const fn from_wire(value: i64) -> Self {
        if value == i64::MAX {
            Self::Deleted
        } else {
            Self::Before(Timestamp::from_micros(value))
        }
    }
}

/// The state of the shared cache, as readiness reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SharedCacheState {
    /// Complete (`rev:ready`) and this process is subscribed to the change channel.
    Up,
    /// Unreachable, incomplete, or not subscribed.
    Down,
    /// No `REDIS_URL`: the database answers every check.
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    /// Revoked by `jti`.
    RevokedToken,
    /// Issued before its client's cut-off.
    RevokedByClientCutoff,
    /// Its client was deleted or never existed.
    UnknownClient,
}

impl TokenStatus {
    pub fn is_active(self) -> bool {
        self == Self::Active
    }
}

/// The verdict for a token issued at `issued_at`, given what is known of it.
pub(crate) fn decide(revoked: bool, cutoff: Cutoff, issued_at: Timestamp) -> TokenStatus {
    match cutoff {
        _ if revoked => TokenStatus::RevokedToken,
        Cutoff::Deleted => TokenStatus::UnknownClient,
        Cutoff::Before(at) if issued_at < at => TokenStatus::RevokedByClientCutoff,
        Cutoff::Before(_) => TokenStatus::Active,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RevocationError {
    /// Neither Redis (complete) nor a database could answer: the token must be refused.
    #[error("revocation state is unavailable")]
    Unavailable,
    #[cfg(feature = "server")]
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// How to reach the shared cache.
#[derive(Debug, Clone)]
pub struct RevocationConfig {
    /// `None`: no shared cache; the database answers every check.
    pub redis: Option<crate::shared_redis::RedisSettings>,
    /// The longest token lifetime, which bounds how long records are kept.
    pub token_lifetime_secs: i64,
    /// Accept tokens when nothing can answer (only for verifiers without a database, and
    /// only if the operator chose availability over revocation).
    pub fail_open: bool,
}

/// Revocation checks and publications; cheap to clone.
#[derive(Clone)]
pub struct Revocations {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Option<Arc<shared::SharedCache>>,
    metrics: Arc<Metrics>,
    cache: Arc<cache::LocalCache>,
    #[cfg(feature = "server")]
    database: Option<(crate::store::Store, crate::ids::ClientId)>,
    fail_open: bool,
    lifetime_secs: i64,
}

impl std::fmt::Debug for Revocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revocations")
            .field("shared", &self.inner.shared.is_some())
            .finish_non_exhaustive()
    }
}

impl Revocations {
    /// A checker without a database (resource servers). Call [`Revocations::start`] inside
    /// the runtime to follow the change channel.
    pub fn new(config: &RevocationConfig, metrics: Arc<Metrics>) -> Result<Self, SharedError> {
        Self::build(config, metrics, None)
    }

    /// A checker backed by the database, which also keeps the shared cache in step.
    #[cfg(feature = "server")]
    pub fn with_database(
        config: &RevocationConfig,
        store: crate::store::Store,
        root: crate::ids::ClientId,
        metrics: Arc<Metrics>,
    ) -> Result<Self, SharedError> {
        Self::build(config, metrics, Some((store, root)))
    }

    fn build(
        config: &RevocationConfig,
        metrics: Arc<Metrics>,
        #[cfg_attr(not(feature = "server"), allow(unused_variables))] database: Option<(
            DatabaseParts,
            crate::ids::ClientId,
        )>,
    ) -> Result<Self, SharedError> {
        let shared = match &config.redis {
            Some(redis) => Some(Arc::new(shared::SharedCache::new(
                redis,
                Arc::clone(&metrics),
            )?)),
            None => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                shared,
                metrics,
                cache: Arc::default(),
                #[cfg(feature = "server")]
                database,
                fail_open: config.fail_open,
                lifetime_secs: config.token_lifetime_secs,
            }),
        })
    }

    /// Starts following the change channel (and, with a database, keeping Redis in step).
    /// Must be called from within a tokio runtime; the tasks live as long as the runtime.
    pub fn start(&self) {
        let Some(shared) = &self.inner.shared else {
            return;
        };
        let follower = shared::Follower::new(
            Arc::clone(shared),
            Arc::clone(&self.inner.cache),
            self.inner.lifetime_secs,
        );
        tokio::spawn(follower.run());
        #[cfg(feature = "server")]
        if let Some((store, _)) = &self.inner.database {
            let syncer = sync::Syncer {
                shared: Arc::clone(shared),
                store: store.clone(),
                lifetime_secs: self.inner.lifetime_secs,
            };
            tokio::spawn(syncer.run());
        }
    }

    /// Whether the shared cache is in use: up (complete and subscribed), down or disabled.
    pub async fn shared_state(&self) -> SharedCacheState {
        match &self.inner.shared {
            None => SharedCacheState::Disabled,
            Some(shared) => match shared.is_ready().await {
                Ok(true) if shared.subscribed() => SharedCacheState::Up,
                _ => SharedCacheState::Down,
            },
        }
    }

    /// Whether a verified token has been revoked since it was issued.
    pub async fn status(&self, token: &VerifiedToken) -> Result<TokenStatus, RevocationError> {
        let (source, result) = self.check(token).await;
        let outcome = match &result {
            Ok(status) if status.is_active() => "active",
            Ok(_) => "revoked",
            Err(_) => "unavailable",
        };
        self.inner.metrics.revocation_check(source, outcome);
        result
    }

    /// The answer and which source gave it: `cache`, `redis`, `database` or `none`.
    async fn check(
        &self,
        token: &VerifiedToken,
    ) -> (&'static str, Result<TokenStatus, RevocationError>) {
        let jti = token.claims.jti.as_str();
        let client = token.client_id.as_str();
        let issued = token.issued_at;
        if let Some(shared) = &self.inner.shared {
            if let Some(status) = self.inner.cache.lookup(jti, client, issued.as_micros()) {
                return ("cache", Ok(status));
            }
            match shared.lookup(jti, client).await {
                Ok(Some(answer)) => {
                    let cutoff = Cutoff::from_wire(answer.cutoff);
                    return ("redis", Ok(decide(answer.revoked, cutoff, issued)));
                }
                Ok(None) => tracing::debug!("shared revocation cache incomplete"),
                Err(error) => tracing::debug!(%error, "shared revocation cache unreachable"),
            }
        }
        #[cfg(feature = "server")]
        if let Some((store, root)) = &self.inner.database {
            let (token, root) = (token.clone(), root.clone());
            let answer = store.run(move |conn| db::status(conn, &token, &root)).await;
            return ("database", answer.map_err(RevocationError::from));
        }
        if self.inner.fail_open {
            tracing::warn!(
                "revocation state unavailable; accepting the token (fail-open configured)"
            );
            return ("none", Ok(TokenStatus::Active));
        }
        ("none", Err(RevocationError::Unavailable))
    }

    /// Tells every verifier that a token expiring at `expires_at` was revoked (Redis keeps
    /// it until the second after, every copy until it expires). `first`: this process has
    /// just recorded the revocation, and announces it even if Redis had it already (a
    /// rebuild may have written it from the database); a revocation recorded before is
    /// announced only if Redis lacks it, so revoking a token again sends nothing. Call
    /// after the database commit; a failure here is repaired by the syncers, so it is
    /// logged, not returned.
    pub async fn publish_token_revoked(&self, jti: &TokenId, expires_at: Timestamp, first: bool) {
        let jti = jti.as_str();
        self.inner.cache.token_revoked(jti, expires_at.as_secs());
        let announce = if first {
            shared::Announce::Always
        } else {
            shared::Announce::IfNews
        };
        if let Some(shared) = &self.inner.shared
            && let Err(error) = shared
                .token_revoked(jti, expires_at.as_secs(), announce)
                .await
        {
            tracing::warn!(%error, "could not publish a token revocation; the sync will retry");
        }
    }

    /// What this process knows of a client, for caches of client state; `None` while
    /// changes cannot be followed (no Redis, or not subscribed), when nothing about a client
    /// may be cached.
    pub fn client_state(&self, client_id: &str) -> Option<ClientState> {
        let shared = self.inner.shared.as_ref()?;
        if !shared.subscribed() {
            return None;
        }
        self.inner.cache.complete_client_state(client_id)
    }

    /// Tells every process that a client changed without a revocation (scopes added).
    pub async fn publish_client_changed(&self, client_id: &str) {
        self.inner.cache.client_changed(client_id);
        if let Some(shared) = &self.inner.shared
            && let Err(error) = shared.client_changed(client_id).await
        {
            tracing::warn!(%error, "could not publish a client change");
        }
    }

    /// Tells every verifier that a client's cut-off rose to `cutoff`. Call after the
    /// database commit.
    pub async fn publish_cutoff(&self, client_id: &str, cutoff: Cutoff) {
        self.inner.cache.cutoff_raised(client_id, cutoff.to_wire());
        if let Some(shared) = &self.inner.shared {
            let keep_ms = keep_cutoff_ms(cutoff, Timestamp::now(), self.inner.lifetime_secs);
            let wire = cutoff.to_wire();
            if let Err(error) = shared
                .cutoff_raised(client_id, wire, keep_ms, shared::Announce::Always)
                .await
            {
                tracing::warn!(%error, "could not publish a client revocation; the sync will retry");
            }
        }
    }
}

#[cfg(feature = "server")]
type DatabaseParts = crate::store::Store;
#[cfg(not(feature = "server"))]
type DatabaseParts = std::convert::Infallible;

/// How long a cut-off key must live: until every token issued before it has expired (a
/// deletion's, from now).
pub(crate) fn keep_cutoff_ms(cutoff: Cutoff, now: Timestamp, lifetime_secs: i64) -> i64 {
    let horizon = match cutoff {
        Cutoff::Before(at) => at.as_micros(),
        Cutoff::Deleted => now.as_micros(),
    };
    let keep_secs = lifetime_secs.saturating_add(EXPIRY_MARGIN_SECS);
    let until = horizon.saturating_add(keep_secs.saturating_mul(1_000_000));
    (until - now.as_micros()) / 1000
}

#[cfg(test)]
mod tests;
