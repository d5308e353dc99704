//! The shared revocation cache in Redis, and the pub/sub channel that carries changes.
//!
//! Keys (under the configured prefix): `rev:jti:<jti>` for revoked tokens, expiring with the
//! token; `rev:client:<id>` for a client's cut-off in microseconds (only ever raised, by a
//! script), expiring once every token it covers has; `rev:ready`, set once the cache holds
//! everything the database does. A flushed or restarted Redis has no `rev:ready`, so no
//! verifier trusts its emptiness: those with a database use it and rebuild the cache, those
//! without fail closed until the rebuild is done.
//!
//! Messages on `rev:events`: `j <jti>`, `c <client_id> <cutoff>`, `u <client_id>` for a
//! change that revokes nothing (scopes added), so caches of client state drop it, and `r`
//! after a rebuild. Each follower keeps a complete copy of the cache (see `cache`): a
//! snapshot of every `rev:` key after subscribing, again every 30 s and after `r`, plus the
//! messages.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::pubsub::Event;
use redis::AsyncCommands as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::Notify;

use super::cache::{LocalCache, Snapshot};

/// How long one Redis command may take before the check falls back.
pub(crate) const REDIS_TIMEOUT: Duration = Duration::from_millis(500);
/// How often a follower reloads its copy: the bound on staleness should a message be lost.
const SNAPSHOT_EVERY: Duration = Duration::from_secs(30);
/// How soon a follower tries again while it has no copy (Redis not complete, unreachable).
const SNAPSHOT_RETRY: Duration = Duration::from_secs(1);
/// How long loading a snapshot may take.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(10);
/// Keys fetched per `MGET` while loading a snapshot.
const SNAPSHOT_BATCH: usize = 500;

const MAX_SET_SCRIPT: &str = r"
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
";

#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis did not answer in time")]
    Timeout,
}

/// What Redis knows about one token, once its cache is complete.
pub(crate) struct SharedAnswer {
    pub revoked: bool,
    pub cutoff: i64,
}

pub(crate) struct SharedCache {
    client: redis::Client,
    metrics: Arc<crate::metrics::Metrics>,
    conn: std::sync::Mutex<Option<ConnectionManager>>,
    prefix: String,
    subscribed: AtomicBool,
    max_set: redis::Script,
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
            client: redis.client()?,
            metrics,
            conn: std::sync::Mutex::new(None),
            prefix: redis.key_prefix().to_owned(),
            subscribed: AtomicBool::new(false),
            max_set: redis::Script::new(MAX_SET_SCRIPT),
        })
    }

    fn key(&self, parts: &[&str]) -> String {
        let mut key = format!("{}:rev", self.prefix);
        for part in parts {
            key.push(':');
            key.push_str(part);
        }
        key
    }

    pub(crate) fn channel(&self) -> String {
        self.key(&["events"])
    }

    /// True while pub/sub messages are arriving, so the local cache may be trusted.
    pub(crate) fn subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Acquire)
    }

    /// A multiplexed connection, made on first use; it reconnects by itself afterwards.
    async fn connection(&self) -> Result<ConnectionManager, SharedError> {
        if let Some(conn) = self
            .conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
        {
            return Ok(conn);
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = timed(self.client.get_connection_manager_with_config(config)).await?;
        *self
            .conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(conn.clone());
        Ok(conn)
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

    /// Records a revoked token until `expires_at_secs`; publishes if it is news.
    async fn token_revoked_inner(
        &self,
        jti: &str,
        expires_at_secs: i64,
        publish: bool,
    ) -> Result<bool, SharedError> {
        let mut conn = self.connection().await?;
        let expiry = u64::try_from(expires_at_secs.max(1)).unwrap_or(1);
        let options = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::EXAT(expiry));
        let set: Option<String> =
            timed(conn.set_options(self.key(&["jti", jti]), "1", options)).await?;
        let news = set.is_some();
        if news && publish {
            timed(conn.publish::<_, _, ()>(self.channel(), format!("j {jti}"))).await?;
        }
        Ok(news)
    }

    /// Raises a client's cut-off, keeping it for `keep_ms`; publishes if it rose.
    async fn cutoff_raised_inner(
        &self,
        client_id: &str,
        cutoff: i64,
        keep_ms: i64,
        publish: bool,
    ) -> Result<bool, SharedError> {
        let mut conn = self.connection().await?;
        let raised: i64 = timed(
            self.max_set
                .key(self.key(&["client", client_id]))
                .arg(cutoff)
                .arg(keep_ms.max(1))
                .invoke_async(&mut conn),
        )
        .await?;
        if raised == 1 && publish {
            timed(conn.publish::<_, _, ()>(self.channel(), format!("c {client_id} {cutoff}")))
                .await?;
        }
        Ok(raised == 1)
    }

    /// Keeps the local copy in step with the channel, reconnecting forever. While not
    /// subscribed the copy is not used, and it starts over on every (re)subscription;
    /// `reload` is woken to load a snapshot then, and after a rebuild.
    pub(crate) async fn follow(self: Arc<Self>, cache: Arc<LocalCache>, reload: Arc<Notify>) {
        let (client, channel) = (self.client.clone(), self.channel());
        crate::pubsub::follow(client, channel, |event| match event {
            Event::Subscribed => {
                cache.clear();
                self.subscribed.store(true, Ordering::Release);
                // Loaded after subscribing, so no revocation falls between the two.
                reload.notify_one();
                tracing::info!("revocation channel subscribed");
            }
            Event::Message(payload) => {
                let reload_now = match payload {
                    Some(payload) => apply_message(&cache, &payload),
                    None => {
                        cache.clear();
                        true
                    }
                };
                if reload_now {
                    reload.notify_one();
                }
            }
            Event::Lost => {
                self.subscribed.store(false, Ordering::Release);
                cache.clear();
                tracing::warn!("revocation channel lost; checking Redis or the database directly");
            }
        })
        .await;
    }

    /// Loads snapshots into `cache` while subscribed: when woken, and every 30 s (every
    /// second while none could be loaded).
    pub(crate) async fn keep_loaded(self: Arc<Self>, cache: Arc<LocalCache>, reload: Arc<Notify>) {
        loop {
            let wait = if self.subscribed() {
                self.refresh(&cache).await
            } else {
                SNAPSHOT_EVERY
            };
            let _ = tokio::time::timeout(wait, reload.notified()).await;
        }
    }

    /// Loads one snapshot into `cache`; returns how long until the next. When Redis is not
    /// complete (flushed, not rebuilt yet) a complete copy is kept as it is: it holds every
    /// revocation it was told of, and the rebuild announces itself (`r`).
    async fn refresh(&self, cache: &LocalCache) -> Duration {
        cache.begin_snapshot();
        let expected = cache.revoked_len();
        let result = tokio::time::timeout(SNAPSHOT_TIMEOUT, self.snapshot(expected)).await;
        match result {
            Ok(Ok(Some(snapshot))) => {
                tracing::debug!(
                    tokens = snapshot.revoked.len(),
                    clients = snapshot.cutoffs.len(),
                    "revocation snapshot loaded"
                );
                cache.install(snapshot);
            }
            Ok(Ok(None)) => tracing::debug!("revocation snapshot skipped: cache not complete"),
            Ok(Err(error)) => tracing::debug!(%error, "revocation snapshot failed"),
            Err(_) => tracing::debug!("revocation snapshot timed out"),
        }
        cache.abandon_snapshot();
        // (A snapshot begun before a reset was not installed: the copy is not complete.)
        if cache.is_complete() {
            SNAPSHOT_EVERY
        } else {
            SNAPSHOT_RETRY
        }
    }

    /// Every revoked token and client cut-off in Redis; `None` if the cache is not complete
    /// (no `rev:ready`, before or after the scan).
    /// `expected`: about how many revoked tokens there are (the copy's count), so the new
    /// copy is allocated once rather than grown by doubling beside the old one.
    async fn snapshot(&self, expected: usize) -> Result<Option<Snapshot>, SharedError> {
        let mut conn = self.connection().await?;
        let ready = self.key(&["ready"]);
        if !conn.exists::<_, bool>(&ready).await? {
            return Ok(None);
        }
        let jti_prefix = self.key(&["jti", ""]);
        let client_prefix = self.key(&["client", ""]);
        let mut snapshot = Snapshot::default();
        snapshot.revoked.reserve(expected + expected / 16);
        let mut client_keys = Vec::new();
        {
            let options = redis::ScanOptions::default()
                .with_pattern(format!("{}:rev:*", self.prefix))
                .with_count(SNAPSHOT_BATCH);
            let mut keys = conn.scan_options::<String>(options).await?;
            while let Some(key) = keys.next_item().await {
                let key = key?;
                if let Some(jti) = key.strip_prefix(&jti_prefix) {
                    snapshot.revoked.push(jti);
                } else if key.starts_with(&client_prefix) {
                    client_keys.push(key);
                }
            }
        }
        for batch in client_keys.chunks(SNAPSHOT_BATCH) {
            let values: Vec<Option<String>> = conn.mget(batch).await?;
            for (key, value) in batch.iter().zip(values) {
                if let (Some(client), Some(cutoff)) = (
                    key.strip_prefix(&client_prefix),
                    value.and_then(|v| v.parse::<i64>().ok()),
                ) {
                    snapshot.cutoffs.insert(client.to_owned(), cutoff);
                }
            }
        }
        if !conn.exists::<_, bool>(&ready).await? {
            return Ok(None);
        }
        snapshot.revoked.seal();
        Ok(Some(snapshot))
    }

    /// Tells every follower to reload its copy (after a rebuild, which publishes nothing
    /// else).
    #[cfg(feature = "server")]
    pub(crate) async fn announce_rebuild(&self) -> Result<(), SharedError> {
        let mut conn = self.connection().await?;
        timed(conn.publish::<_, _, ()>(self.channel(), "r")).await
    }
}

mod counted;

/// Applies one message; true when the copy needs a snapshot now (after a rebuild, or a
/// message it cannot read, which resets it).
fn apply_message(cache: &LocalCache, payload: &str) -> bool {
    let mut parts = payload.split(' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("j"), Some(jti), None) => cache.token_revoked(jti),
        (Some("u"), Some(client), None) => cache.client_changed(client),
        (Some("c"), Some(client), Some(cutoff)) => match cutoff.parse() {
            Ok(cutoff) => cache.cutoff_raised(client, cutoff),
            Err(_) => {
                cache.clear();
                return true;
            }
        },
        (Some("r"), None, None) => return true,
        _ => {
            cache.clear();
            return true;
        }
    }
    false
}
