//! The syncers' lease (feature `server`): of all processes with a database, one at a time
//! repairs the shared cache, so the repair costs Redis the same whatever the number of
//! replicas.

use std::time::Duration;

use redis::AsyncCommands as _;

use super::{SharedCache, SharedError, timed};

/// Takes or renews the lease. KEYS: lease, ready, mark. ARGV: holder, lease in ms. Returns
/// `{held, ready, mark}`.
const CLAIM_SCRIPT: &str = r"
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
elseif not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  return {0, 0, false}
end
return {1, redis.call('EXISTS', KEYS[2]), redis.call('GET', KEYS[3])}
";

/// What the lease holder learns with each renewal.
#[derive(Debug)]
pub(crate) struct Lease {
    /// `rev:ready` is set.
    pub ready: bool,
    /// The last mark written (see [`SharedCache::write_mark`]).
    pub mark: Option<String>,
}

impl SharedCache {
    /// Takes or renews the lease for `holder`; `None` while another process holds it.
    pub(crate) async fn claim_lease(
        &self,
        holder: &str,
        lease: Duration,
    ) -> Result<Option<Lease>, SharedError> {
        let mut conn = self.connection().await?;
        let (held, ready, mark): (i64, i64, Option<String>) = timed(
            redis::Script::new(CLAIM_SCRIPT)
                .key(self.key(&["sync-lease"]))
                .key(self.key(&["ready"]))
                .key(self.key(&["sync-mark"]))
                .arg(holder)
                .arg(u64::try_from(lease.as_millis()).unwrap_or(5_000))
                .invoke_async(&mut conn),
        )
        .await?;
        Ok((held == 1).then_some(Lease {
            ready: ready == 1,
            mark,
        }))
    }

    /// Writes a new mark after the changes it vouches for. Replication keeps order, so a
    /// Redis that still holds the mark holds every change written before it: a lease holder
    /// that reads back another mark knows writes were lost (a failover to a replica that
    /// lagged, a restart from an older dump).
    pub(crate) async fn write_mark(&self, mark: &str) -> Result<(), SharedError> {
        let mut conn = self.connection().await?;
        timed(conn.set::<_, _, ()>(self.key(&["sync-mark"]), mark)).await
    }
}
