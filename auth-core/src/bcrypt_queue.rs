//! Where secret checks wait for bcrypt (feature `server`): a few dedicated threads at the
//! lowest CPU priority, fed by a bounded queue in which a check waits at most [`MAX_WAIT`].
//!
//! bcrypt is the one expensive thing a token request can ask for, and anybody can ask for it
//! (a wrong secret or an unknown client costs as much as a right one). So it never runs on
//! the async workers or tokio's blocking pool, and it never competes with them for the CPU:
//! its threads run at nice 19 (Linux gives each thread its own nice value), so they use the
//! CPU time that answering requests leaves over, all of it on an idle machine, very little
//! while warm requests keep every core busy. A flood of wrong secrets therefore cannot slow
//! down clients whose credentials are cached; it only waits, holding nothing but its
//! connection, and is answered 503 after [`MAX_WAIT`] (or at once when the queue is full).
//! A check whose caller went away (client disconnected) is skipped, not computed.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use prometheus_client::metrics::gauge::Gauge;

/// The longest a check waits for a thread before its caller gets 503.
pub const MAX_WAIT: Duration = Duration::from_secs(2);
/// Checks allowed to wait, per thread; past that, new checks are refused at once.
const QUEUE_PER_THREAD: usize = 512;
/// The nice value of the bcrypt threads: the lowest priority a process may give itself.
const NICE: i32 = 19;

/// Why a check did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// The queue was full, or the check waited [`MAX_WAIT`] without a thread.
    #[error("too many secret checks are waiting")]
    Busy,
}

type Job = Box<dyn FnOnce() + Send>;

/// The states of one check (see [`BcryptQueue::run`]).
const WAITING: u8 = 0;
const RUNNING: u8 = 1;
const ABANDONED: u8 = 2;

/// The queue and its threads; cheap to clone. The threads stop when the last clone is dropped.
#[derive(Clone)]
pub struct BcryptQueue {
    sender: SyncSender<Job>,
    waiting: Gauge,
    threads: usize,
    /// Checks refused since the last warning, and when that warning was written.
    shed: Arc<(AtomicUsize, Mutex<Option<Instant>>)>,
}

impl std::fmt::Debug for BcryptQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BcryptQueue")
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

impl BcryptQueue {
    /// Starts `threads` bcrypt threads (at least one); `waiting` counts the queued checks.
    pub fn start(threads: usize, waiting: Gauge) -> std::io::Result<Self> {
        let threads = threads.max(1);
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Job>(threads * QUEUE_PER_THREAD);
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..threads {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("bcrypt-{index}"))
                .spawn(move || work(&receiver))?;
        }
        Ok(Self {
            sender,
            waiting,
            threads,
            shed: Arc::default(),
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
    /// [`QueueError::Busy`] if the queue is full or no thread started it within [`MAX_WAIT`].
    /// A check that started is waited for, however long bcrypt takes at the configured cost.
    pub async fn run<T, F>(&self, check: F) -> Result<T, QueueError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (reply, mut answer) = tokio::sync::oneshot::channel();
        // Who moves first: a thread starting the check, or the caller giving up on it.
        let state = Arc::new(AtomicU8::new(WAITING));
        let span = tracing::Span::current();
        let waiting = self.waiting.clone();
        let job: Job = {
            let state = Arc::clone(&state);
            Box::new(move || {
                waiting.dec();
                // Gone (disconnected) or given up (waited too long): nobody needs the answer.
                if reply.is_closed()
                    || state
                        .compare_exchange(WAITING, RUNNING, Ordering::AcqRel, Ordering::Acquire)
                        .is_err()
                {
                    return;
                }
                let _ = reply.send(span.in_scope(check));
            })
        };
        self.waiting.inc();
        if self.sender.try_send(job).is_err() {
            self.waiting.dec();
            return Err(self.refuse());
        }
        if let Ok(result) = tokio::time::timeout(MAX_WAIT, &mut answer).await {
            return result.map_err(|_| self.refuse());
        }
        if state
            .compare_exchange(WAITING, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return Err(self.refuse());
        }
        // A thread started it just in time: its answer is worth the wait.
        answer.await.map_err(|_| self.refuse())
    }

    /// Counts a refusal; warns at most once every 10 s, with the count since the last warning.
    fn refuse(&self) -> QueueError {
        const EVERY: Duration = Duration::from_secs(10);
        let (count, last) = &*self.shed;
        count.fetch_add(1, Ordering::Relaxed);
        let mut last = last.lock().unwrap_or_else(PoisonError::into_inner);
        if last.is_none_or(|at| at.elapsed() >= EVERY) {
            *last = Some(Instant::now());
            let shed = count.swap(0, Ordering::Relaxed);
            tracing::warn!(
                shed,
                "secret checks refused: the bcrypt queue is full or too slow (503)"
            );
        }
        QueueError::Busy
    }
}

/// A bcrypt thread: lowers its own priority, then runs jobs until the queue is dropped.
fn work(receiver: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        let job = receiver
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        match job {
            Ok(job) => job(),
            Err(_) => return,
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
        let gate = Arc::new(std::sync::Barrier::new(2));
        // Occupy the only thread until the test releases it.
        let blocker = {
            let (queue, gate) = (queue.clone(), Arc::clone(&gate));
            tokio::spawn(async move {
                queue
                    .run(move || {
                        gate.wait();
                    })
                    .await
            })
        };
        while queue.waiting.get() != 0 {
            tokio::task::yield_now().await;
        }
        // Fill the queue behind it.
        let ran = Arc::new(AtomicUsize::new(0));
        let mut queued = Vec::new();
        for _ in 0..QUEUE_PER_THREAD {
            let (queue, ran) = (queue.clone(), Arc::clone(&ran));
            queued.push(tokio::spawn(async move {
                queue
                    .run(move || ran.fetch_add(1, Ordering::SeqCst))
                    .await
            }));
        }
        while usize::try_from(queue.waiting.get()).unwrap() < QUEUE_PER_THREAD {
            tokio::task::yield_now().await;
        }
        let started = Instant::now();
        assert_eq!(queue.run(|| ()).await, Err(QueueError::Busy));
        assert!(started.elapsed() < MAX_WAIT, "refused at once, not after waiting");

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
        while queue.waiting.get() != 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        assert_eq!(queue.run(|| 7).await, Ok(7));
    }

    #[tokio::test]
    async fn a_check_whose_caller_went_away_is_not_computed() {
        let queue = queue(1);
        let gate = Arc::new(std::sync::Barrier::new(2));
        let blocker = {
            let (queue, gate) = (queue.clone(), Arc::clone(&gate));
            tokio::spawn(async move {
                queue
                    .run(move || {
                        gate.wait();
                    })
                    .await
            })
        };
        while queue.waiting.get() != 0 {
            tokio::task::yield_now().await;
        }
        let ran = Arc::new(AtomicUsize::new(0));
        let gone = {
            let (queue, ran) = (queue.clone(), Arc::clone(&ran));
            tokio::spawn(async move { queue.run(move || ran.fetch_add(1, Ordering::SeqCst)).await })
        };
        while queue.waiting.get() != 1 {
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
}
