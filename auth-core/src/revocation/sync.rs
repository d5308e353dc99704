//! Keeps the shared cache in step with the database (feature `server`).
//!
//! Every process with a database runs one: each second it re-applies the last minute of
//! revocations (idempotent; publishes only what is news), and after Redis was unreachable
//! or lost its data it rebuilds the whole cache, then announces it (`r`) so every follower
//! reloads its copy: a revocation written while Redis was away, or by a process that died
//! before publishing, still reaches every verifier.
//! Every ten minutes it purges records that no longer matter.

use std::sync::Arc;
use std::time::Duration;

use super::db;
use super::shared::{SharedCache, SharedError};
use crate::store::Store;
use crate::time::Timestamp;

const TICK: Duration = Duration::from_secs(1);
const RECENT_SECS: i64 = 60;
const PURGE_EVERY: u32 = 600;
const REBUILD_LOCK: Duration = Duration::from_secs(30);

pub(crate) struct Syncer {
    pub shared: Arc<SharedCache>,
    pub store: Store,
    pub lifetime_secs: i64,
}

impl Syncer {
    pub(crate) async fn run(self) {
        let mut needs_rebuild = true;
        let mut ticks: u32 = 0;
        loop {
            match self.tick(needs_rebuild).await {
                Ok(rebuilt_or_current) => needs_rebuild = !rebuilt_or_current,
                Err(error) => {
                    tracing::debug!(%error, "revocation sync skipped");
                    needs_rebuild = true;
                }
            }
            ticks = ticks.wrapping_add(1);
            if ticks.is_multiple_of(PURGE_EVERY) {
                self.purge().await;
            }
            tokio::time::sleep(TICK).await;
        }
    }

    /// Returns false when a rebuild is still owed (another process holds the lock).
    async fn tick(&self, force_rebuild: bool) -> Result<bool, SyncError> {
        if force_rebuild || !self.shared.is_ready().await? {
            return self.rebuild().await;
        }
        let now = Timestamp::now();
        let since = now.plus_secs(-RECENT_SECS);
        let recent = self
            .store
            .run(move |conn| db::changed_since(conn, now, since))
            .await?;
        self.apply(&recent, true).await?;
        Ok(true)
    }

    /// Writes every active revocation into Redis, then marks the cache complete.
    pub(crate) async fn rebuild(&self) -> Result<bool, SyncError> {
        if !self.shared.try_lock_rebuild(REBUILD_LOCK).await? {
            return Ok(self.shared.is_ready().await?);
        }
        let now = Timestamp::now();
        let lifetime = self.lifetime_secs;
        let result = async {
            let all = self
                .store
                .run(move |conn| db::all_active(conn, now, lifetime))
                .await?;
            self.apply(&all, false).await?;
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

    async fn apply(&self, set: &db::RevocationSet, publish: bool) -> Result<(), SyncError> {
        let now = Timestamp::now();
        for (jti, expires) in &set.tokens {
            self.shared.token_revoked(jti, *expires, publish).await?;
        }
        for (client, cutoff) in &set.cutoffs {
            let keep_ms = super::keep_cutoff_ms(*cutoff, now, self.lifetime_secs);
            self.shared
                .cutoff_raised(client, cutoff.to_wire(), keep_ms, publish)
                .await?;
        }
        Ok(())
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

#[derive(Debug, thiserror::Error)]
pub(crate) enum SyncError {
    #[error(transparent)]
    Shared(#[from] SharedError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}
