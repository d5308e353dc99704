//! The revoked token ids a verifier holds in memory, in 20 bytes each.
//!
//! Every verifier keeps every unexpired revocation, so this set is what grows with the
//! revocation history (a million revoked tokens must fit a verifier in 64 MB). The ids this
//! service issues are 16 random bytes in base64url (22 characters): those are kept as the
//! bytes with the token's expiry (seconds, 4 bytes), in a few sorted runs (each looked up by
//! binary search) and a small hash map of what was added since the last run was made. A
//! snapshot merged in becomes a run of its own and the map becomes a run when it grows, so
//! no big vector is ever copied to grow: runs are only combined when there are more than
//! [`MAX_RUNS`], the rare moment two copies coexist. Any other id (one an operator typed
//! into the admin API) is kept as text; a 22-character id whose encoding is not canonical
//! is such an id too, so no two different strings ever share bytes. Nothing reloads the
//! set on a timer: [`JtiSet::prune`] drops what has expired.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

type Bytes = [u8; 16];
type Run = Vec<(Bytes, u32)>;

/// How many ids the hash map of recent additions holds (at least) before it becomes a run.
const SORT_AGAIN_ABOVE: usize = 4096;
/// The most runs kept before they are combined into one.
const MAX_RUNS: usize = 6;

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

/// Sorts a run and folds equal ids into one, keeping the latest expiry; gives back a large
/// excess of capacity (in place for the allocators this service uses).
fn sort_run(run: &mut Run) {
    run.sort_unstable_by_key(|(bytes, _)| *bytes);
    run.dedup_by(|later, kept| {
        if later.0 == kept.0 {
            kept.1 = kept.1.max(later.1);
            true
        } else {
            false
        }
    });
    if run.capacity() > run.len() + run.len() / 8 {
        run.shrink_to_fit();
    }
}

fn find(run: &Run, bytes: &Bytes) -> Option<usize> {
    run.binary_search_by(|(id, _)| id.cmp(bytes)).ok()
}

#[derive(Debug, Default)]
pub(crate) struct JtiSet {
    /// Sorted runs; a bulk fill (`push`) goes into the last one until `seal`.
    runs: Vec<Run>,
    /// Whether the last run is being filled by `push` (not sorted yet).
    filling: bool,
    /// Added by `insert` since the last run was made.
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
            Some(bytes) => self.filling_run().push((bytes, expires_at)),
            None => keep_latest(&mut self.other, jti.into(), expires_at),
        }
    }

    fn filling_run(&mut self) -> &mut Run {
        if !self.filling {
            self.runs.push(Vec::new());
            self.filling = true;
        }
        let last = self.runs.len() - 1;
        &mut self.runs[last]
    }

    /// Makes room for `more` ids of a bulk fill (room reserved but not filled costs address
    /// space, not memory, and is given back when the run is sealed).
    pub(crate) fn reserve(&mut self, more: usize) {
        self.filling_run().reserve_exact(more);
    }

    /// Ends a bulk fill, and makes the recent additions a run of their own.
    pub(crate) fn seal(&mut self) {
        if self.filling {
            self.filling = false;
            if let Some(run) = self.runs.last_mut() {
                sort_run(run);
            }
        }
        if !self.recent.is_empty() {
            let mut run: Run = self.recent.drain().collect();
            sort_run(&mut run);
            self.runs.push(run);
            self.recent.shrink_to_fit();
        }
        self.runs.retain(|run| !run.is_empty());
        if self.runs.len() > MAX_RUNS {
            self.combine();
        }
    }

    /// Combines every run into one (the one moment two copies of the ids coexist).
    fn combine(&mut self) {
        let total = self.runs.iter().map(Vec::len).sum();
        let mut all: Run = Vec::with_capacity(total);
        for run in self.runs.drain(..) {
            all.extend(run);
        }
        sort_run(&mut all);
        self.runs.push(all);
    }

    /// Where an id of the service's form is kept: its run and index.
    fn locate(&self, bytes: &Bytes) -> Option<(usize, usize)> {
        self.runs
            .iter()
            .enumerate()
            .find_map(|(r, run)| find(run, bytes).map(|at| (r, at)))
    }

    /// Adds an id to a sealed set.
    pub(crate) fn insert(&mut self, jti: &str, expires_at: i64) {
        let expires_at = expiry(expires_at);
        match own_form(jti) {
            Some(bytes) => match self.locate(&bytes) {
                Some((r, at)) => self.runs[r][at].1 = self.runs[r][at].1.max(expires_at),
                None => {
                    keep_latest(&mut self.recent, bytes, expires_at);
                    // The map costs about three times a run an id: make it a run now and
                    // then.
                    if self.recent.len() > SORT_AGAIN_ABOVE {
                        self.seal();
                    }
                }
            },
            None => keep_latest(&mut self.other, jti.into(), expires_at),
        }
    }

    pub(crate) fn contains(&self, jti: &str) -> bool {
        match own_form(jti) {
            Some(bytes) => self.recent.contains_key(&bytes) || self.locate(&bytes).is_some(),
            None => self.other.contains_key(jti),
        }
    }

    /// Adds every id of `more` (a snapshot): what this set lacks becomes a run of its own
    /// (filtered in place, never copied); expiries of ids both hold take the later.
    pub(crate) fn merge(&mut self, mut more: JtiSet) {
        more.seal();
        self.seal();
        for mut run in more.runs {
            run.retain(|(bytes, expires_at)| match self.locate(bytes) {
                Some((r, at)) => {
                    let kept = &mut self.runs[r][at].1;
                    *kept = (*kept).max(*expires_at);
                    false
                }
                None => true,
            });
            if !run.is_empty() {
                self.runs.push(run);
            }
        }
        for (jti, expires_at) in more.other {
            keep_latest(&mut self.other, jti, expires_at);
        }
        self.seal();
    }

    /// Drops every id whose token expired before `now` (seconds); returns how many.
    pub(crate) fn prune(&mut self, now: i64) -> usize {
        let now = expiry(now);
        let before = self.len();
        for run in &mut self.runs {
            run.retain(|(_, expires_at)| *expires_at >= now);
            if run.capacity() > run.len() + run.len() / 2 {
                run.shrink_to_fit();
            }
        }
        self.runs.retain(|run| !run.is_empty());
        self.recent.retain(|_, expires_at| *expires_at >= now);
        self.other.retain(|_, expires_at| *expires_at >= now);
        before - self.len()
    }

    pub(crate) fn len(&self) -> usize {
        self.runs.iter().map(Vec::len).sum::<usize>() + self.recent.len() + self.other.len()
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
    fn many_merges_and_inserts_keep_a_few_runs_and_every_id() {
        let mut set = JtiSet::default();
        let mut all = Vec::new();
        for round in 0..20 {
            let mut snapshot = JtiSet::default();
            for _ in 0..100 {
                let jti = random_id();
                snapshot.push(&jti, LATER);
                all.push(jti);
            }
            snapshot.seal();
            set.merge(snapshot);
            for _ in 0..(SORT_AGAIN_ABOVE / 2 + round) {
                let jti = random_id();
                set.insert(&jti, LATER);
                all.push(jti);
            }
        }
        assert!(set.runs.len() <= MAX_RUNS, "{} runs", set.runs.len());
        assert_eq!(set.len(), all.len());
        assert!(all.iter().all(|jti| set.contains(jti)));
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
