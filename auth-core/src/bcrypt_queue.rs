//! Where secret checks wait for bcrypt (feature `server`): a few dedicated threads at the
//! lowest CPU priority, fed by a bounded queue in which a check waits at most [`MAX_WAIT`].
//!
//! bcrypt is the one expensive thing a token request can ask for, and anybody can ask for it
//! (a wrong secret or an unknown client costs as much as a right one). So it never runs on
//! the async workers or tokio's blocking pool, and it never competes with them for the CPU:
//! its threads run at nice 19 (Linux gives each thread its own nice value), so they use the
//! CPU time that answering requests leaves over, all of it on an idle machine, very little
//! while warm requests keep every core busy. A flood of wrong secrets therefore cannot slow
//! down clients whose credentials are cached: its requests wait, holding nothing but their
//! connection, and are answered 503 after [`MAX_WAIT`], or at once when too many wait.
//! A check whose caller gave up or went away (client disconnected) is dropped from the
//! queue at once, never computed.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use prometheus_client::metrics::gauge::Gauge;

/// The longest a check waits for a thread before its caller gets 503.
pub const MAX_WAIT: Duration = Duration::from_secs(2);
/// Checks allowed to wait, per thread; past that, new checks are refused at once.
const WAITING_PER_THREAD: usize = 512;
/// The nice value of the bcrypt threads: the lowest priority a process may give itself.
const NICE: i32 = 19;

/// Why a check did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// Too many checks were waiting, or this one waited [`MAX_WAIT`] without a thread.
    #[error("too many secret checks are waiting")]
    Busy,
}

type Job = Box<dyn FnOnce() + Send>;

/// The states of one queued check: whoever moves it out of `WAITING` first owns it.
const WAITING: u8 = 0;
const RUNNING: u8 = 1;
const ABANDONED: u8 = 2;

/// One queued check.
struct Slot {
    state: AtomicU8,
    job: Mutex<Option<Job>>,
}

impl Slot {
    /// Moves the check out of `WAITING`; true if this call did.
    fn leave_waiting(&self, to: u8) -> bool {
        self.state
            .compare_exchange(WAITING, to, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn take_job(&self) -> Option<Job> {
        self.job
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

struct Shared {
    queue: Mutex<VecDeque<Arc<Slot>>>,
    ready: Condvar,
    /// Checks in the `WAITING` state (also exported as `waiting`).
    live: AtomicUsize,
    capacity: usize,
    waiting: Gauge,
    stopped: AtomicBool,
    /// Checks refused since the last warning, and when that warning was written.
    shed: AtomicUsize,
    warned: Mutex<Option<Instant>>,
}

impl Shared {
    fn queue(&self) -> MutexGuard<'_, VecDeque<Arc<Slot>>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A check left the `WAITING` state.
    fn left(&self) {
        self.live.fetch_sub(1, Ordering::AcqRel);
        self.waiting.dec();
    }
}

/// The queue and its threads; cheap to clone. The threads stop when the last clone is dropped.
#[derive(Clone)]
pub struct BcryptQueue {
    shared: Arc<Shared>,
    /// Dropped with the last clone, which stops the threads.
    _stop: Arc<Stop>,
}

/// Stops the threads when dropped.
struct Stop(Arc<Shared>);

impl Drop for Stop {
    fn drop(&mut self) {
        self.0.stopped.store(true, Ordering::Release);
        let _queue = self.0.queue();
        self.0.ready.notify_all();
    }
}

impl std::fmt::Debug for BcryptQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BcryptQueue")
            .field("capacity", &self.shared.capacity)
            .finish_non_exhaustive()
    }
}

/// Abandons its check if dropped while the check still waits: on timeout, and when the
/// caller's future is dropped (the client disconnected).
struct WaitGuard<'a> {
    slot: Arc<Slot>,
    shared: &'a Shared,
}

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        if self.slot.leave_waiting(ABANDONED) {
            self.shared.left();
            // Frees what the check holds (the secret among it) now, not when a thread
            // reaches the empty slot.
            drop(self.slot.take_job());
        }
    }
}

impl BcryptQueue {
    /// Starts `threads` bcrypt threads (at least one); `waiting` counts the waiting checks.
    pub fn start(threads: usize, waiting: Gauge) -> std::io::Result<Self> {
        let threads = threads.max(1);
        let shared = Arc::new(Shared {
            queue: Mutex::default(),
            ready: Condvar::new(),
            live: AtomicUsize::new(0),
            capacity: threads * WAITING_PER_THREAD,
            waiting,
            stopped: AtomicBool::new(false),
            shed: AtomicUsize::new(0),
            warned: Mutex::new(None),
        });
        for index in 0..threads {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("bcrypt-{index}"))
                .spawn(move || work(&shared))?;
        }
        Ok(Self {
            _stop: Arc::new(Stop(Arc::clone(&shared))),
            shared,
        })
    }

    /// One thread per CPU available to this process.
    pub fn start_per_cpu(waiting: Gauge) -> std::io::Result<Self> {
        Self::start(
            std::thread::available_parallelism().map_or(1, usize::from),
            waiting,
        )
    }

    /// Runs `check` on a bcrypt thread, in the caller's span, and returns its result; or
    /// [`QueueError::Busy`] if too many checks wait or no thread started it within
    /// [`MAX_WAIT`]. A check that started is waited for, however long bcrypt takes.
    pub async fn run<T, F>(&self, check: F) -> Result<T, QueueError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let shared = &*self.shared;
        if shared.live.fetch_add(1, Ordering::AcqRel) >= shared.capacity {
            shared.live.fetch_sub(1, Ordering::AcqRel);
            return Err(self.refuse());
        }
        shared.waiting.inc();
        let (reply, mut answer) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        let slot = Arc::new(Slot {
            state: AtomicU8::new(WAITING),
            job: Mutex::new(Some(Box::new(move || {
                let _ = reply.send(span.in_scope(check));
            }))),
        });
        {
            let mut queue = shared.queue();
            // Abandoned slots are dropped as threads reach them; should they pile up (threads
            // starved by a busy machine), the queue is swept so it stays near `capacity`.
            if queue.len() >= 2 * shared.capacity {
                queue.retain(|slot| slot.state.load(Ordering::Acquire) == WAITING);
            }
            queue.push_back(Arc::clone(&slot));
        }
        shared.ready.notify_one();
        let guard = WaitGuard { slot, shared };

        if let Ok(result) = tokio::time::timeout(MAX_WAIT, &mut answer).await {
            return result.map_err(|_| self.refuse());
        }
        // Timed out: abandon the check, unless a thread started it just in time, in which
        // case its answer is worth the wait.
        drop(guard);
        match answer.await {
            Ok(result) => Ok(result),
            Err(_) => Err(self.refuse()),
        }
    }

    /// Counts a refusal; warns at most once every 10 s, with the count since the last warning.
    fn refuse(&self) -> QueueError {
        const EVERY: Duration = Duration::from_secs(10);
        let shared = &*self.shared;
        shared.shed.fetch_add(1, Ordering::Relaxed);
        let mut warned = shared.warned.lock().unwrap_or_else(PoisonError::into_inner);
        if warned.is_none_or(|at| at.elapsed() >= EVERY) {
            *warned = Some(Instant::now());
            let shed = shared.shed.swap(0, Ordering::Relaxed);
            tracing::warn!(
                shed,
                "secret checks refused: too many waiting for bcrypt, or waiting too long (503)"
            );
        }
        QueueError::Busy
    }
}

/// A bcrypt thread: lowers its own priority, then runs checks until the queue is dropped.
fn work(shared: &Shared) {
    lower_priority();
    loop {
        let slot = {
            let mut queue = shared.queue();
            loop {
                if shared.stopped.load(Ordering::Acquire) {
                    return;
                }
                if let Some(slot) = queue.pop_front() {
                    break slot;
                }
                queue = shared
                    .ready
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        if slot.leave_waiting(RUNNING) {
            shared.left();
            if let Some(job) = slot.take_job() {
                // A check that panics answers nobody (its caller gets 503) and must not take
                // the thread with it.
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
                    tracing::error!("a secret check panicked");
                }
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    let thread = rustix::thread::gettid();
    if let Err(error) = rustix::process::setpriority_process(Some(thread), NICE) {
        tracing::warn!(%error, "could not lower the priority of a bcrypt thread");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

/// The nice value of the calling thread (Linux), for tests.
#[cfg(all(test, target_os = "linux"))]
fn current_nice() -> i32 {
    rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(threads: usize) -> BcryptQueue {
        BcryptQueue::start(threads, Gauge::default()).unwrap()
    }

    /// Keeps the only thread of `queue` busy until the returned barrier is passed.
    async fn occupy(
        queue: &BcryptQueue,
    ) -> (
        Arc<std::sync::Barrier>,
        tokio::task::JoinHandle<Result<(), QueueError>>,
    ) {
        let gate = Arc::new(std::sync::Barrier::new(2));
        let running = Arc::new(AtomicBool::new(false));
        let blocker = {
            let (queue, gate, running) = (queue.clone(), Arc::clone(&gate), Arc::clone(&running));
            tokio::spawn(async move {
                queue
                    .run(move || {
                        running.store(true, Ordering::SeqCst);
                        gate.wait();
                    })
                    .await
            })
        };
        while !running.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        (gate, blocker)
    }

    #[tokio::test]
    async fn checks_run_on_low_priority_named_threads() {
        let queue = queue(1);
        let (name, nice) = queue
            .run(|| {
                let name = std::thread::current().name().map(str::to_owned);
                #[cfg(target_os = "linux")]
                let nice = current_nice();
                #[cfg(not(target_os = "linux"))]
                let nice = NICE;
                (name, nice)
            })
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("bcrypt-0"));
        assert_eq!(nice, NICE);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_a_late_check_is_skipped() {
        let queue = queue(1);
        let (gate, blocker) = occupy(&queue).await;
        // Fill the queue behind it.
        let ran = Arc::new(AtomicUsize::new(0));
        let mut queued = Vec::new();
        for _ in 0..WAITING_PER_THREAD {
            let (queue, ran) = (queue.clone(), Arc::clone(&ran));
            queued.push(tokio::spawn(async move {
                queue.run(move || ran.fetch_add(1, Ordering::SeqCst)).await
            }));
        }
        while usize::try_from(queue.shared.waiting.get()).unwrap() < WAITING_PER_THREAD {
            tokio::task::yield_now().await;
        }
        let started = Instant::now();
        assert_eq!(queue.run(|| ()).await, Err(QueueError::Busy));
        assert!(
            started.elapsed() < MAX_WAIT,
            "refused at once, not after waiting"
        );

        // The waiting checks give up after MAX_WAIT; released afterwards, the thread skips
        // every one of them instead of computing answers nobody reads.
        for check in queued {
            assert_eq!(check.await.unwrap(), Err(QueueError::Busy));
        }
        gate.wait();
        assert_eq!(
            blocker.await.unwrap(),
            Ok(()),
            "a check that started in time is waited for, however long it takes"
        );
        while queue.shared.waiting.get() != 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        assert_eq!(queue.run(|| 7).await, Ok(7));
    }

    #[tokio::test]
    async fn a_check_whose_caller_went_away_is_not_computed() {
        let queue = queue(1);
        let (gate, blocker) = occupy(&queue).await;
        let ran = Arc::new(AtomicUsize::new(0));
        let gone = {
            let (queue, ran) = (queue.clone(), Arc::clone(&ran));
            tokio::spawn(async move { queue.run(move || ran.fetch_add(1, Ordering::SeqCst)).await })
        };
        while queue.shared.waiting.get() != 1 {
            tokio::task::yield_now().await;
        }
        // The client disconnects: actix drops the handler's future, and with it the check.
        gone.abort();
        assert!(gone.await.unwrap_err().is_cancelled());
        gate.wait();
        blocker.await.unwrap().unwrap();
        assert_eq!(queue.run(|| 1).await, Ok(1));
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn abandoned_checks_free_their_data_at_once_and_never_pile_up() {
        let queue = queue(1);
        let (gate, blocker) = occupy(&queue).await;
        // The thread is starved: callers give up again and again (a flood).
        let held = Arc::new(());
        for cycle in 0..5 {
            let mut callers = Vec::new();
            for _ in 0..WAITING_PER_THREAD {
                let (queue, held) = (queue.clone(), Arc::clone(&held));
                callers.push(tokio::spawn(
                    async move { queue.run(move || drop(held)).await },
                ));
            }
            while usize::try_from(queue.shared.waiting.get()).unwrap() < WAITING_PER_THREAD {
                tokio::task::yield_now().await;
            }
            for (i, caller) in callers.into_iter().enumerate() {
                caller.abort();
                let r = caller.await;
                assert!(r.is_err(), "cycle {cycle} caller {i}: {r:?}");
            }
            assert_eq!(queue.shared.waiting.get(), 0);
            assert_eq!(
                Arc::strong_count(&held),
                1,
                "an abandoned check keeps nothing"
            );
            assert!(queue.shared.queue().len() <= 2 * queue.shared.capacity);
        }
        gate.wait();
        blocker.await.unwrap().unwrap();
        assert_eq!(queue.run(|| 2).await, Ok(2));
    }

    #[tokio::test]
    async fn a_check_that_panics_keeps_the_thread() {
        let queue = queue(1);
        let panicked = queue.run(|| -> u8 { panic!("a check that panics") }).await;
        assert_eq!(panicked, Err(QueueError::Busy));
        assert_eq!(queue.run(|| 3).await, Ok(3));
    }
}
