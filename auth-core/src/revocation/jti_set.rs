//! The revoked token ids a verifier holds in memory, in 20 bytes each.
//!
//! Every verifier keeps every unexpired revocation, so this set is what grows with the
//! revocation history (a million revoked tokens must fit a verifier in 64 MB). The ids this
//! service issues are 16 random bytes in base64url (22 characters): those are kept as the
//! bytes with the token's expiry (seconds, 4 bytes), in a sorted vector (looked up by binary
//! search) and a small hash map of what was added since it was last sorted. Any other id
//! (one an operator typed into the admin API) is kept as text; a 22-character id whose
//! encoding is not canonical is such an id too, so no two different strings ever share
//! bytes. Nothing reloads the set on a timer: [`JtiSet::prune`] drops what has expired.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

type Bytes = [u8; 16];

/// How many ids the hash map of recent additions holds (at least) before they are sorted
/// into the vector.
const SORT_AGAIN_ABOVE: usize = 4096;

/// The bytes of a token id of this service's own form, or `None`.
fn own_form(jti: &str) -> Option<Bytes> {
    if jti.len() != 22 {
        return None;
    }
    let mut bytes = [0u8; 16];
    // Exactly 16 bytes, canonically encoded (the engine refuses stray trailing bits).
    match URL_SAFE_NO_PAD.decode_slice(jti, &mut bytes) {
        Ok(16) => Some(bytes),
        _ => None,
    }
}

/// An expiry in whole seconds since the epoch, as kept (saturating into `u32`: 2106).
fn expiry(secs: i64) -> u32 {
    u32::try_from(secs.max(0)).unwrap_or(u32::MAX)
}

/// Folds a sorted run of equal ids into one, keeping the latest expiry.
fn dedup_keeping_latest(sorted: &mut Vec<(Bytes, u32)>) {
    sorted.dedup_by(|later, kept| {
        if later.0 == kept.0 {
            kept.1 = kept.1.max(later.1);
            true
        } else {
            false
        }
    });
}

#[derive(Debug, Default)]
pub(crate) struct JtiSet {
    /// Sorted by id and without duplicates once sealed; filled by `push`.
    sorted: Vec<(Bytes, u32)>,
    /// Added by `insert` since the set was sealed.
    recent: HashMap<Bytes, u32>,
    /// Ids of any other form.
    other: HashMap<Box<str>, u32>,
}

impl JtiSet {
    /// Adds an id expiring at `expires_at` (seconds) to a set being filled in bulk (a
    /// snapshot); call [`JtiSet::seal`] before looking anything up.
    pub(crate) fn push(&mut self, jti: &str, expires_at: i64) {
        let expires_at = expiry(expires_at);
        match own_form(jti) {
            Some(bytes) => self.sorted.push((bytes, expires_at)),
            None => keep_latest(&mut self.other, jti.into(), expires_at),
        }
    }

    /// Makes room for `more` ids of a bulk fill.
    pub(crate) fn reserve(&mut self, more: usize) {
        self.sorted.reserve_exact(more);
    }

    /// Ends a bulk fill: sorts, and gives back memory the fill reserved in excess.
    pub(crate) fn seal(&mut self) {
        self.sorted.reserve_exact(self.recent.len());
        self.sorted.extend(self.recent.drain());
        self.sorted.sort_unstable_by_key(|(bytes, _)| *bytes);
        dedup_keeping_latest(&mut self.sorted);
        // Shrinking copies the whole vector: only worth it for a large excess.
        if self.sorted.capacity() > self.sorted.len() + self.sorted.len() / 8 {
            self.sorted.shrink_to_fit();
        }
        self.recent.shrink_to_fit();
    }

    fn position(&self, bytes: &Bytes) -> Result<usize, usize> {
        self.sorted.binary_search_by(|(id, _)| id.cmp(bytes))
    }

    /// Adds an id to a sealed set.
    pub(crate) fn insert(&mut self, jti: &str, expires_at: i64) {
        let expires_at = expiry(expires_at);
        match own_form(jti) {
            Some(bytes) => match self.position(&bytes) {
                Ok(at) => self.sorted[at].1 = self.sorted[at].1.max(expires_at),
                Err(_) => {
                    keep_latest(&mut self.recent, bytes, expires_at);
                    // The map costs about three times the vector an id: sort it in now
                    // and then (each id is moved a bounded number of times).
                    if self.recent.len() > SORT_AGAIN_ABOVE.max(self.sorted.len() / 8) {
                        self.seal();
                    }
                }
            },
            None => keep_latest(&mut self.other, jti.into(), expires_at),
        }
    }

    pub(crate) fn contains(&self, jti: &str) -> bool {
        match own_form(jti) {
            Some(bytes) => self.recent.contains_key(&bytes) || self.position(&bytes).is_ok(),
            None => self.other.contains_key(jti),
        }
    }

    /// Adds every id of `more` (a snapshot). When this set is empty, `more` becomes it as it
    /// is; otherwise only what this set lacks is added, and the vector is sorted again once
    /// if that is much (never a third copy beside the two sets).
    pub(crate) fn merge(&mut self, mut more: JtiSet) {
        if self.len() == 0 {
            more.seal();
            *self = more;
            return;
        }
        let mut missing = Vec::new();
        for (bytes, expires_at) in more.sorted.drain(..).chain(more.recent.drain()) {
            match self.position(&bytes) {
                Ok(at) => self.sorted[at].1 = self.sorted[at].1.max(expires_at),
                Err(_) => missing.push((bytes, expires_at)),
            }
        }
        drop(more.sorted);
        if missing.len() > SORT_AGAIN_ABOVE {
            self.sorted.reserve_exact(missing.len());
            self.sorted.extend(missing);
            self.seal();
        } else {
            for (bytes, expires_at) in missing {
                keep_latest(&mut self.recent, bytes, expires_at);
            }
        }
        for (jti, expires_at) in more.other {
            keep_latest(&mut self.other, jti, expires_at);
        }
    }

    /// Drops every id whose token expired before `now` (seconds); returns how many.
    pub(crate) fn prune(&mut self, now: i64) -> usize {
        let now = expiry(now);
        let before = self.len();
        self.sorted.retain(|(_, expires_at)| *expires_at >= now);
        self.recent.retain(|_, expires_at| *expires_at >= now);
        self.other.retain(|_, expires_at| *expires_at >= now);
        let pruned = before - self.len();
        if pruned > 0 {
            self.seal();
        }
        pruned
    }

    pub(crate) fn len(&self) -> usize {
        self.sorted.len() + self.recent.len() + self.other.len()
    }
}

/// Records `key` with the later of its known expiry and `expires_at`.
fn keep_latest<K: std::hash::Hash + Eq>(map: &mut HashMap<K, u32>, key: K, expires_at: u32) {
    let kept = map.entry(key).or_insert(expires_at);
    *kept = (*kept).max(expires_at);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::random_id;

    const LATER: i64 = 2_000_000_000;

    #[test]
    fn own_and_other_ids_are_found_after_bulk_fill_and_insert() {
        let own: Vec<String> = (0..1000).map(|_| random_id()).collect();
        let mut set = JtiSet::default();
        for jti in &own[..500] {
            set.push(jti, LATER);
            set.push(jti, LATER);
        }
        set.push("typed-by-an-operator", LATER);
        set.seal();
        for jti in &own[500..] {
            set.insert(jti, LATER);
        }
        set.insert(&own[0], LATER);
        set.insert("another_id", LATER);
        assert_eq!(set.len(), 1002, "duplicates are kept once");
        assert!(own.iter().all(|jti| set.contains(jti)));
        assert!(set.contains("typed-by-an-operator") && set.contains("another_id"));
        assert!(!set.contains(&random_id()));
        assert!(!set.contains("never"));
    }

    #[test]
    fn a_merge_keeps_both_sides_and_adds_only_what_is_missing() {
        let (kept, shared, new) = (random_id(), random_id(), random_id());
        let mut set = JtiSet::default();
        set.insert(&kept, LATER);
        set.insert(&shared, 100);
        set.insert("local-only", LATER);
        let mut snapshot = JtiSet::default();
        snapshot.push(&shared, LATER);
        snapshot.push(&new, LATER);
        snapshot.push("typed", LATER);
        snapshot.seal();
        set.merge(snapshot);
        assert_eq!(set.len(), 5);
        for jti in [&kept, &shared, &new] {
            assert!(set.contains(jti));
        }
        assert!(set.contains("local-only") && set.contains("typed"));
        // The shared id took the snapshot's later expiry: pruning at 200 keeps it.
        assert_eq!(set.prune(200), 0);
        assert!(set.contains(&shared));

        let mut empty = JtiSet::default();
        let mut snapshot = JtiSet::default();
        snapshot.push(&new, LATER);
        snapshot.seal();
        empty.merge(snapshot);
        assert!(empty.contains(&new));
    }

    #[test]
    fn pruning_drops_only_expired_ids() {
        let (old, fresh, sorted_old) = (random_id(), random_id(), random_id());
        let mut set = JtiSet::default();
        set.push(&sorted_old, 50);
        set.push(&fresh, 500);
        set.seal();
        set.insert(&old, 99);
        set.insert("typed-old", 10);
        set.insert("typed-fresh", 1000);
        assert_eq!(set.prune(100), 3);
        assert!(!set.contains(&old) && !set.contains(&sorted_old));
        assert!(!set.contains("typed-old"));
        assert!(set.contains(&fresh) && set.contains("typed-fresh"));
        assert_eq!(set.prune(100), 0);
        assert_eq!(set.len(), 2);
        // A later revocation of the same id extends it.
        set.insert(&fresh, 5000);
        assert_eq!(set.prune(1000), 0);
        assert!(set.contains(&fresh));
    }

    #[test]
    fn a_non_canonical_encoding_is_another_id() {
        let mut set = JtiSet::default();
        set.insert("AAAAAAAAAAAAAAAAAAAAAA", LATER);
        // The same 16 bytes with stray low bits in the last character: a different string,
        // so a different token id.
        assert!(own_form("AAAAAAAAAAAAAAAAAAAAAB").is_none());
        assert!(!set.contains("AAAAAAAAAAAAAAAAAAAAAB"));
        set.insert("AAAAAAAAAAAAAAAAAAAAAB", LATER);
        assert!(set.contains("AAAAAAAAAAAAAAAAAAAAAB"));
        assert!(own_form("AAAAAAAAAAAAAAAAAAAAA").is_none(), "21 characters");
        assert!(
            own_form("AAAAAAAAAAAAAAAAAAAAA+").is_none(),
            "not base64url"
        );
    }
}
