//! The in-process revocation cache: answers repeated checks without a round trip.
//!
//! Entries come from Redis lookups and from pub/sub messages. Every message bumps an
//! epoch; a lookup result is stored only if no message arrived while it was in flight, so a
//! stale "not revoked" can never overwrite a fresh revocation. The cache is used only while
//! the pub/sub subscription is live (see `shared`), and is cleared whenever it is (re)made.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{TokenStatus, decide};

/// How long a "not revoked" answer or a cut-off is trusted without news.
const TTL: Duration = Duration::from_secs(30);
/// Past this many entries the cache starts over.
const MAX_ENTRIES: usize = 200_000;

#[derive(Default)]
struct Maps {
    /// jti → revoked?
    tokens: HashMap<String, (bool, Instant)>,
    /// client id → cut-off (microseconds; 0 when none)
    cutoffs: HashMap<String, (i64, Instant)>,
    /// client id → how many changes were announced for it since the last reset.
    versions: HashMap<String, u64>,
}

#[derive(Default)]
pub(crate) struct LocalCache {
    maps: Mutex<Maps>,
    epoch: AtomicU64,
    /// Bumped whenever the maps start over, so versions from before never match again.
    resets: AtomicU64,
}

/// A client's change count at some moment; equal values mean no change came in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientVersion {
    resets: u64,
    changes: u64,
}

impl LocalCache {
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    fn maps(&self) -> std::sync::MutexGuard<'_, Maps> {
        self.maps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn lookup(
        &self,
        jti: &str,
        client_id: &str,
        issued_at_us: i64,
    ) -> Option<TokenStatus> {
        let now = Instant::now();
        let maps = self.maps();
        let (revoked, token_until) = *maps.tokens.get(jti)?;
        if revoked {
            return Some(TokenStatus::RevokedToken);
        }
        let (cutoff, cutoff_until) = *maps.cutoffs.get(client_id)?;
        if token_until < now || cutoff_until < now {
            return None;
        }
        Some(decide(false, cutoff, issued_at_us))
    }

    /// Stores what Redis said, unless news arrived since `epoch` was read.
    pub(crate) fn store(&self, epoch: u64, jti: &str, revoked: bool, client_id: &str, cutoff: i64) {
        let mut maps = self.maps();
        if self.epoch() != epoch {
            return;
        }
        if maps.tokens.len() + maps.cutoffs.len() + maps.versions.len() > MAX_ENTRIES {
            *maps = Maps::default();
            self.resets.fetch_add(1, Ordering::AcqRel);
        }
        let until = Instant::now() + TTL;
        maps.tokens.insert(jti.to_owned(), (revoked, until));
        let entry = maps
            .cutoffs
            .entry(client_id.to_owned())
            .or_insert((cutoff, until));
        *entry = (entry.0.max(cutoff), until);
    }

    /// A token was revoked (message or local write).
    pub(crate) fn token_revoked(&self, jti: &str) {
        let mut maps = self.maps();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        maps.tokens
            .insert(jti.to_owned(), (true, Instant::now() + TTL));
    }

    /// A client changed (scopes, secret, deletion): anything cached about it is stale.
    pub(crate) fn client_changed(&self, client_id: &str) {
        let mut maps = self.maps();
        *maps.versions.entry(client_id.to_owned()).or_insert(0) += 1;
    }

    pub(crate) fn client_version(&self, client_id: &str) -> ClientVersion {
        let maps = self.maps();
        ClientVersion {
            resets: self.resets.load(Ordering::Acquire),
            changes: maps.versions.get(client_id).copied().unwrap_or(0),
        }
    }

    /// A client's cut-off was raised (message or local write).
    pub(crate) fn cutoff_raised(&self, client_id: &str, cutoff: i64) {
        let mut maps = self.maps();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        *maps.versions.entry(client_id.to_owned()).or_insert(0) += 1;
        let until = Instant::now() + TTL;
        let entry = maps
            .cutoffs
            .entry(client_id.to_owned())
            .or_insert((cutoff, until));
        *entry = (entry.0.max(cutoff), until);
    }

    pub(crate) fn clear(&self) {
        let mut maps = self.maps();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.resets.fetch_add(1, Ordering::AcqRel);
        *maps = Maps::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_only_when_both_parts_are_known() {
        let cache = LocalCache::default();
        assert_eq!(cache.lookup("j", "c", 10), None);
        cache.store(cache.epoch(), "j", false, "c", 5);
        assert_eq!(cache.lookup("j", "c", 10), Some(TokenStatus::Active));
        assert_eq!(
            cache.lookup("j", "c", 4),
            Some(TokenStatus::RevokedByClientCutoff)
        );
        assert_eq!(cache.lookup("other", "c", 10), None);
    }

    #[test]
    fn news_beats_a_lookup_that_was_in_flight() {
        let cache = LocalCache::default();
        let epoch = cache.epoch();
        cache.token_revoked("j");
        cache.store(epoch, "j", false, "c", 0);
        assert_eq!(cache.lookup("j", "c", 10), Some(TokenStatus::RevokedToken));
    }

    #[test]
    fn client_versions_change_with_news_and_resets() {
        let cache = LocalCache::default();
        let before = cache.client_version("c");
        assert_eq!(cache.client_version("c"), before);
        cache.client_changed("c");
        let changed = cache.client_version("c");
        assert_ne!(changed, before);
        cache.cutoff_raised("c", 5);
        assert_ne!(cache.client_version("c"), changed);
        assert_eq!(cache.client_version("other"), cache.client_version("other"));
        let other = cache.client_version("other");
        cache.clear();
        assert_ne!(
            cache.client_version("other"),
            other,
            "a reset invalidates every version"
        );
    }

    #[test]
    fn cutoffs_only_rise() {
        let cache = LocalCache::default();
        cache.store(cache.epoch(), "j", false, "c", 0);
        cache.cutoff_raised("c", 20);
        cache.store(cache.epoch(), "j", false, "c", 10);
        assert_eq!(
            cache.lookup("j", "c", 15),
            Some(TokenStatus::RevokedByClientCutoff)
        );
        cache.clear();
        assert_eq!(cache.lookup("j", "c", 15), None);
    }
}
