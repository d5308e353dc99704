//! The `total` of a listing without counting every row for every page.
//!
//! An exact `COUNT(*)` of a million clients takes PostgreSQL a tenth of a second of CPU,
//! and seconds on a loaded machine; a listing would run it for every page. Two things keep
//! it off the pages:
//!
//! - [`Counter`]: a listing is counted exactly while it is small (fewer than
//!   [`EXACT_BELOW`] rows by the database's own estimate); a larger one takes PostgreSQL's
//!   estimate (`auth_core::store::estimated_rows`), a catalog read. SQLite keeps no
//!   estimate, so there it is always counted.
//! - [`CachedCount`]: the last total is kept for [`TTL`]. The request that finds it stale
//!   takes it again, alone: requests arriving meanwhile answer the previous total rather
//!   than count too, so however many pages are asked at once, one count at a time runs.
//!   Only before the very first count do they wait for it. Changes this process makes mark
//!   it stale ([`CachedCount::invalidate`]), so the next page counts again; changes made
//!   elsewhere (another replica, an import) show within [`TTL`].
//!
//! A filtered listing (a client search, audit filters) has a total of its own, which
//! neither cache holds: [`matching_total`] counts its matches for each page, but no further
//! than [`MATCHES_COUNTED`], so a filter that matches a million rows costs a bounded count
//! (an index range on the audit trail; on clients, a scan that stops there). Past the cap
//! the total is the cap itself, an estimate (there are more). A page that shows the
//! listing's end, read from its start, needs no count at all.
//!
//! A total is an estimate ([`Total::estimate`]) unless it was counted exactly for the
//! answer that carries it.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};

use auth_core::store::{DbConnection, StoreError};

/// How long a total is answered without taking it again.
pub const TTL: Duration = Duration::from_secs(5);

/// From this many rows (by the database's estimate) a listing's total is that estimate.
/// Below it an exact count costs a few milliseconds.
pub const EXACT_BELOW: i64 = 100_000;

/// The most matches a filtered listing counts for its total.
pub const MATCHES_COUNTED: i64 = 10_000;

/// Counts a filtered listing's matches, no further than the limit it is given.
pub type CountMatching =
    Box<dyn FnOnce(&mut DbConnection, i64) -> Result<i64, StoreError> + Send + 'static>;

/// The total of a filtered listing: `seen` when the page itself showed every match (the
/// last page, read from the start), else `count`'s matches up to [`MATCHES_COUNTED`]; past
/// that, [`MATCHES_COUNTED`] as an estimate.
pub fn matching_total(
    conn: &mut DbConnection,
    count: CountMatching,
    seen: Option<i64>,
) -> Result<Total, StoreError> {
    if let Some(count) = seen {
        return Ok(Total {
            count,
            estimate: false,
        });
    }
    let counted = count(conn, MATCHES_COUNTED + 1)?;
    Ok(Total {
        count: counted.min(MATCHES_COUNTED),
        estimate: counted > MATCHES_COUNTED,
    })
}

/// How one listing is counted.
#[derive(Debug, Clone, Copy)]
pub struct Counter {
    pub exact: fn(&mut DbConnection) -> Result<i64, StoreError>,
    /// The database's estimate, where it keeps one.
    pub estimate: fn(&mut DbConnection) -> Result<Option<i64>, StoreError>,
}

/// A total as taken: counted, or estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub rows: i64,
    pub exact: bool,
}

impl Counter {
    /// Exactly while the estimate says fewer than [`EXACT_BELOW`] rows (or there is none),
    /// else the estimate.
    pub fn count(&self, conn: &mut DbConnection) -> Result<Counted, StoreError> {
        match (self.estimate)(conn)? {
            Some(rows) if rows >= EXACT_BELOW => Ok(Counted { rows, exact: false }),
            _ => Ok(Counted {
                rows: (self.exact)(conn)?,
                exact: true,
            }),
        }
    }
}

/// One listing's cached total; clones share it.
#[derive(Debug, Clone, Default)]
pub struct CachedCount {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    state: Mutex<State>,
    /// Held by the one request counting.
    refresh: Mutex<()>,
}

#[derive(Debug, Default, Clone, Copy)]
struct State {
    counted: Option<Counted>,
    /// When `counted` was taken; `None` once it is stale (invalidated).
    counted_at: Option<Instant>,
    /// Bumped by every invalidation: a count that was running meanwhile is not kept.
    generation: u64,
}

/// A listing's total, and whether it is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    pub count: i64,
    /// False only when this request counted the total exactly; true when it is the
    /// database's estimate, or was taken before this request (up to [`TTL`] ago, or stale
    /// while another request takes it again).
    pub estimate: bool,
}

impl Total {
    fn cached(counted: Counted) -> Self {
        Self {
            count: counted.rows,
            estimate: true,
        }
    }
}

impl State {
    fn fresh(&self, now: Instant) -> Option<Total> {
        let at = self.counted_at?;
        let counted = self.counted?;
        (now.saturating_duration_since(at) < TTL).then_some(Total::cached(counted))
    }
}

impl CachedCount {
    /// The total at `now`: the cached one while it is fresh, else `count()`'s, unless
    /// another caller is counting already (then the previous total, or, when there is
    /// none yet, the other caller's once it is done). Blocking: call it where blocking is
    /// allowed (inside `Store::run`, beside the page's own query).
    pub fn get<E>(
        &self,
        now: Instant,
        count: impl FnOnce() -> Result<Counted, E>,
    ) -> Result<Total, E> {
        let seen = *self.state();
        if let Some(total) = seen.fresh(now) {
            return Ok(total);
        }
        let _counting = match self.inner.refresh.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {
                if let Some(counted) = seen.counted {
                    return Ok(Total::cached(counted));
                }
                self.inner
                    .refresh
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
            }
        };
        // Another caller may have counted while this one waited for (or raced to) the lock.
        let seen = *self.state();
        if let Some(total) = seen.fresh(now) {
            return Ok(total);
        }
        let counted = count()?;
        let mut state = self.state();
        if state.generation == seen.generation {
            state.counted = Some(counted);
            state.counted_at = Some(now);
        }
        Ok(Total {
            count: counted.rows,
            estimate: !counted.exact,
        })
    }

    /// Marks the total stale: the next caller takes it again. For changes this process made.
    pub fn invalidate(&self) {
        let mut state = self.state();
        state.counted_at = None;
        state.generation = state.generation.wrapping_add(1);
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The cached totals of admin-service's listings.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Live clients (`GET /api/v1/oauth/client`).
    pub clients: CachedCount,
    /// Audit events (`GET /api/v1/oauth/audit`).
    pub audit: CachedCount,
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};

    use super::*;

    fn exact(rows: i64) -> Counted {
        Counted { rows, exact: true }
    }

    fn counted(rows: i64) -> impl FnOnce() -> Result<Counted, ()> {
        move || Ok(exact(rows))
    }

    fn not_called() -> impl FnOnce() -> Result<Counted, ()> {
        || panic!("counted again")
    }

    fn total(count: i64, estimate: bool) -> Total {
        Total { count, estimate }
    }

    #[test]
    fn a_count_is_reused_until_it_expires() {
        let cache = CachedCount::default();
        let t0 = Instant::now();
        assert_eq!(cache.get(t0, counted(7)), Ok(total(7, false)));
        let soon = t0 + TTL - Duration::from_millis(1);
        assert_eq!(cache.get(soon, not_called()), Ok(total(7, true)));
        assert_eq!(cache.get(t0 + TTL, counted(9)), Ok(total(9, false)));
    }

    #[test]
    fn invalidation_makes_the_next_caller_count() {
        let cache = CachedCount::default();
        let t0 = Instant::now();
        assert_eq!(cache.get(t0, counted(1)).map(|t| t.count), Ok(1));
        cache.invalidate();
        assert_eq!(cache.get(t0, counted(2)), Ok(total(2, false)));
        assert_eq!(cache.get(t0, not_called()), Ok(total(2, true)));
    }

    #[test]
    fn a_count_overtaken_by_an_invalidation_is_not_kept() {
        let cache = CachedCount::default();
        let t0 = Instant::now();
        let during = cache.clone();
        let got = cache.get(t0, move || {
            during.invalidate();
            Ok::<_, ()>(exact(3))
        });
        assert_eq!(got, Ok(total(3, false)));
        assert_eq!(cache.get(t0, counted(4)).map(|t| t.count), Ok(4));
    }

    #[test]
    fn a_failed_count_is_not_kept() {
        let cache = CachedCount::default();
        let t0 = Instant::now();
        assert_eq!(cache.get(t0, || Err("down")), Err("down"));
        assert_eq!(cache.get(t0, counted(5)), Ok(total(5, false)));
    }

    #[test]
    fn an_estimate_says_so_even_when_just_taken() {
        let cache = CachedCount::default();
        let t0 = Instant::now();
        let estimated = Counted {
            rows: 2_000_000,
            exact: false,
        };
        assert_eq!(
            cache.get(t0, || Ok::<_, ()>(estimated)),
            Ok(total(2_000_000, true))
        );
        assert_eq!(cache.get(t0, not_called()), Ok(total(2_000_000, true)));
    }

    /// `callers` threads ask at once while counting takes a while: how many counted, and
    /// the totals they answered.
    fn stampede(cache: &CachedCount, now: Instant, callers: usize) -> (usize, Vec<Total>) {
        let counts = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(Barrier::new(callers));
        let threads: Vec<_> = (0..callers)
            .map(|_| {
                let (cache, counts, barrier) = (cache.clone(), counts.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    cache.get(now, || {
                        counts.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(100));
                        Ok::<_, ()>(exact(42))
                    })
                })
            })
            .collect();
        let totals = threads
            .into_iter()
            .map(|t| t.join().expect("caller").expect("total"))
            .collect();
        (counts.load(Ordering::SeqCst), totals)
    }

    #[test]
    fn concurrent_callers_without_a_count_wait_for_one() {
        let cache = CachedCount::default();
        let (counts, totals) = stampede(&cache, Instant::now(), 8);
        assert_eq!(counts, 1);
        assert!(totals.iter().all(|t| t.count == 42), "{totals:?}");
        assert_eq!(totals.iter().filter(|t| !t.estimate).count(), 1);
    }

    #[test]
    fn concurrent_callers_with_a_stale_count_answer_it_while_one_counts() {
        let cache = CachedCount::default();
        let t0 = Instant::now();
        assert!(cache.get(t0, counted(41)).is_ok());
        let (counts, totals) = stampede(&cache, t0 + TTL, 8);
        assert_eq!(counts, 1);
        let fresh: Vec<_> = totals.iter().filter(|t| !t.estimate).collect();
        assert_eq!(fresh, [&total(42, false)]);
        // The others did not wait: they answered the stale count, or, if they came after
        // the new one was stored, that one.
        assert!(totals.iter().all(|t| t.count == 41 || t.count == 42));
    }
}
