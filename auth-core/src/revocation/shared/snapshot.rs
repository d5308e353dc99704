//! Reading the shared cache back: a whole snapshot (when a follower starts, or cannot fill a
//! gap from the log) and a stretch of the change log.

use redis::AsyncCommands as _;

use super::{SharedCache, SharedError, timed};
use crate::revocation::cache::{LocalCache, Snapshot};
use crate::time::Timestamp;

/// Keys fetched per `SCAN` step and per `MGET` while loading a snapshot.
const SNAPSHOT_BATCH: usize = 500;
/// How long one step of a snapshot may take. A snapshot as a whole has no time limit: a
/// million keys read by twenty verifiers starting together take a while, and a snapshot
/// that is abandoned and started again would never finish.
const STEP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The most ids a snapshot reserves room for up front (320 MB of address space).
const MAX_RESERVED: usize = 16 << 20;
/// An expiry below this (the year 2001) is not one: a key written before expiries were
/// recorded holds `1`.
const PLAUSIBLE_EXPIRY: i64 = 1_000_000_000;

/// One entry of the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogEntry {
    pub seq: u64,
    /// Its link in the chain (see `CHANGE_SCRIPT`): equal links, equal histories.
    pub link: u64,
    pub change: String,
}

/// Where the log stood when a snapshot began: its sequence number, its last link and its
/// last entries, newest first.
#[derive(Debug)]
pub(crate) struct LogHead {
    pub seq: u64,
    pub link: Option<u64>,
    pub recent: Vec<LogEntry>,
}

type RawEntry = (String, Vec<String>);

fn entry((id, fields): RawEntry) -> Option<LogEntry> {
    let (seq, _) = id.split_once('-')?;
    let mut fields = fields.into_iter();
    match (
        fields.next().as_deref(),
        fields.next(),
        fields.next().as_deref(),
        fields.next(),
    ) {
        (Some("m"), Some(change), Some("c"), Some(link)) => Some(LogEntry {
            seq: seq.parse().ok()?,
            link: parse_link(&link)?,
            change,
        }),
        _ => None,
    }
}

/// A link as written (16 hex digits).
pub(crate) fn parse_link(link: &str) -> Option<u64> {
    (link.len() == 16).then(|| u64::from_str_radix(link, 16).ok())?
}

async fn step<T>(work: impl Future<Output = redis::RedisResult<T>>) -> Result<T, SharedError> {
    match tokio::time::timeout(STEP_TIMEOUT, work).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(SharedError::Timeout),
    }
}

impl SharedCache {
    /// Up to `count` log entries from `from` (inclusive), in order.
    pub(crate) async fn read_log(
        &self,
        from: u64,
        count: usize,
    ) -> Result<Vec<LogEntry>, SharedError> {
        let mut conn = self.connection().await?;
        let raw: Vec<RawEntry> = timed(
            redis::cmd("XRANGE")
                .arg(self.key(&["log"]))
                .arg(format!("{from}-0"))
                .arg("+")
                .arg("COUNT")
                .arg(count)
                .query_async(&mut conn),
        )
        .await?;
        Ok(raw.into_iter().filter_map(entry).collect())
    }

    /// Every revoked token `copy` does not hold yet and every client cut-off in Redis, and
    /// where the log stood before they were read (`recent`: up to `recent` entries); `None`
    /// if the cache is not complete (no `rev:ready`, before or after the scan). Leaving out
    /// what the copy holds keeps a snapshot of a million tokens from costing a second copy
    /// of them (and Redis the `MGET`s). A token whose key records no expiry is kept for
    /// `lifetime_secs`.
    pub(crate) async fn snapshot(
        &self,
        copy: &LocalCache,
        recent: usize,
        lifetime_secs: i64,
    ) -> Result<Option<(Snapshot, LogHead)>, SharedError> {
        // A connection of its own: its steps may take longer than a check may wait.
        let mut conn = step(Box::pin(self.settings().connect(STEP_TIMEOUT))).await?;
        let ready = self.key(&["ready"]);
        if !step(conn.exists::<_, bool>(&ready)).await? {
            return Ok(None);
        }
        // One transaction: the head and its last entries as of one instant.
        let (seq, link, tail): (Option<u64>, Option<String>, Vec<RawEntry>) = step(
            redis::pipe()
                .atomic()
                .get(self.key(&["seq"]))
                .get(self.key(&["chain"]))
                .cmd("XREVRANGE")
                .arg(self.key(&["log"]))
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(recent)
                .query_async(&mut conn),
        )
        .await?;
        let head = LogHead {
            seq: seq.unwrap_or(0),
            link: link.as_deref().and_then(parse_link),
            recent: tail.into_iter().filter_map(entry).collect(),
        };

        let tokens = TokenKeys {
            prefix: self.key(&["jti", ""]),
            fallback_expiry: Timestamp::now().as_secs().saturating_add(lifetime_secs),
        };
        let client_prefix = self.key(&["client", ""]);
        let mut snapshot = Snapshot::default();
        // Room for every key of the database (an upper bound; pages are only touched as
        // they fill, and the excess is given back in place when the set is sealed): a
        // vector grown by doubling would leave about half its size again behind as freed
        // memory the allocator keeps for a while.
        // Both asked of the server that holds the keys (on a Cluster, their slot's master).
        let keys: usize = step(conn.query_at(&ready, &redis::cmd("DBSIZE"))).await?;
        snapshot.revoked.reserve(keys.min(MAX_RESERVED));
        let (mut jti_keys, mut client_keys) = (Vec::new(), Vec::new());
        let pattern = self.key(&["*"]);
        let scan_from = |cursor: u64| {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SNAPSHOT_BATCH);
            scan
        };
        let mut cursor = 0;
        loop {
            let (next, batch): (u64, Vec<String>) =
                step(conn.query_at(&ready, &scan_from(cursor))).await?;
            for key in batch {
                if key.starts_with(&tokens.prefix) {
                    jti_keys.push(key);
                    if jti_keys.len() == SNAPSHOT_BATCH {
                        add_tokens(&mut conn, copy, &mut snapshot, &mut jti_keys, &tokens).await?;
                    }
                } else if key.starts_with(&client_prefix) {
                    client_keys.push(key);
                }
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        add_tokens(&mut conn, copy, &mut snapshot, &mut jti_keys, &tokens).await?;
        for batch in client_keys.chunks(SNAPSHOT_BATCH) {
            let values: Vec<Option<String>> = step(conn.mget(batch)).await?;
            for (key, value) in batch.iter().zip(values) {
                if let (Some(client), Some(cutoff)) = (
                    key.strip_prefix(&client_prefix),
                    value.and_then(|v| v.parse::<i64>().ok()),
                ) {
                    snapshot.cutoffs.insert(client.to_owned(), cutoff);
                }
            }
        }
        if !step(conn.exists::<_, bool>(&ready)).await? {
            return Ok(None);
        }
        snapshot.revoked.seal();
        Ok(Some((snapshot, head)))
    }
}

/// How the keys of revoked tokens read: their prefix, and the expiry given to a key that
/// records none.
struct TokenKeys {
    prefix: String,
    fallback_expiry: i64,
}

/// Adds the tokens of a batch of `rev:jti:` keys that `copy` does not hold (a key gone
/// meanwhile has expired), and empties the batch.
async fn add_tokens(
    conn: &mut crate::shared_redis::RedisConnection,
    copy: &LocalCache,
    snapshot: &mut Snapshot,
    keys: &mut Vec<String>,
    tokens: &TokenKeys,
) -> Result<(), SharedError> {
    copy.retain_unknown(keys, &tokens.prefix);
    if keys.is_empty() {
        return Ok(());
    }
    let values: Vec<Option<i64>> = step(conn.mget(&*keys)).await?;
    for (key, value) in keys.drain(..).zip(values) {
        let (Some(jti), Some(expires_at)) = (key.strip_prefix(&tokens.prefix), value) else {
            continue;
        };
        let expires_at = if expires_at < PLAUSIBLE_EXPIRY {
            tokens.fallback_expiry
        } else {
            expires_at
        };
        snapshot.revoked.push(jti, expires_at);
    }
    Ok(())
}
