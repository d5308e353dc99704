//! Following the change log: each verifier's copy kept current by one message per change.
//!
//! Messages carry their sequence number and their link in the log's chain (see
//! `CHANGE_SCRIPT`): a link is the SHA-1 of the previous link and the change, so the
//! follower can tell the change that comes next in its own history from one of another
//! history (a flushed Redis, a failover to a replica that had not received the last
//! changes). The follower applies every message as it comes (revocations only grow, so
//! applying one early or twice is harmless) and tracks its position:
//!
//! - the next number with the link that follows its own: its position advances;
//! - a number and link it has already applied (the log was read back while the message was
//!   in flight): nothing to do;
//! - a gap (a message was missed): the copy is suspended and the missing stretch is read
//!   back from the log (`XRANGE`), starting at the follower's own last link, each entry's
//!   link checked; if the log no longer holds that link, or the gap is longer than
//!   [`CATCH_UP_MAX`], a snapshot is merged;
//! - anything else (another history): the copy is suspended and a snapshot merged;
//! - `r` (a rebuild wrote keys without messages): the copy is suspended and a snapshot
//!   merged.
//!
//! After a lost subscription the copy is suspended and the follower catches up from its
//! position when subscribed again. A snapshot is loaded only when the follower starts,
//! after a rebuild, or when the log cannot fill a gap: never on a timer. Expired entries
//! are pruned from memory every minute.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::SharedCache;
use super::snapshot::{LogEntry, parse_link};
use crate::pubsub::Event;
use crate::revocation::cache::LocalCache;
use crate::time::Timestamp;

/// How many changes a catch-up reads back at most (beyond: a snapshot).
const CATCH_UP_MAX: usize = 5_000;
/// How many applied links are remembered, to recognise a message the log already gave.
const REMEMBERED: usize = CATCH_UP_MAX + 1_000;
/// How soon a failed catch-up or snapshot is tried again.
const RETRY: Duration = Duration::from_secs(1);
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

/// Where a follower stands in the log: the number of the last change it applied in
/// sequence and that change's link (`None` at 0: nothing logged yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    seq: u64,
    link: Option<u64>,
}

/// The link that follows `previous` with `change`, as the script computes it.
pub(crate) fn next_link(previous: Option<u64>, change: &str) -> u64 {
    let mut hasher = sha1_smol::Sha1::new();
    if let Some(previous) = previous {
        hasher.update(format!("{previous:016x}").as_bytes());
    }
    hasher.update(change.as_bytes());
    let digest = hasher.digest().bytes();
    u64::from_be_bytes([
        digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
    ])
}

/// One follower per process; see the module documentation.
pub(crate) struct Follower {
    shared: Arc<SharedCache>,
    cache: Arc<LocalCache>,
    lifetime_secs: i64,
    position: Option<Position>,
    /// The links of the last changes applied in sequence, newest last (the last is the
    /// position's).
    applied: VecDeque<u64>,
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
            owed: Owed::Snapshot,
        }
    }

    /// Follows the change channel for the life of the runtime.
    pub(crate) async fn run(mut self) {
        let (sender, mut events) = mpsc::unbounded_channel();
        let (settings, channel) = (self.shared.settings().clone(), self.shared.channel());
        let (cache, lifetime_secs) = (Arc::clone(&self.cache), self.lifetime_secs);
        let shared = Arc::clone(&self.shared);
        tokio::spawn(crate::pubsub::follow(settings, channel, move |event| {
            // Applied as it arrives, so no revocation waits for the follower's turn (a
            // catch-up or snapshot in progress); applying it again in sequence is harmless.
            // A lost subscription likewise stops the copy's answers at once.
            match &event {
                Event::Message(Some(payload)) => {
                    apply_change(&cache, lifetime_secs, parse_message(payload).2);
                }
                Event::Lost => {
                    shared.set_subscribed(false);
                    cache.suspend();
                }
                _ => {}
            }
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
                // Lookups too find the master again (it may have moved).
                self.shared.forget_connection();
                self.owe(Owed::CatchUp);
                tracing::warn!("revocation channel lost; checking Redis or the database directly");
            }
            Event::Message(Some(payload)) => self.on_message(&payload),
            Event::Message(None) => self.lost_track(),
        }
    }

    fn on_message(&mut self, payload: &str) {
        let (seq, link, change) = parse_message(payload);
        let Some(rebuilt) = self.apply(change) else {
            return self.lost_track();
        };
        if rebuilt {
            self.cache.suspend();
            self.owe(Owed::Snapshot);
        }
        let Some(seq) = seq else {
            return;
        };
        match self.position {
            Some(at) if seq == at.seq + 1 && link == next_link(at.link, change) => {
                self.advance(seq, link);
            }
            _ if self.remembers(seq, link) => {}
            // Before the first snapshot: it will say where the sequence stands.
            None => {}
            Some(at) if seq > at.seq + 1 => {
                self.cache.suspend();
                self.owe(Owed::CatchUp);
            }
            Some(_) => {
                tracing::info!("revocation log history changed (Redis flushed or failed over)");
                self.lost_track();
            }
        }
    }

    /// Something may be missed, and only a snapshot says what.
    fn lost_track(&mut self) {
        self.cache.suspend();
        self.position = None;
        self.owe(Owed::Snapshot);
    }

    fn owe(&mut self, owed: Owed) {
        self.owed = self.owed.max(owed);
    }

    fn advance(&mut self, seq: u64, link: u64) {
        self.position = Some(Position {
            seq,
            link: Some(link),
        });
        self.applied.push_back(link);
        if self.applied.len() > REMEMBERED {
            self.applied.pop_front();
        }
    }

    /// Whether change `seq` with `link` was applied in sequence.
    fn remembers(&self, seq: u64, link: u64) -> bool {
        let Some(at) = self.position else {
            return false;
        };
        let Some(back) = at.seq.checked_sub(seq) else {
            return false;
        };
        let len = self.applied.len() as u64;
        back < len
            && usize::try_from(len - 1 - back)
                .ok()
                .and_then(|index| self.applied.get(index))
                == Some(&link)
    }

    /// Applies one change to the copy; `Some(true)` for a rebuild, `None` if unreadable.
    fn apply(&self, change: &str) -> Option<bool> {
        apply_change(&self.cache, self.lifetime_secs, change)
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
    /// (it no longer holds the position's link, an entry does not follow the one before,
    /// the gap is too long, or a rebuild is in it).
    async fn catch_up(&mut self) -> Result<bool, super::SharedError> {
        let Some(at) = self.position else {
            return Ok(false);
        };
        let entries = self.shared.read_log(at.seq, CATCH_UP_MAX + 1).await?;
        if entries.len() > CATCH_UP_MAX {
            return Ok(false);
        }
        // At 0 (nothing logged when the follower looked) the log must start at 1; otherwise
        // it must still hold the follower's own last link.
        let rest = match (at.link, entries.split_first()) {
            (None, _) if at.seq == 0 => &entries[..],
            (Some(link), Some((first, rest))) if first.seq == at.seq && first.link == link => rest,
            _ => return Ok(false),
        };
        for LogEntry { seq, link, change } in rest {
            let Some(current) = self.position else {
                return Ok(false);
            };
            if *seq != current.seq + 1 || *link != next_link(current.link, change) {
                return Ok(false);
            }
            match self.apply(change) {
                Some(false) => self.advance(*seq, *link),
                Some(true) => {
                    self.owe(Owed::Snapshot);
                    return Ok(false);
                }
                None => return Ok(false),
            }
        }
        Ok(true)
    }

    /// Loads a snapshot and merges it; the position becomes the log's before the snapshot
    /// was read (changes after it arrive as messages).
    async fn load_snapshot(&mut self) -> Result<(), super::SharedError> {
        let Some((snapshot, head)) = self
            .shared
            .snapshot(&self.cache, REMEMBERED, self.lifetime_secs)
            .await?
        else {
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
        // The log's last entries, oldest first, as far as they run in sequence to its head.
        let mut recent: Vec<&LogEntry> = head
            .recent
            .iter()
            .zip(0u64..)
            .take_while(|(entry, back)| Some(entry.seq) == head.seq.checked_sub(*back))
            .map(|(entry, _)| entry)
            .collect();
        recent.reverse();
        self.applied = recent.iter().map(|entry| entry.link).collect();
        self.position = Some(Position {
            seq: head.seq,
            link: head.link,
        });
        if head.seq > 0 && head.link.is_none() {
            // A log without its chain (written by an earlier version): no catch-up can
            // start from here; the next message that is not the next one loads a snapshot.
            self.applied.clear();
        }
        self.owed = Owed::Nothing;
        Ok(())
    }
}

/// A message's number, link and change. A message without a number comes from a process of
/// an earlier version: `None`, applied outside the sequence.
fn parse_message(payload: &str) -> (Option<u64>, u64, &str) {
    let mut parts = payload.splitn(3, ' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(seq), Some(link), Some(change))
            if let (Ok(seq), Some(link)) = (seq.parse::<u64>(), parse_link(link)) =>
        {
            (Some(seq), link, change)
        }
        _ => (None, 0, payload),
    }
}

/// Applies one change to `cache`; `Some(true)` for a rebuild, `None` if unreadable.
fn apply_change(cache: &LocalCache, lifetime_secs: i64, change: &str) -> Option<bool> {
    let mut parts = change.split(' ');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("j"), Some(jti), expiry, None) => {
            let expires_at = match expiry {
                Some(expiry) => expiry.parse().ok()?,
                None => Timestamp::now().as_secs() + lifetime_secs,
            };
            cache.token_revoked(jti, expires_at);
        }
        (Some("u"), Some(client), None, None) => cache.client_changed(client),
        (Some("c"), Some(client), Some(cutoff), None) => {
            cache.cutoff_raised(client, cutoff.parse().ok()?);
        }
        (Some("r"), _, None, None) => return Some(true),
        _ => return None,
    }
    Some(false)
}
