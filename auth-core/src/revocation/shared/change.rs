//! One change of the shared cache, as one script call: the key written if it is news, and
//! then, as [`Announce`] says, numbered, chained, logged and published (see
//! [`CHANGE_SCRIPT`]); with Sentinel, confirmed by a replica.

use std::time::Duration;

use super::{CHANGES, CHECKS, LOG_LENGTH, SharedCache, SharedError, timed};

/// How long a write keeps trying through a Sentinel failover.
const FAILOVER_PATIENCE: Duration = Duration::from_secs(5);
/// How long a write waits for a replica to confirm it (Sentinel).
const REPLICA_WAIT_MS: u64 = 250;

/// One change: writes its key if it is news (a token not yet revoked, a cut-off that rises),
/// then, as [`Announce`] asks, numbers it, chains it (`rev:chain`: the first 16 hex digits
/// of the SHA-1 of the previous link and the change, so equal links at equal numbers mean
/// equal histories), logs it and publishes it. KEYS: seq, log, chain, the change's key (for
/// `j` and `c`). ARGV: kind, change, value, expiry (EXAT seconds for `j`, PX for `c`),
/// announce (`always`, `news`, `never`), channel, log length, the publishing command
/// (`PUBLISH`, or `SPUBLISH` on a Cluster: the channel shares the keys' hash tag, so it is
/// the same shard's). Returns 1 if it was news.
pub(super) const CHANGE_SCRIPT: &str = r"
local kind, announce, news = ARGV[1], ARGV[5], 1
if kind == 'j' then
  if not redis.call('SET', KEYS[4], ARGV[3], 'NX', 'EXAT', ARGV[4]) then news = 0 end
elseif kind == 'c' then
  local current = tonumber(redis.call('GET', KEYS[4]) or '0')
  if tonumber(ARGV[3]) <= current then
    news = 0
  else
    redis.call('SET', KEYS[4], ARGV[3], 'PX', ARGV[4])
  end
end
if announce == 'always' or (announce == 'news' and news == 1) then
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
  redis.call(ARGV[8], ARGV[6], seq .. ' ' .. link .. ' ' .. ARGV[2])
end
return news
";

/// Whether a change is announced (numbered, logged, published).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Announce {
    /// Always: the process that made the change. Its message must be out before its caller
    /// hears back, even when the key is there already: a rebuild may have written it
    /// silently from the database after the commit, and followers learn of a rebuild's
    /// keys only when it ends.
    Always,
    /// Only if the key was news: a token revoked again, and the syncer's repairs, which
    /// find most keys there already.
    IfNews,
    /// Never: a rebuild, announced once at its end (`r`).
    #[cfg(feature = "server")]
    Never,
}

impl Announce {
    fn as_arg(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::IfNews => "news",
            #[cfg(feature = "server")]
            Self::Never => "never",
        }
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
    /// The cache was rebuilt (only the server side rebuilds).
    #[cfg(feature = "server")]
    Rebuilt,
}

impl SharedCache {
    /// The [`CHANGE_SCRIPT`] call for one change.
    fn invocation(&self, change: &Change<'_>, announce: Announce) -> redis::ScriptInvocation<'_> {
        let mut invocation = self.change.prepare_invoke();
        invocation
            .key(self.key(&["seq"]))
            .key(self.key(&["log"]))
            .key(self.key(&["chain"]));
        match *change {
            Change::Token { jti, expires_at } => {
                let expiry = expires_at
                    .max(0)
                    .saturating_add(crate::revocation::EXPIRY_MARGIN_SECS);
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
            #[cfg(feature = "server")]
            Change::Rebuilt => {
                // Unique, so no two rebuilds ever read as the same change.
                let change = format!("r {}", crate::ids::random_id());
                invocation.arg("r").arg(change).arg(0).arg(0);
            }
        }
        invocation
            .arg(announce.as_arg())
            .arg(self.channel())
            .arg(LOG_LENGTH)
            .arg(self.settings().publish_command());
        invocation
    }

    /// Runs one change, announced as `announce` says; true if it was news.
    ///
    /// With Sentinel, a change counts as written only once a replica has it too (`WAIT`):
    /// during a failover the old master may still accept writes that are never replicated
    /// to the new one, whose subscribers would never hear of them. A change that fails, or
    /// that no replica confirms, is tried again on a new connection (the master the
    /// sentinels name now), for up to [`FAILOVER_PATIENCE`]; a master whose replicas are all
    /// down keeps working, each change then waiting that long. On a Cluster a change that
    /// fails is tried again for as long (during a failover the old master holds writes
    /// back, then redirects them), without `WAIT` (a Cluster may have no replicas). One
    /// server is tried twice, 50 ms apart (a connection that is reconnecting), and then not
    /// waited for: the syncer repairs what it missed within a second, and followers that
    /// lost it stop trusting their copies.
    pub(crate) async fn change(
        &self,
        change: Change<'_>,
        announce: Announce,
    ) -> Result<bool, SharedError> {
        let invocation = self.invocation(&change, announce);
        let sentinel = self.settings.is_sentinel();
        // Whether a failed write may succeed on a master elected meanwhile.
        let patient = sentinel || self.settings.is_cluster();
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
                Err(error) if (!patient && failures > 0) || last_try => return Err(error),
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
        let invocations: Vec<_> = changes
            .iter()
            .map(|c| self.invocation(c, Announce::Never))
            .collect();
        for invocation in &invocations {
            pipe.invoke_script(invocation).ignore();
        }
        timed(pipe.query_async::<()>(&mut conn)).await
    }

    /// Tells every follower to load a snapshot (after a rebuild, which publishes nothing
    /// else).
    #[cfg(feature = "server")]
    pub(crate) async fn announce_rebuild(&self) -> Result<(), SharedError> {
        self.change(Change::Rebuilt, Announce::Always)
            .await
            .map(drop)
    }
}
