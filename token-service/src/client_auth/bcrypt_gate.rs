//! Where imported bcrypt hashes are checked (feature `server`): at most one check per CPU
//! at a time, on tokio's blocking pool, each waiting at most [`MAX_WAIT`] for its turn.
//!
//! Secrets this service generates are checked in microseconds (`auth_core::secret`); bcrypt
//! runs only for a client whose hash was imported and has not verified yet, after which
//! the hash is upgraded, so each such client pays it once in the whole fleet. The gate
//! keeps a burst of those checks, or a guessing attack on imported ids (bounded by the
//! brute-force limits), from taking every thread: past the wait, the caller gets 503 with
//! `Retry-After`. A caller that goes away before its turn never runs its check.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::Semaphore;

/// The longest a check waits for its turn before its caller gets 503.
pub const MAX_WAIT: Duration = Duration::from_secs(2);

/// No turn came within [`MAX_WAIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many secret checks are waiting")]
pub struct Busy;

/// Admits bcrypt checks; cheap to clone.
#[derive(Debug, Clone)]
pub struct BcryptGate {
    turns: Arc<Semaphore>,
    max_wait: Duration,
    waiting: Gauge,
}

impl BcryptGate {
    /// `concurrent` checks at a time (at least one), each waiting at most `max_wait`;
    /// `waiting` counts those waiting.
    pub fn new(concurrent: usize, max_wait: Duration, waiting: Gauge) -> Self {
        Self {
            turns: Arc::new(Semaphore::new(concurrent.max(1))),
            max_wait,
            waiting,
        }
    }

    /// One check at a time per CPU available to this process.
    pub fn per_cpu(waiting: Gauge) -> Self {
        Self::new(
            std::thread::available_parallelism().map_or(1, usize::from),
            MAX_WAIT,
            waiting,
        )
    }

    /// Runs `check` on the blocking pool, in the caller's span, once a turn is free; [`Busy`]
    /// if none is within the wait.
    pub async fn run<T, F>(&self, check: F) -> Result<T, Busy>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.waiting.inc();
        let turn =
            tokio::time::timeout(self.max_wait, Arc::clone(&self.turns).acquire_owned()).await;
        self.waiting.dec();
        let turn = turn.map_err(|_| Busy)?.map_err(|_| Busy)?;
        auth_core::blocking::run(move || {
            let _turn = turn;
            check()
        })
        .await
        .map_err(|_| Busy)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn checks_run_at_most_n_at_a_time() {
        let gate = BcryptGate::new(2, MAX_WAIT, Gauge::default());
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let checks = (0..8).map(|_| {
            let (gate, running, most) = (gate.clone(), Arc::clone(&running), Arc::clone(&most));
            tokio::spawn(async move {
                gate.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            })
        });
        for check in checks.collect::<Vec<_>>() {
            check.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_check_without_a_turn_is_refused_after_the_wait() {
        let waiting = Gauge::default();
        let gate = BcryptGate::new(1, Duration::from_millis(50), waiting.clone());
        let held = Arc::clone(&gate.turns).acquire_owned().await.unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&ran);
        let result = gate
            .run(move || counter.fetch_add(1, Ordering::SeqCst))
            .await;
        assert_eq!(result, Err(Busy));
        assert_eq!(ran.load(Ordering::SeqCst), 0, "a refused check never runs");
        assert_eq!(waiting.get(), 0);
        drop(held);
        assert_eq!(gate.run(|| 7).await, Ok(7));
    }
}
