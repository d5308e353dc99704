//! The in-process copy of the shared revocation cache: checks answered without a round trip.
//!
//! While this process follows the change channel it holds every revocation Redis holds: a
//! snapshot loaded right after subscribing and again every 30 s (which also drops what has
//! expired), plus every message and local write since. Messages keep being applied while a
//! snapshot loads, and what they bring is applied again on top of it when it is installed,
//! so a revocation is never missed for the length of a scan. Revocations only ever grow (a
//! revoked `jti` stays revoked, a cut-off only rises), so applying one twice, or to a
//! snapshot that already has it, changes nothing. A check then gets, from memory, the
//! answer a Redis lookup would give, including for a token never seen before.
//!
//! Until a snapshot of a complete shared cache (`rev:ready`) is in, and whenever the
//! subscription is lost or a message cannot be read, the copy is not used (`lookup` answers
//! `None`) and checks ask Redis or the database. Client versions, for caches of client
//! state, change with every message about a client and with every reset.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::jti_set::JtiSet;
use super::{Cutoff, TokenStatus, decide};
use crate::time::Timestamp;

/// Every revocation of a complete shared cache, read in one pass.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    /// Sealed once filled.
    pub revoked: JtiSet,
    /// client id → cut-off, as written in Redis ([`Cutoff::to_wire`])
    pub cutoffs: HashMap<String, i64>,
}

#[derive(Default)]
struct Maps {
    /// Revoked token ids.
    revoked: JtiSet,
    /// client id → cut-off, as written in Redis ([`Cutoff::to_wire`]; absent: none).
    cutoffs: HashMap<String, i64>,
    /// client id → how many changes were announced for it since the last reset.
    versions: HashMap<String, u64>,
    /// A snapshot of a complete shared cache is in, and nothing was missed since.
    complete: bool,
    /// While a snapshot loads: what was applied meanwhile, to apply again on top of it. A
    /// reset drops it, and with it the snapshot in flight.
    journal: Option<Snapshot>,
}

#[derive(Default)]
pub(crate) struct LocalCache {
    maps: RwLock<Maps>,
    /// Bumped whenever the copy starts over, so versions from before never match again.
    resets: AtomicU64,
}

/// A client's change count at some moment; equal values mean no change came in between.
/// The default is the version of a client nothing was announced for before any reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientVersion {
    resets: u64,
    changes: u64,
}

/// What this process knows of a client, for caches of the client's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientState {
    /// Changes announced for the client; equal versions mean none came in between.
    pub version: ClientVersion,
    /// The client's revocation cut-off as this process knows it.
    pub cutoff: Cutoff,
}

impl ClientState {
    /// True when state read at `read_at` predates the client's cut-off: a change the
    /// process learnt of without its message (from a snapshot) still makes it stale.
    pub fn is_newer_than(&self, read_at: Timestamp) -> bool {
        self.cutoff > Cutoff::Before(read_at)
    }
}

impl LocalCache {
    fn read(&self) -> RwLockReadGuard<'_, Maps> {
        self.maps.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Maps> {
        self.maps.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The status of a token, or `None` while the copy is not complete.
    pub(crate) fn lookup(
        &self,
        jti: &str,
        client_id: &str,
        issued_at_us: i64,
    ) -> Option<TokenStatus> {
        let maps = self.read();
        if !maps.complete {
            return None;
        }
        let cutoff = maps
            .cutoffs
            .get(client_id)
            .map_or(Cutoff::NONE, |c| Cutoff::from_wire(*c));
        let issued_at = Timestamp::from_micros(issued_at_us);
        Some(decide(maps.revoked.contains(jti), cutoff, issued_at))
    }

    /// Call before reading a snapshot from Redis (one at a time): from now on, what is
    /// applied is also kept aside, to be applied again on top of the snapshot.
    pub(crate) fn begin_snapshot(&self) {
        self.write().journal = Some(Snapshot::default());
    }

    /// Replaces the copy with `snapshot` plus what was applied since it was begun. A snapshot
    /// begun before a reset is dropped (it may miss what happened while unsubscribed).
    /// Versions do not change: a cut-off whose message was missed shows in
    /// [`LocalCache::client_state`], which makes state cached before it stale.
    pub(crate) fn install(&self, mut snapshot: Snapshot) {
        let mut maps = self.write();
        let Some(journal) = maps.journal.take() else {
            return;
        };
        snapshot.revoked.extend(journal.revoked);
        for (client, cutoff) in journal.cutoffs {
            raise(&mut snapshot.cutoffs, client, cutoff);
        }
        maps.revoked = snapshot.revoked;
        maps.cutoffs = snapshot.cutoffs;
        maps.complete = true;
    }

    /// The snapshot could not be read: stop keeping things aside.
    pub(crate) fn abandon_snapshot(&self) {
        self.write().journal = None;
    }

    /// How many revoked tokens the copy holds.
    pub(crate) fn revoked_len(&self) -> usize {
        self.read().revoked.len()
    }

    pub(crate) fn is_complete(&self) -> bool {
        self.read().complete
    }

    /// A token was revoked (message or local write).
    pub(crate) fn token_revoked(&self, jti: &str) {
        let mut maps = self.write();
        if let Some(journal) = &mut maps.journal {
            journal.revoked.insert(jti);
        }
        maps.revoked.insert(jti);
    }

    /// A client changed (scopes, secret, deletion): anything cached about it is stale.
    pub(crate) fn client_changed(&self, client_id: &str) {
        *self
            .write()
            .versions
            .entry(client_id.to_owned())
            .or_insert(0) += 1;
    }

    pub(crate) fn client_state(&self, client_id: &str) -> ClientState {
        let maps = self.read();
        ClientState {
            version: ClientVersion {
                resets: self.resets.load(Ordering::Acquire),
                changes: maps.versions.get(client_id).copied().unwrap_or(0),
            },
            cutoff: maps
                .cutoffs
                .get(client_id)
                .map_or(Cutoff::NONE, |c| Cutoff::from_wire(*c)),
        }
    }

    /// A client's cut-off was raised (message or local write).
    pub(crate) fn cutoff_raised(&self, client_id: &str, cutoff: i64) {
        let mut maps = self.write();
        *maps.versions.entry(client_id.to_owned()).or_insert(0) += 1;
        if let Some(journal) = &mut maps.journal {
            raise(&mut journal.cutoffs, client_id.to_owned(), cutoff);
        }
        raise(&mut maps.cutoffs, client_id.to_owned(), cutoff);
    }

    /// Forgets everything: the copy is not used again until the next snapshot.
    pub(crate) fn clear(&self) {
        let mut maps = self.write();
        self.resets.fetch_add(1, Ordering::AcqRel);
        *maps = Maps::default();
    }
}

/// Cut-offs only rise.
fn raise(cutoffs: &mut HashMap<String, i64>, client_id: String, cutoff: i64) {
    let known = cutoffs.entry(client_id).or_insert(cutoff);
    *known = (*known).max(cutoff);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(revoked: &[&str], cutoffs: &[(&str, i64)]) -> Snapshot {
        let mut set = JtiSet::default();
        for jti in revoked {
            set.push(jti);
        }
        set.seal();
        Snapshot {
            revoked: set,
            cutoffs: cutoffs.iter().map(|(c, v)| ((*c).to_owned(), *v)).collect(),
        }
    }

    /// Loads `snapshot` as the follower does, with nothing happening meanwhile.
    fn load(cache: &LocalCache, snapshot: Snapshot) {
        cache.begin_snapshot();
        cache.install(snapshot);
    }

    #[test]
    fn answers_every_token_once_a_snapshot_is_in() {
        let cache = LocalCache::default();
        assert_eq!(cache.lookup("j", "c", 10), None, "no snapshot yet");
        cache.token_revoked("early");
        assert_eq!(
            cache.lookup("early", "c", 10),
            None,
            "messages alone are not enough"
        );
        load(
            &cache,
            snapshot(&["r"], &[("c", 5), ("gone", Cutoff::Deleted.to_wire())]),
        );
        assert_eq!(
            cache.lookup("never-seen", "c", 10),
            Some(TokenStatus::Active)
        );
        assert_eq!(
            cache.lookup("never-seen", "other", 1),
            Some(TokenStatus::Active)
        );
        assert_eq!(cache.lookup("r", "c", 10), Some(TokenStatus::RevokedToken));
        assert_eq!(
            cache.lookup("j", "c", 4),
            Some(TokenStatus::RevokedByClientCutoff)
        );
        assert_eq!(
            cache.lookup("j", "gone", 10),
            Some(TokenStatus::UnknownClient)
        );
    }

    #[test]
    fn messages_after_the_snapshot_apply_and_cutoffs_only_rise() {
        let cache = LocalCache::default();
        load(&cache, snapshot(&[], &[("c", 20)]));
        cache.token_revoked("j");
        assert_eq!(cache.lookup("j", "c", 30), Some(TokenStatus::RevokedToken));
        cache.cutoff_raised("c", 10);
        assert_eq!(
            cache.lookup("k", "c", 15),
            Some(TokenStatus::RevokedByClientCutoff)
        );
        cache.cutoff_raised("c", 40);
        assert_eq!(
            cache.lookup("k", "c", 30),
            Some(TokenStatus::RevokedByClientCutoff)
        );
    }

    #[test]
    fn what_arrives_while_a_snapshot_loads_is_kept() {
        let cache = LocalCache::default();
        load(&cache, snapshot(&["old"], &[]));
        cache.begin_snapshot();
        // Redis was scanned before these came in: the snapshot lacks them.
        cache.token_revoked("during");
        cache.cutoff_raised("c", 50);
        assert_eq!(
            cache.lookup("during", "x", 1),
            Some(TokenStatus::RevokedToken),
            "applied at once, not after the scan"
        );
        cache.install(snapshot(&["new"], &[("c", 20)]));
        assert_eq!(
            cache.lookup("during", "x", 1),
            Some(TokenStatus::RevokedToken)
        );
        assert_eq!(cache.lookup("new", "x", 1), Some(TokenStatus::RevokedToken));
        assert_eq!(
            cache.lookup("old", "x", 1),
            Some(TokenStatus::Active),
            "gone from Redis (expired): dropped"
        );
        assert_eq!(
            cache.lookup("k", "c", 40),
            Some(TokenStatus::RevokedByClientCutoff)
        );
    }

    #[test]
    fn a_snapshot_begun_before_a_reset_is_dropped() {
        let cache = LocalCache::default();
        cache.begin_snapshot();
        cache.clear();
        cache.install(snapshot(&[], &[]));
        assert!(!cache.is_complete());
        assert_eq!(cache.lookup("j", "c", 1), None);
    }

    #[test]
    fn a_reset_stops_answers_until_the_next_snapshot() {
        let cache = LocalCache::default();
        load(&cache, snapshot(&["r"], &[]));
        cache.clear();
        assert!(!cache.is_complete());
        assert_eq!(cache.lookup("r", "c", 10), None);
        load(&cache, snapshot(&[], &[]));
        assert_eq!(cache.lookup("x", "c", 10), Some(TokenStatus::Active));
    }

    #[test]
    fn client_versions_change_with_news_and_resets_and_snapshots_show_cutoffs() {
        let cache = LocalCache::default();
        let version = |cache: &LocalCache| cache.client_state("c").version;
        let before = version(&cache);
        assert_eq!(version(&cache), before);
        cache.client_changed("c");
        let changed = version(&cache);
        assert_ne!(changed, before);
        cache.cutoff_raised("c", 5);
        let raised = version(&cache);
        assert_ne!(raised, changed);
        assert_eq!(
            cache.client_state("c").cutoff,
            Cutoff::Before(Timestamp::from_micros(5))
        );
        // A cut-off whose message was missed: the version stays (nothing to invalidate for
        // state read after it), the cut-off makes older state stale.
        load(&cache, snapshot(&[], &[("c", 9)]));
        let state = cache.client_state("c");
        assert_eq!(state.version, raised);
        assert!(state.is_newer_than(Timestamp::from_micros(8)));
        assert!(!state.is_newer_than(Timestamp::from_micros(9)));
        let other = cache.client_state("other").version;
        cache.clear();
        assert_ne!(
            cache.client_state("other").version,
            other,
            "a reset invalidates every version"
        );
    }
}
