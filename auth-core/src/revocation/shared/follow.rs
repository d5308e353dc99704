//! Following the change log: each verifier's copy kept current by one message per change.
//!
//! Messages carry their sequence number. The follower applies every message as it comes
//! (revocations only grow, so applying one early or twice is harmless) and tracks its
//! position in the sequence:
//!
//! - the next number: its position advances;
//! - a number it has already applied with the same change (the log was read back while the
//!   message was in flight): nothing to do;
//! - a gap (a message was missed): the copy is suspended and the missing stretch is read
//!   back from the log (`XRANGE`), checking that the log still holds the follower's last
//!   change as it knew it (the same history); if it does not, or the gap is longer than
//!   the log, a snapshot is loaded and merged;
//! - a lower number that it has not seen (Redis was flushed, or a replica with a shorter
//!   history took over): its position is dropped and a snapshot merged. The copy stays in
//!   use meanwhile, as nothing was missed on this subscription;
//! - `r` (a rebuild wrote keys without messages): a snapshot is merged.
//!
//! After a lost subscription the copy is suspended and the follower catches up from its
//! position when subscribed again. A snapshot is loaded only when the follower starts,
//! after a rebuild, or when the log cannot fill a gap: never on a timer. Expired entries
//! are pruned from memory every minute.

use std::collections::VecDeque;
use std::hash::{BuildHasher as _, RandomState};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::SharedCache;
use super::snapshot::LogEntry;
use crate::pubsub::Event;
use crate::revocation::cache::LocalCache;
use crate::time::Timestamp;

/// How many changes a catch-up reads back at most (beyond: a snapshot).
const CATCH_UP_MAX: usize = 5_000;
/// How many applied changes are remembered, to recognise a message the log already gave.
const REMEMBERED: usize = CATCH_UP_MAX + 1_000;
/// How soon a failed catch-up or snapshot is tried again.
const RETRY: Duration = Duration::from_secs(1);
/// How long loading a snapshot may take.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(30);
/// How often expired entries are dropped from memory.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// What the follower still owes its copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Owed {
    Nothing,
    /// Read the missed changes back from the log.
    CatchUp,
    /// Load and merge a snapshot.
    Snapshot,
}

/// One follower per process; see the module documentation.
pub(crate) struct Follower {
    shared: Arc<SharedCache>,
    cache: Arc<LocalCache>,
    lifetime_secs: i64,
    /// The last change applied in sequence, and the ones before it (hashes, newest last).
    position: Option<u64>,
    applied: VecDeque<u64>,
    hasher: RandomState,
    owed: Owed,
}

impl Follower {
    pub(crate) fn new(
        shared: Arc<SharedCache>,
        cache: Arc<LocalCache>,
        lifetime_secs: i64,
    ) -> Self {
        Self {
            shared,
            cache,
            lifetime_secs,
            position: None,
            applied: VecDeque::new(),
            hasher: RandomState::new(),
            owed: Owed::Snapshot,
        }
    }

    /// Follows the change channel for the life of the runtime.
    pub(crate) async fn run(mut self) {
        let (sender, mut events) = mpsc::unbounded_channel();
        let (settings, channel) = (self.shared.settings().clone(), self.shared.channel());
        tokio::spawn(crate::pubsub::follow(settings, channel, move |event| {
            let _ = sender.send(event);
        }));
        let mut prune = tokio::time::interval(PRUNE_EVERY);
        prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut retry_at: Option<tokio::time::Instant> = None;
        loop {
            // What is owed is done before waiting for anything else (a change that arrived
            // while the last snapshot loaded may owe another).
            if self.owed != Owed::Nothing && retry_at.is_none() && self.shared.subscribed() {
                match self.settle().await {
                    Ok(()) => {
                        // Changes that came while reading are applied before the copy is
                        // used.
                        while let Ok(event) = events.try_recv() {
                            self.on_event(event);
                        }
                        if self.owed == Owed::Nothing && self.shared.subscribed() {
                            self.cache.resume();
                        }
                    }
                    Err(error) => {
                        tracing::debug!(%error, "revocation copy not brought up to date yet");
                        retry_at = Some(tokio::time::Instant::now() + RETRY);
                    }
                }
                continue;
            }
            let retry = async {
                match retry_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                event = events.recv() => match event {
                    Some(event) => self.on_event(event),
                    None => return,
                },
                _ = prune.tick() => {
                    let pruned = self.cache.prune(Timestamp::now(), self.lifetime_secs);
                    if pruned > 0 {
                        tracing::debug!(pruned, "expired revocations dropped from memory");
                    }
                }
                () = retry => retry_at = None,
            }
            while let Ok(event) = events.try_recv() {
                self.on_event(event);
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Subscribed => {
                self.shared.set_subscribed(true);
                self.owe(Owed::CatchUp);
                tracing::info!("revocation channel subscribed");
            }
            Event::Lost => {
                self.shared.set_subscribed(false);
                self.cache.suspend();
                self.owe(Owed::CatchUp);
                tracing::warn!("revocation channel lost; checking Redis or the database directly");
            }
            Event::Message(Some(payload)) => self.on_message(&payload),
            Event::Message(None) => self.lost_track(),
        }
    }

    fn on_message(&mut self, payload: &str) {
        // A message without a number comes from a process of an earlier version: applied,
        // outside the sequence.
        let (seq, change) = match payload.split_once(' ') {
            Some((seq, change)) if let Ok(seq) = seq.parse::<u64>() => (Some(seq), change),
            _ => (None, payload),
        };
        let Some(rebuilt) = self.apply(change) else {
            return self.lost_track();
        };
        if rebuilt {
            self.owe(Owed::Snapshot);
        }
        let Some(seq) = seq else {
            return;
        };
        match self.position {
            Some(at) if seq == at + 1 => self.advance(seq, change),
            _ if self.remembers(seq, change) => {}
            // Before the first snapshot: it will say where the sequence stands.
            None => {}
            Some(at) if seq > at => {
                self.cache.suspend();
                self.owe(Owed::CatchUp);
            }
            Some(_) => {
                tracing::info!("revocation log history changed (Redis flushed or failed over)");
                self.position = None;
                self.owe(Owed::Snapshot);
            }
        }
    }

    /// A message could not be read: something may be missed, and only a snapshot says what.
    fn lost_track(&mut self) {
        self.cache.suspend();
        self.position = None;
        self.owe(Owed::Snapshot);
    }

    fn owe(&mut self, owed: Owed) {
        self.owed = self.owed.max(owed);
    }

    fn hash(&self, change: &str) -> u64 {
        self.hasher.hash_one(change)
    }

    fn advance(&mut self, seq: u64, change: &str) {
        let hash = self.hash(change);
        self.position = Some(seq);
        self.applied.push_back(hash);
        if self.applied.len() > REMEMBERED {
            self.applied.pop_front();
        }
    }

    /// Whether `seq` was applied in sequence with this very change.
    fn remembers(&self, seq: u64, change: &str) -> bool {
        let Some(at) = self.position else {
            return false;
        };
        let Some(back) = at.checked_sub(seq) else {
            return false;
        };
        let len = self.applied.len() as u64;
        back < len
            && usize::try_from(len - 1 - back)
                .ok()
                .and_then(|index| self.applied.get(index))
                == Some(&self.hash(change))
    }

    /// Applies one change to the copy; `Some(true)` for a rebuild, `None` if unreadable.
    fn apply(&self, change: &str) -> Option<bool> {
        let mut parts = change.split(' ');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("j"), Some(jti), expiry, None) => {
                let expires_at = match expiry {
                    Some(expiry) => expiry.parse().ok()?,
                    None => Timestamp::now().as_secs() + self.lifetime_secs,
                };
                self.cache.token_revoked(jti, expires_at);
            }
            (Some("u"), Some(client), None, None) => self.cache.client_changed(client),
            (Some("c"), Some(client), Some(cutoff), None) => {
                self.cache.cutoff_raised(client, cutoff.parse().ok()?);
            }
            (Some("r"), None, None, None) => return Some(true),
            _ => return None,
        }
        Some(false)
    }

    /// Does what is owed: reads the gap back from the log, or loads a snapshot.
    async fn settle(&mut self) -> Result<(), super::SharedError> {
        if self.owed == Owed::CatchUp && self.catch_up().await? {
            self.owed = Owed::Nothing;
            self.shared.metrics.revocation_copy_load("log");
            return Ok(());
        }
        self.load_snapshot().await
    }

    /// Reads every change after the position from the log; false when the log cannot say
    /// (it no longer holds the position's change as applied, or the gap is too long).
    async fn catch_up(&mut self) -> Result<bool, super::SharedError> {
        let Some(at) = self.position else {
            return Ok(false);
        };
        let entries = self.shared.read_log(at, CATCH_UP_MAX + 1).await?;
        if entries.len() > CATCH_UP_MAX {
            return Ok(false);
        }
        // Position 0: nothing was ever logged when the follower looked; the log must start
        // at 1. Otherwise it must still hold the follower's last change, as applied.
        let rest = match entries.split_first() {
            _ if at == 0 => &entries[..],
            Some((first, rest)) if first.seq == at && self.remembers(at, &first.change) => rest,
            _ => return Ok(false),
        };
        for LogEntry { seq, change } in rest {
            if self.position.map(|p| p + 1) != Some(*seq) || self.apply(change).is_none() {
                return Ok(false);
            }
            if change == "r" {
                self.owe(Owed::Snapshot);
                return Ok(false);
            }
            self.advance(*seq, change);
        }
        Ok(true)
    }

    /// Loads a snapshot and merges it; the position becomes the log's before the snapshot
    /// was read (changes after it arrive as messages).
    async fn load_snapshot(&mut self) -> Result<(), super::SharedError> {
        let expected = self.cache.revoked_len();
        let loaded = tokio::time::timeout(
            SNAPSHOT_TIMEOUT,
            self.shared
                .snapshot(expected, REMEMBERED, self.lifetime_secs),
        )
        .await
        .map_err(|_| super::SharedError::Timeout)??;
        let Some((snapshot, head)) = loaded else {
            return Err(super::SharedError::NotReady);
        };
        tracing::debug!(
            tokens = snapshot.revoked.len(),
            clients = snapshot.cutoffs.len(),
            seq = head.seq,
            "revocation snapshot loaded"
        );
        self.cache.merge(snapshot);
        self.shared.metrics.revocation_copy_load("snapshot");
        self.applied.clear();
        // The log's last entries, oldest first, as far as they run in sequence to its head.
        let mut recent: Vec<&LogEntry> = head
            .recent
            .iter()
            .zip(0u64..)
            .take_while(|(entry, back)| Some(entry.seq) == head.seq.checked_sub(*back))
            .map(|(entry, _)| entry)
            .collect();
        recent.reverse();
        self.position = None;
        for entry in recent {
            self.position = Some(entry.seq - 1);
            self.advance(entry.seq, &entry.change);
        }
        self.position = Some(head.seq);
        self.owed = Owed::Nothing;
        Ok(())
    }
}
