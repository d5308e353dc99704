//! The shared revocation cache in Redis, and the sequenced change log that carries changes.
//!
//! Keys (under the configured prefix): `rev:jti:<jti>` for revoked tokens (the token's
//! expiry in seconds, kept a minute longer: verifiers allow 30 s of clock skew); `rev:client:<id>` for a client's
//! cut-off in microseconds (only ever raised), expiring once every token it covers has;
//! `rev:ready`, set once the cache holds everything the database does. A flushed or
//! restarted Redis has no `rev:ready`, so no verifier trusts its emptiness: those with a
//! database use it and rebuild the cache, those without fail closed until the rebuild is
//! done.
//!
//! Every change is one script call that writes the key and, when it is news, numbers the
//! change (`rev:seq`), chains it to the ones before (`rev:chain`, see [`CHANGE_SCRIPT`]),
//! appends it to the log (`rev:log`, a stream trimmed to about [`LOG_LENGTH`] entries, entry
//! id `<seq>-0`, fields `m` the change and `c` its link) and publishes `<seq> <link>
//! <change>` on `rev:events`: `j <jti> <expiry secs>`, `c <client_id> <cutoff>`, `u
//! <client_id>` for a change that revokes nothing (scopes added), so caches of client state
//! drop it, and `r <nonce>` after a rebuild. One command per change, whatever the number of verifiers; followers (see
//! `follow`) apply messages in sequence, read a gap back from the log, and load a snapshot
//! only when they start or the log cannot fill the gap.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::AsyncCommands as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// How long one Redis command may take before the check falls back.
pub(crate) const REDIS_TIMEOUT: Duration = Duration::from_millis(500);
/// About how many changes the log keeps: a follower that missed fewer reads them back
/// instead of loading a snapshot.
pub(crate) const LOG_LENGTH: u32 = 10_000;

/// The connection slots of [`SharedCache`].
const CHECKS: usize = 0;
const CHANGES: usize = 1;

/// How long a write keeps trying through a Sentinel failover.
const FAILOVER_PATIENCE: Duration = Duration::from_secs(5);
/// How long a write waits for a replica to confirm it (Sentinel).
const REPLICA_WAIT_MS: u64 = 250;

/// One change: writes its key if it is news (a token not yet revoked, a cut-off that rises),
/// then, if asked to, numbers it, chains it (`rev:chain`: the first 16 hex digits of the
/// SHA-1 of the previous link and the change, so equal links at equal numbers mean equal
/// histories), logs it and publishes it. KEYS: seq, log, chain, the change's key (for `j`
/// and `c`). ARGV: kind, change, value, expiry (EXAT seconds for `j`, PX for `c`), publish
/// (`1`/`0`), channel, log length. Returns 1 if it was news.
const CHANGE_SCRIPT: &str = r"
local kind = ARGV[1]
if kind == 'j' then
  if not redis.call('SET', KEYS[4], ARGV[3], 'NX', 'EXAT', ARGV[4]) then return 0 end
elseif kind == 'c' then
  local current = tonumber(redis.call('GET', KEYS[4]) or '0')
  if tonumber(ARGV[3]) <= current then return 0 end
  redis.call('SET', KEYS[4], ARGV[3], 'PX', ARGV[4])
end
if ARGV[5] == '1' then
  local seq = redis.call('INCR', KEYS[1])
  local link = string.sub(redis.sha1hex((redis.call('GET', KEYS[3]) or '') .. ARGV[2]), 1, 16)
  redis.call('SET', KEYS[3], link)
  local id = seq .. '-0'
  local added = redis.pcall('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], id, 'm', ARGV[2], 'c', link)
  if type(added) == 'table' and added.err then
    -- The log is ahead of the sequence (the counter alone was lost): start it again;
    -- followers see the history change and load a snapshot.
    redis.call('DEL', KEYS[2])
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], id, 'm', ARGV[2], 'c', link)
  end
  redis.call('PUBLISH', ARGV[6], seq .. ' ' .. link .. ' ' .. ARGV[2])
end
return 1
";

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
    conns: [std::sync::Mutex<Option<ConnectionManager>>; 2],
    prefix: String,
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
            prefix: redis.key_prefix().to_owned(),
            subscribed: AtomicBool::new(false),
            change: redis::Script::new(CHANGE_SCRIPT),
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
    pub(crate) async fn connection(&self) -> Result<ConnectionManager, SharedError> {
        self.connection_for(CHECKS).await
    }

    /// The connection of `slot` ([`CHECKS`] or [`CHANGES`]), made on first use; it
    /// reconnects by itself afterwards.
    async fn connection_for(&self, slot: usize) -> Result<ConnectionManager, SharedError> {
        let conn = &self.conns[slot];
        if let Some(conn) = conn
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
        // Boxed: connecting is rare, and its future (Sentinel's discovery) is deep.
        let made = timed(Box::pin(async {
            let client = self.settings.current_client().await?;
            client.get_connection_manager_with_config(config).await
        }))
        .await?;
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

    /// The [`CHANGE_SCRIPT`] call for one change.
    fn invocation(&self, change: &Change<'_>, publish: bool) -> redis::ScriptInvocation<'_> {
        let mut invocation = self.change.prepare_invoke();
        invocation
            .key(self.key(&["seq"]))
            .key(self.key(&["log"]))
            .key(self.key(&["chain"]));
        match *change {
            Change::Token { jti, expires_at } => {
                let expiry = expires_at.max(0).saturating_add(super::EXPIRY_MARGIN_SECS);
                invocation
                    .key(self.key(&["jti", jti]))
                    .arg("j")
                    .arg(format!("j {jti} {expires_at}"))
                    .arg(expires_at)
                    .arg(expiry);
            }
            Change::Cutoff {
                client_id,
                cutoff,
                keep_ms,
            } => {
                invocation
                    .key(self.key(&["client", client_id]))
                    .arg("c")
                    .arg(format!("c {client_id} {cutoff}"))
                    .arg(cutoff)
                    .arg(keep_ms.max(1));
            }
            Change::Client { client_id } => {
                invocation
                    .arg("u")
                    .arg(format!("u {client_id}"))
                    .arg(0)
                    .arg(0);
            }
            Change::Rebuilt => {
                // Unique, so no two rebuilds ever read as the same change.
                let change = format!("r {}", crate::ids::random_id());
                invocation.arg("r").arg(change).arg(0).arg(0);
            }
        }
        invocation
            .arg(if publish { "1" } else { "0" })
            .arg(self.channel())
            .arg(LOG_LENGTH);
        invocation
    }

    /// Runs one change; true if it was news.
    ///
    /// With Sentinel, a change counts as written only once a replica has it too (`WAIT`):
    /// during a failover the old master may still accept writes that are never replicated
    /// to the new one, whose subscribers would never hear of them. A change that fails, or
    /// that no replica confirms, is tried again on a new connection (the master the
    /// sentinels name now), for up to [`FAILOVER_PATIENCE`]; a master whose replicas are all
    /// down keeps working, each change then waiting that long. One server is tried twice,
    /// 50 ms apart (a connection that is reconnecting), and then not waited for: the syncer
    /// repairs what it missed within a second, and followers that lost it stop trusting
    /// their copies.
    pub(crate) async fn change(
        &self,
        change: Change<'_>,
        publish: bool,
    ) -> Result<bool, SharedError> {
        let invocation = self.invocation(&change, publish);
        let sentinel = self.settings.is_sentinel();
        let deadline = tokio::time::Instant::now() + FAILOVER_PATIENCE;
        let mut pause = Duration::from_millis(50);
        let mut news = false;
        let mut failures = 0;
        loop {
            let result = async {
                // With Sentinel a change waits for a replica on a connection of its own;
                // otherwise it shares the connection checks keep alive (a second one,
                // idle between changes, is the one still reconnecting after a restart).
                let slot = if sentinel { CHANGES } else { CHECKS };
                let mut conn = self.connection_for(slot).await?;
                let written: i64 = timed(invocation.invoke_async(&mut conn)).await?;
                let replicated = if sentinel {
                    let wait = redis::cmd("WAIT").arg(1).arg(REPLICA_WAIT_MS).to_owned();
                    timed(wait.query_async::<i64>(&mut conn)).await? > 0
                } else {
                    true
                };
                Ok::<_, SharedError>((written == 1, replicated))
            }
            .await;
            let last_try = tokio::time::Instant::now() + pause > deadline;
            match result {
                Ok((written, replicated)) => {
                    // Written before on a master that then failed to replicate it: still
                    // news to say, since this call's caller is the one that announces it.
                    news |= written;
                    if replicated || !sentinel || last_try {
                        if !replicated {
                            tracing::warn!("a revocation was written but no replica confirmed it");
                        }
                        return Ok(news);
                    }
                    tracing::debug!(
                        "no replica confirmed a revocation; asking the sentinels again"
                    );
                }
                Err(error) if (!sentinel && failures > 0) || last_try => return Err(error),
                Err(error) => {
                    failures += 1;
                    tracing::debug!(%error, "a revocation write failed; trying again");
                }
            }
            self.forget_connection();
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }

    /// Writes many changes without announcing them (a rebuild), pipelined.
    #[cfg(feature = "server")]
    pub(crate) async fn write_silently(&self, changes: &[Change<'_>]) -> Result<(), SharedError> {
        let mut conn = self.connection().await?;
        let mut pipe = redis::pipe();
        pipe.load_script(&self.change).ignore();
        let invocations: Vec<_> = changes.iter().map(|c| self.invocation(c, false)).collect();
        for invocation in &invocations {
            pipe.invoke_script(invocation).ignore();
        }
        timed(pipe.query_async::<()>(&mut conn)).await
    }

    /// Records a revoked token expiring at `expires_at` (seconds); publishes if it is news.
    async fn token_revoked_inner(
        &self,
        jti: &str,
        expires_at: i64,
        publish: bool,
    ) -> Result<bool, SharedError> {
        self.change(Change::Token { jti, expires_at }, publish)
            .await
    }

    /// Raises a client's cut-off, keeping it for `keep_ms`; publishes if it rose.
    async fn cutoff_raised_inner(
        &self,
        client_id: &str,
        cutoff: i64,
        keep_ms: i64,
        publish: bool,
    ) -> Result<bool, SharedError> {
        let change = Change::Cutoff {
            client_id,
            cutoff,
            keep_ms,
        };
        self.change(change, publish).await
    }

    async fn client_changed_inner(&self, client_id: &str) -> Result<(), SharedError> {
        self.change(Change::Client { client_id }, true)
            .await
            .map(drop)
    }

    /// Tells every follower to load a snapshot (after a rebuild, which publishes nothing
    /// else).
    #[cfg(feature = "server")]
    pub(crate) async fn announce_rebuild(&self) -> Result<(), SharedError> {
        self.change(Change::Rebuilt, true).await.map(drop)
    }
}

/// One change of the shared cache.
pub(crate) enum Change<'a> {
    Token {
        jti: &'a str,
        expires_at: i64,
    },
    Cutoff {
        client_id: &'a str,
        cutoff: i64,
        keep_ms: i64,
    },
    /// A client changed without a revocation.
    Client {
        client_id: &'a str,
    },
    /// The cache was rebuilt.
    Rebuilt,
}

mod counted;
mod follow;
#[cfg(feature = "server")]
mod lease;
mod snapshot;

pub(crate) use follow::Follower;
#[cfg(test)]
pub(crate) use follow::next_link;
