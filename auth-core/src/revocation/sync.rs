//! Keeps the shared cache in step with the database (feature `server`).
//!
//! Every process with a database runs a syncer; one at a time holds the lease
//! (`shared::lease`) and does the work, the others only try to take the lease each second.
//! The holder, each second:
//!
//! - rebuilds the whole cache when Redis is not complete (flushed, restarted empty, new),
//!   then announces it (`r`) so every follower merges a snapshot;
//! - otherwise applies, once each, the revocations of the last minute it has not yet
//!   confirmed: one written while Redis was away, or by a process that died before
//!   publishing, still reaches every verifier; one already in Redis costs one command and
//!   publishes nothing. Each revocation thus costs Redis a bounded number of commands,
//!   whatever the number of replicas;
//! - then writes a mark: the time and a random id. Replication keeps order, so a Redis that
//!   holds a mark holds every change written before it. When the mark read back is not the
//!   holder's own (Redis lost writes: a failover to a lagging replica, a restart from an
//!   older dump), or the holder is new, it applies every revocation since that mark was
//!   written (a minute earlier, to be safe), or all of them when there is no mark: what
//!   Redis lost is written and announced again, one message each;
//! - every ten minutes, purges records that no longer matter.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use super::db;
use super::shared::{Announce, Change, SharedCache, SharedError};
use crate::store::Store;
use crate::time::Timestamp;

const TICK: Duration = Duration::from_secs(1);
/// How long the lease lasts unless renewed: a dead holder is replaced after this.
const LEASE: Duration = Duration::from_secs(5);
/// How far back the holder looks for revocations Redis may lack.
const RECENT_SECS: i64 = 60;
const PURGE_EVERY: u32 = 600;
const REBUILD_LOCK: Duration = Duration::from_secs(30);
/// Changes written per pipeline during a rebuild.
const REBUILD_BATCH: usize = 500;

pub(crate) struct Syncer {
    pub shared: Arc<SharedCache>,
    pub store: Store,
    pub lifetime_secs: i64,
}

/// What the lease holder knows between ticks.
#[derive(Default)]
struct Holding {
    /// The mark this process wrote last; `None`: not holding the lease (or not since its
    /// last look found another mark).
    mark: Option<String>,
    /// The recent revocations known to be in Redis.
    confirmed: HashSet<Record>,
}

/// One revocation as the database lists it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Record {
    Token(String, i64),
    Cutoff(String, i64),
}

impl Syncer {
    pub(crate) async fn run(self) {
        let holder = crate::ids::random_id();
        let mut holding = Holding::default();
        let mut ticks: u32 = 0;
        loop {
            match self.tick(&holder, &mut holding).await {
                Ok(()) => {}
                Err(error) => {
                    tracing::debug!(%error, "revocation sync skipped");
                    // Whatever was confirmed may not have been: start over.
                    holding.confirmed.clear();
                }
            }
            ticks = ticks.wrapping_add(1);
            if holding.mark.is_some() && ticks.is_multiple_of(PURGE_EVERY) {
                self.purge().await;
            }
            tokio::time::sleep(TICK).await;
        }
    }

    async fn tick(&self, holder: &str, holding: &mut Holding) -> Result<(), SyncError> {
        let Some(lease) = self.shared.claim_lease(holder, LEASE).await? else {
            *holding = Holding::default();
            return Ok(());
        };
        if !lease.ready {
            holding.confirmed.clear();
            holding.mark = None;
            if self.rebuild().await? {
                self.new_mark(holding).await?;
            }
            return Ok(());
        }
        let now = Timestamp::now();
        let oldest = now.plus_secs(-self.lifetime_secs);
        let since = if lease.mark.is_some() && lease.mark == holding.mark {
            now.plus_secs(-RECENT_SECS)
        } else {
            if holding.mark.is_some() {
                tracing::warn!("the shared revocation cache lost writes; writing them again");
            }
            holding.confirmed.clear();
            holding.mark = None;
            lease
                .mark
                .as_deref()
                .and_then(mark_time)
                .map_or(oldest, |at| at.plus_secs(-RECENT_SECS).max(oldest))
        };
        let recent = self
            .store
            .run(move |conn| db::changed_since(conn, now, since))
            .await?;
        let listed = records(&recent);
        let mut repaired = 0;
        let mut applied = false;
        for record in &listed {
            if holding.confirmed.contains(record) {
                continue;
            }
            applied = true;
            if self.apply(record, now).await? {
                repaired += 1;
            }
        }
        if repaired > 0 {
            tracing::info!(
                repaired,
                "revocations missing from the shared cache written"
            );
        }
        // Only the last minute is looked at again: what is confirmed of it.
        let horizon = now.plus_secs(-RECENT_SECS);
        holding.confirmed = if since < horizon {
            self.store
                .run(move |conn| db::changed_since(conn, now, horizon))
                .await
                .map(|window| records(&window))
                .unwrap_or(listed)
                .into_iter()
                .collect()
        } else {
            listed.into_iter().collect()
        };
        if applied || holding.mark.is_none() {
            self.new_mark(holding).await?;
        }
        Ok(())
    }

    async fn new_mark(&self, holding: &mut Holding) -> Result<(), SharedError> {
        let mark = format!(
            "{}.{}",
            Timestamp::now().as_micros(),
            crate::ids::random_id()
        );
        self.shared.write_mark(&mark).await?;
        holding.mark = Some(mark);
        Ok(())
    }

    /// Writes one revocation, publishing it if Redis lacked it; true if it did.
    async fn apply(&self, record: &Record, now: Timestamp) -> Result<bool, SharedError> {
        match record {
            Record::Token(jti, expires_at) => {
                self.shared
                    .token_revoked(jti, *expires_at, Announce::IfNews)
                    .await
            }
            Record::Cutoff(client, cutoff) => {
                let keep_ms = keep_ms(*cutoff, now, self.lifetime_secs);
                self.shared
                    .cutoff_raised(client, *cutoff, keep_ms, Announce::IfNews)
                    .await
            }
        }
    }

    /// Writes every active revocation into Redis, then marks the cache complete and
    /// announces it. Returns false when another process holds the rebuild lock.
    pub(crate) async fn rebuild(&self) -> Result<bool, SyncError> {
        if !self.shared.try_lock_rebuild(REBUILD_LOCK).await? {
            return Ok(false);
        }
        let now = Timestamp::now();
        let lifetime = self.lifetime_secs;
        let result = async {
            let all = self
                .store
                .run(move |conn| db::all_active(conn, now, lifetime))
                .await?;
            let records = records(&all);
            for batch in records.chunks(REBUILD_BATCH) {
                let changes: Vec<Change<'_>> = batch
                    .iter()
                    .map(|record| match record {
                        Record::Token(jti, expires_at) => Change::Token {
                            jti,
                            expires_at: *expires_at,
                        },
                        Record::Cutoff(client_id, cutoff) => Change::Cutoff {
                            client_id,
                            cutoff: *cutoff,
                            keep_ms: keep_ms(*cutoff, now, lifetime),
                        },
                    })
                    .collect();
                self.shared.write_silently(&changes).await?;
            }
            self.shared.mark_ready().await?;
            self.shared.announce_rebuild().await?;
            tracing::info!(
                tokens = all.tokens.len(),
                clients = all.cutoffs.len(),
                "revocation cache rebuilt from the database"
            );
            Ok::<_, SyncError>(())
        }
        .await;
        let _ = self.shared.unlock_rebuild().await;
        result.map(|()| true)
    }

    async fn purge(&self) {
        let lifetime = self.lifetime_secs;
        match self
            .store
            .run(move |conn| db::purge(conn, Timestamp::now(), lifetime))
            .await
        {
            Ok(removed) if removed > 0 => {
                tracing::info!(removed, "purged expired revocation records")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "purging revocation records failed"),
        }
    }
}

/// When a mark was written (`<micros>.<random>`).
fn mark_time(mark: &str) -> Option<Timestamp> {
    let (micros, _) = mark.split_once('.')?;
    micros.parse().ok().map(Timestamp::from_micros)
}

fn records(set: &db::RevocationSet) -> Vec<Record> {
    let tokens = set
        .tokens
        .iter()
        .map(|(jti, expires_at)| Record::Token(jti.clone(), *expires_at));
    let cutoffs = set
        .cutoffs
        .iter()
        .map(|(client, cutoff)| Record::Cutoff(client.clone(), cutoff.to_wire()));
    tokens.chain(cutoffs).collect()
}

/// How long Redis keeps a cut-off given in its wire form.
fn keep_ms(cutoff: i64, now: Timestamp, lifetime_secs: i64) -> i64 {
    super::keep_cutoff_ms(super::Cutoff::from_wire(cutoff), now, lifetime_secs)
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum SyncError {
    #[error(transparent)]
    Shared(#[from] SharedError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}
