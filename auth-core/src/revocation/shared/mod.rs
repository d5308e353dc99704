//! The shared revocation cache in Redis, and the sequenced change log that carries changes.
//!
//! Keys (under the configured prefix): `rev:jti:<jti>` for revoked tokens (the token's
//! expiry in seconds, kept a minute longer: verifiers allow 30 s of clock skew);
//! `rev:client:<id>` for a client's cut-off in microseconds (only ever raised), expiring
//! once every token it covers has;
//! `rev:ready`, set once the cache holds everything the database does. A flushed or
//! restarted Redis has no `rev:ready`, so no verifier trusts its emptiness: those with a
//! database use it and rebuild the cache, those without fail closed until the rebuild is
//! done.
//!
//! Every change is one script call that writes the key and, when it is news (or always,
//! for the process that made the change: see `change::Announce`), numbers the
//! change (`rev:seq`), chains it to the ones before (`rev:chain`, see `change::CHANGE_SCRIPT`),
//! appends it to the log (`rev:log`, a stream trimmed to about [`LOG_LENGTH`] entries, entry
//! id `<seq>-0`, fields `m` the change and `c` its link) and publishes `<seq> <link>
//! <change>` on `rev:events`: `j <jti> <expiry secs>`, `c <client_id> <cutoff>`, `u
//! <client_id>` for a change that revokes nothing (scopes added), so caches of client state
//! drop it, and `r <nonce>` after a rebuild. One command per change, whatever the number
//! of verifiers; followers (see `follow`) apply messages in sequence, read a gap back from
//! the log, and load a snapshot only when they start or the log cannot fill the gap.
//!
//! On a Cluster, `PREFIX:rev` is written `{PREFIX:rev}`: a hash tag, so every key and the
//! channel share one slot (a change's script touches several keys), and the channel is a
//! sharded one (`SPUBLISH`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::AsyncCommands as _;

use crate::shared_redis::RedisConnection;

/// How long one Redis command may take before the check falls back.
pub(crate) const REDIS_TIMEOUT: Duration = Duration::from_millis(500);
/// About how many changes the log keeps: a follower that missed fewer reads them back
/// instead of loading a snapshot.
pub(crate) const LOG_LENGTH: u32 = 10_000;

/// The connection slots of [`SharedCache`].
const CHECKS: usize = 0;
const CHANGES: usize = 1;

#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis did not answer in time")]
    Timeout,
    #[error("the shared cache is not complete (flushed or not yet rebuilt)")]
    NotReady,
}

/// What Redis knows about one token, once its cache is complete.
pub(crate) struct SharedAnswer {
    pub revoked: bool,
    pub cutoff: i64,
}

pub(crate) struct SharedCache {
    settings: crate::shared_redis::RedisSettings,
    pub(crate) metrics: Arc<crate::metrics::Metrics>,
    /// Connections made on first use: one for checks and reads, and with Sentinel one for
    /// changes (a change waits for a replica, which must not hold up the checks).
    conns: [std::sync::Mutex<Option<RedisConnection>>; 2],
    /// `PREFIX:rev`, or on a Cluster `{PREFIX:rev}` (one slot for all: a change's script
    /// touches several keys).
    group: String,
    subscribed: AtomicBool,
    change: redis::Script,
}

async fn timed<T>(work: impl Future<Output = redis::RedisResult<T>>) -> Result<T, SharedError> {
    match tokio::time::timeout(REDIS_TIMEOUT, work).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(SharedError::Timeout),
    }
}

impl SharedCache {
    pub(crate) fn new(
        redis: &crate::shared_redis::RedisSettings,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Result<Self, SharedError> {
        Ok(Self {
            settings: redis.clone(),
            metrics,
            conns: Default::default(),
            group: redis.key_group("rev"),
            subscribed: AtomicBool::new(false),
            change: redis::Script::new(change::CHANGE_SCRIPT),
        })
    }

    fn key(&self, parts: &[&str]) -> String {
        let mut key = self.group.clone();
        for part in parts {
            key.push(':');
            key.push_str(part);
        }
        key
    }

    pub(crate) fn channel(&self) -> String {
        self.key(&["events"])
    }

    /// True while change messages are arriving.
    pub(crate) fn subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Acquire)
    }

    pub(crate) fn set_subscribed(&self, subscribed: bool) {
        self.subscribed.store(subscribed, Ordering::Release);
    }

    pub(crate) fn settings(&self) -> &crate::shared_redis::RedisSettings {
        &self.settings
    }

    /// A multiplexed connection, made on first use; it reconnects by itself afterwards.
    pub(crate) async fn connection(&self) -> Result<RedisConnection, SharedError> {
        self.connection_for(CHECKS).await
    }

    /// The connection of `slot` ([`CHECKS`] or [`CHANGES`]), made on first use; it
    /// reconnects by itself afterwards.
    async fn connection_for(&self, slot: usize) -> Result<RedisConnection, SharedError> {
        let conn = &self.conns[slot];
        if let Some(conn) = conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
        {
            return Ok(conn);
        }
        // Boxed: connecting is rare, and its future (Sentinel's discovery) is deep.
        let made = timed(Box::pin(self.settings.connect(REDIS_TIMEOUT))).await?;
        *conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(made.clone());
        Ok(made)
    }

    /// A command failed: with Sentinel the master may have moved, so the next connections
    /// ask the sentinels again (one server's connection reconnects by itself).
    pub(crate) fn forget_connection(&self) {
        if self.settings.is_sentinel() {
            for conn in &self.conns {
                *conn
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
            }
        }
    }

    /// `None` when the cache is not complete (flushed, restarted, not yet built).
    async fn lookup_inner(
        &self,
        jti: &str,
        client_id: &str,
    ) -> Result<Option<SharedAnswer>, SharedError> {
        let mut conn = self.connection().await?;
        let keys = [
            self.key(&["ready"]),
            self.key(&["jti", jti]),
            self.key(&["client", client_id]),
        ];
        let values: Vec<Option<String>> = timed(conn.mget(&keys)).await?;
        let mut values = values.into_iter();
        let (ready, revoked, cutoff) = (
            values.next().flatten(),
            values.next().flatten(),
            values.next().flatten(),
        );
        if ready.is_none() {
            return Ok(None);
        }
        Ok(Some(SharedAnswer {
            revoked: revoked.is_some(),
            cutoff: cutoff.and_then(|c| c.parse().ok()).unwrap_or(0),
        }))
    }

    pub(crate) async fn is_ready(&self) -> Result<bool, SharedError> {
        let mut conn = self.connection().await?;
        timed(conn.exists(self.key(&["ready"]))).await
    }

    #[cfg(feature = "server")]
    pub(crate) async fn mark_ready(&self) -> Result<(), SharedError> {
        let mut conn = self.connection().await?;
        timed(conn.set::<_, _, ()>(self.key(&["ready"]), "1")).await
    }

    #[cfg(feature = "server")]
    /// Takes the rebuild lock for `ttl`; false if another process holds it.
    pub(crate) async fn try_lock_rebuild(&self, ttl: Duration) -> Result<bool, SharedError> {
        let mut conn = self.connection().await?;
        let options = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::PX(
                u64::try_from(ttl.as_millis()).unwrap_or(30_000),
            ));
        let set: Option<String> =
            timed(conn.set_options(self.key(&["rebuild-lock"]), std::process::id(), options))
                .await?;
        Ok(set.is_some())
    }

    #[cfg(feature = "server")]
    pub(crate) async fn unlock_rebuild(&self) -> Result<(), SharedError> {
        let mut conn = self.connection().await?;
        timed(conn.del::<_, ()>(self.key(&["rebuild-lock"]))).await
    }
}

mod change;
mod counted;
mod follow;
#[cfg(feature = "server")]
mod lease;
mod snapshot;

pub(crate) use change::{Announce, Change};
pub(crate) use follow::Follower;
#[cfg(test)]
pub(crate) use follow::next_link;
