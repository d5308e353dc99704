//! The in-process copy of the shared revocation cache: checks answered without a round trip.
//!
//! While this process follows the change log it holds every revocation Redis holds: a
//! snapshot merged in when it starts (or after it missed something), plus every change
//! since, in order. Revocations only ever grow (a revoked `jti` stays revoked until its token
//! expires, a cut-off only rises), so a snapshot is merged into the copy rather than
//! replacing it, and applying a change twice changes nothing. Nothing reloads the copy on a
//! timer: [`LocalCache::prune`] drops what has expired. A check then gets, from memory, the
//! answer a Redis lookup would give, including for a token never seen before.
//!
//! Until the first snapshot is in, and whenever the follower may have missed a change (the
//! subscription was lost, a change is missing from the sequence), the copy is *suspended*:
//! it still answers "revoked" for what it knows to be revoked (that never becomes false),
//! and otherwise `lookup` answers `None` so checks ask Redis or the database. Client
//! versions, for caches of client state, change with every change of a client and with
//! every suspension.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::jti_set::JtiSet;
use super::{Cutoff, EXPIRY_MARGIN_SECS, TokenStatus, decide};
use crate::time::Timestamp;

/// Every revocation of a complete shared cache, read in one pass.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    /// Filled with `push`.
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
    /// client id → how many changes were announced for it since the last suspension.
    versions: HashMap<String, u64>,
    /// Holds every revocation Redis holds: nothing was missed since the last snapshot.
    complete: bool,
}

#[derive(Default)]
pub(crate) struct LocalCache {
    maps: RwLock<Maps>,
    /// Bumped whenever the copy is suspended, so versions from before never match again.
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

    /// The status of a token; `None` when only Redis or the database can tell (the copy is
    /// suspended and does not know the token to be revoked).
    pub(crate) fn lookup(
        &self,
        jti: &str,
        client_id: &str,
        issued_at_us: i64,
    ) -> Option<TokenStatus> {
        let maps = self.read();
        let cutoff = maps
            .cutoffs
            .get(client_id)
            .map_or(Cutoff::NONE, |c| Cutoff::from_wire(*c));
        let issued_at = Timestamp::from_micros(issued_at_us);
        let status = decide(maps.revoked.contains(jti), cutoff, issued_at);
        (maps.complete || !status.is_active()).then_some(status)
    }

    /// Adds a snapshot of Redis to the copy. It is not complete before [`LocalCache::resume`]:
    /// the caller first applies the changes that came after the snapshot's position.
    pub(crate) fn merge(&self, snapshot: Snapshot) {
        let mut maps = self.write();
        maps.revoked.merge(snapshot.revoked);
        for (client, cutoff) in snapshot.cutoffs {
            raise(&mut maps.cutoffs, client, cutoff);
        }
    }

    /// The copy is known to hold everything (a snapshot and the changes since were applied).
    pub(crate) fn resume(&self) {
        self.write().complete = true;
    }

    /// Something may have been missed: answer only what is known to be revoked until the
    /// copy is complete again, and invalidate every client version.
    pub(crate) fn suspend(&self) {
        let mut maps = self.write();
        self.resets.fetch_add(1, Ordering::AcqRel);
        maps.complete = false;
    }

    /// Keeps only the keys (`prefix` + token id) of tokens the copy does not hold.
    pub(crate) fn retain_unknown(&self, keys: &mut Vec<String>, prefix: &str) {
        let maps = self.read();
        keys.retain(|key| {
            key.strip_prefix(prefix)
                .is_none_or(|jti| !maps.revoked.contains(jti))
        });
    }

    /// How many revoked tokens the copy holds.
    #[cfg(test)]
    pub(crate) fn revoked_len(&self) -> usize {
        self.read().revoked.len()
    }

    #[cfg(test)]
    pub(crate) fn is_complete(&self) -> bool {
        self.read().complete
    }

    /// A token expiring at `expires_at` (seconds) was revoked (message or local write).
    pub(crate) fn token_revoked(&self, jti: &str, expires_at: i64) {
        self.write().revoked.insert(jti, expires_at);
    }

    /// A client changed (scopes, secret, deletion): anything cached about it is stale.
    pub(crate) fn client_changed(&self, client_id: &str) {
        *self
            .write()
            .versions
            .entry(client_id.to_owned())
            .or_insert(0) += 1;
    }

    /// What this copy knows of a client: its version and cut-off.
    #[cfg(test)]
    pub(crate) fn client_state(&self, client_id: &str) -> ClientState {
        self.state_in(&self.read(), client_id)
    }

    /// What this copy knows of a client (its version and cut-off) if the copy is complete,
    /// under one read lock.
    pub(crate) fn complete_client_state(&self, client_id: &str) -> Option<ClientState> {
        let maps = self.read();
        maps.complete.then(|| self.state_in(&maps, client_id))
    }

    fn state_in(&self, maps: &Maps, client_id: &str) -> ClientState {
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
        raise(&mut maps.cutoffs, client_id.to_owned(), cutoff);
    }

    /// Drops revoked tokens that no verifier accepts any more (expired, leeway included),
    /// and cut-offs older than every token that can still be valid (`lifetime_secs`);
    /// returns how many tokens were dropped. A deleted client's cut-off is kept.
    pub(crate) fn prune(&self, now: Timestamp, lifetime_secs: i64) -> usize {
        let oldest_valid = now
            .plus_secs(-lifetime_secs.saturating_add(EXPIRY_MARGIN_SECS))
            .as_micros();
        let mut maps = self.write();
        maps.cutoffs.retain(|_, cutoff| *cutoff >= oldest_valid);
        maps.revoked
            .prune(now.plus_secs(-EXPIRY_MARGIN_SECS).as_secs())
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

    const LATER: i64 = 2_000_000_000;

    fn snapshot(revoked: &[&str], cutoffs: &[(&str, i64)]) -> Snapshot {
        let mut set = JtiSet::default();
        for jti in revoked {
            set.push(jti, LATER);
        }
        set.seal();
        Snapshot {
            revoked: set,
            cutoffs: cutoffs.iter().map(|(c, v)| ((*c).to_owned(), *v)).collect(),
        }
    }

    #[test]
    fn answers_every_token_once_a_snapshot_is_in() {
        let cache = LocalCache::default();
        assert_eq!(cache.lookup("j", "c", 10), None, "no snapshot yet");
        cache.token_revoked("early", LATER);
        assert_eq!(
            cache.lookup("early", "c", 10),
            Some(TokenStatus::RevokedToken),
            "what is known to be revoked is answered even before"
        );
        cache.merge(snapshot(
            &["r"],
            &[("c", 5), ("gone", Cutoff::Deleted.to_wire())],
        ));
        cache.resume();
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
            cache.lookup("early", "c", 10),
            Some(TokenStatus::RevokedToken),
            "merged, not replaced"
        );
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
    fn changes_after_the_snapshot_apply_and_cutoffs_only_rise() {
        let cache = LocalCache::default();
        cache.merge(snapshot(&[], &[("c", 20)]));
        cache.resume();
        cache.token_revoked("j", LATER);
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
        cache.merge(snapshot(&[], &[("c", 25)]));
        cache.resume();
        assert_eq!(
            cache.lookup("k", "c", 30),
            Some(TokenStatus::RevokedByClientCutoff),
            "an older snapshot does not lower a cut-off"
        );
    }

    #[test]
    fn a_suspended_copy_answers_only_revocations() {
        let cache = LocalCache::default();
        cache.merge(snapshot(&["r"], &[("c", 20)]));
        cache.resume();
        cache.suspend();
        assert!(!cache.is_complete());
        assert_eq!(cache.lookup("x", "c", 30), None, "Redis must tell");
        assert_eq!(cache.lookup("r", "c", 30), Some(TokenStatus::RevokedToken));
        assert_eq!(
            cache.lookup("x", "c", 10),
            Some(TokenStatus::RevokedByClientCutoff)
        );
        cache.resume();
        assert_eq!(cache.lookup("x", "c", 30), Some(TokenStatus::Active));
    }

    #[test]
    fn pruning_drops_expired_tokens_and_old_cutoffs_but_not_deletions() {
        let cache = LocalCache::default();
        cache.merge(snapshot(&[], &[]));
        cache.resume();
        let now = Timestamp::from_micros(10_000 * 1_000_000);
        // Verifiers still accept a token for a while after its expiry (clock skew): its
        // revocation is kept that long.
        cache.token_revoked("long-expired", now.as_secs() - EXPIRY_MARGIN_SECS - 1);
        cache.token_revoked("just-expired", now.as_secs() - 1);
        cache.token_revoked("valid", now.as_secs() + 10);
        cache.cutoff_raised("old", now.plus_secs(-3700).as_micros());
        cache.cutoff_raised("recent", now.plus_secs(-10).as_micros());
        cache.cutoff_raised("deleted", Cutoff::Deleted.to_wire());
        assert_eq!(cache.prune(now, 3600), 1);
        assert_eq!(cache.revoked_len(), 2);
        assert_eq!(
            cache.lookup("long-expired", "x", 0),
            Some(TokenStatus::Active)
        );
        assert_eq!(
            cache.lookup("just-expired", "x", 0),
            Some(TokenStatus::RevokedToken)
        );
        assert_eq!(
            cache.lookup("valid", "x", 0),
            Some(TokenStatus::RevokedToken)
        );
        assert_eq!(cache.client_state("old").cutoff, Cutoff::NONE);
        assert_ne!(cache.client_state("recent").cutoff, Cutoff::NONE);
        assert_eq!(cache.client_state("deleted").cutoff, Cutoff::Deleted);
    }

    #[test]
    fn client_versions_change_with_news_and_suspensions_and_snapshots_show_cutoffs() {
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
        cache.merge(snapshot(&[], &[("c", 9)]));
        cache.resume();
        let state = cache.client_state("c");
        assert_eq!(state.version, raised);
        assert!(state.is_newer_than(Timestamp::from_micros(8)));
        assert!(!state.is_newer_than(Timestamp::from_micros(9)));
        let other = cache.client_state("other").version;
        cache.suspend();
        assert_ne!(
            cache.client_state("other").version,
            other,
            "a suspension invalidates every version"
        );
    }
}
