//! Ed25519 signatures checked in batches: how client assertions cost half a verification.
//!
//! One Ed25519 check costs about 40 µs (a double-base scalar multiplication and a point
//! decompression); n checked together in one multiscalar multiplication
//! (`ed25519_dalek::verify_batch`, each weighted by a random 128-bit scalar drawn from a
//! transcript of every input) cost about 18 µs each from n = 8. Under load an actix worker
//! holds many requests that reach this check in the same turn of its event loop, so each
//! queues its signature on its thread's queue and yields once; the first to resume checks
//! the whole queue and hands every waiter its result. A request alone checks its own
//! signature with `verify_strict` after that one yield: nothing waits for company. Under
//! scripts/bench's 64 connections, batches averaged about 6 signatures.
//!
//! A batch that fails says only that one of its signatures is bad, so each is then checked
//! on its own: a bad signature costs its batch a second pass (the per-address failure
//! limit bounds how often) but never fails a good one. The two checks
//! differ only on signatures with small-order components (a batch does not refuse a
//! small-order `R`, and its random weights may cancel a small-order remainder), which only
//! the holder of the private key can make: RFC 8032 §5.1.7 leaves that choice to the
//! verifier, and no one else can make a signature that either accepts. Small-order public
//! keys, under which anyone could, are refused when a key is parsed (`PublicKey::ed25519`).

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use ed25519_dalek::Signature;

use super::keys::VerifyingKey;
use super::public_key::PublicKey;

/// The most signatures checked in one multiscalar multiplication: past about 16 the cost
/// per signature stops falling, and a longer batch only keeps its waiters longer.
const MAX_BATCH: usize = 32;

/// A signature waiting in its thread's queue, and where its request reads the result.
struct Waiting {
    key: ed25519_dalek::VerifyingKey,
    message: Box<[u8]>,
    signature: Signature,
    outcome: Arc<OnceLock<bool>>,
}

impl Waiting {
    /// Still wanted: not yet decided, and its request still waits for it.
    fn is_pending(&self) -> bool {
        self.outcome.get().is_none() && Arc::strong_count(&self.outcome) > 1
    }

    fn check_alone(&self) -> bool {
        self.key
            .verify_strict(&self.message, &self.signature)
            .is_ok()
    }
}

thread_local! {
    static QUEUE: RefCell<Vec<Waiting>> = const { RefCell::new(Vec::new()) };
}

#[cfg(test)]
thread_local! {
    /// The size of every batch this thread checked, for the tests to see batches form.
    static BATCH_SIZES: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

impl VerifyingKey {
    /// [`VerifyingKey::verifies`], with an Ed25519 signature checked together with the
    /// others that reach this thread in the same turn of its event loop (see the module's
    /// documentation). Other algorithms are checked at once.
    pub async fn verifies_batched(&self, message: &[u8], signature: &[u8]) -> bool {
        let PublicKey::Ed25519(key) = &self.public else {
            return self.verifies(message, signature);
        };
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        let outcome = Arc::new(OnceLock::new());
        QUEUE.with_borrow_mut(|queue| {
            queue.push(Waiting {
                key: *key,
                message: message.into(),
                signature,
                outcome: Arc::clone(&outcome),
            })
        });
        tokio::task::yield_now().await;
        if let Some(&verified) = outcome.get() {
            return verified;
        }
        check_queued();
        // Still undecided only when this request resumed on another thread (a work-stealing
        // runtime): its entry waits in the first thread's queue, and is dropped there once
        // decided here.
        *outcome.get_or_init(|| key.verify_strict(message, &signature).is_ok())
    }
}

/// Checks every signature waiting in this thread's queue, at most [`MAX_BATCH`] at a time.
fn check_queued() {
    let waiting = QUEUE.with_borrow_mut(std::mem::take);
    let pending: Vec<Waiting> = waiting.into_iter().filter(Waiting::is_pending).collect();
    for batch in pending.chunks(MAX_BATCH) {
        check(batch);
    }
}

/// Decides every signature of `batch`: all at once, or one by one when the batch fails.
fn check(batch: &[Waiting]) {
    #[cfg(test)]
    BATCH_SIZES.with_borrow_mut(|sizes| sizes.push(batch.len()));
    if let [one] = batch {
        let _ = one.outcome.set(one.check_alone());
        return;
    }
    let messages: Vec<&[u8]> = batch.iter().map(|w| &*w.message).collect();
    let signatures: Vec<Signature> = batch.iter().map(|w| w.signature).collect();
    let keys: Vec<ed25519_dalek::VerifyingKey> = batch.iter().map(|w| w.key).collect();
    if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
        for waiting in batch {
            let _ = waiting.outcome.set(true);
        }
    } else {
        for waiting in batch {
            let _ = waiting.outcome.set(waiting.check_alone());
        }
    }
}

#[cfg(test)]
mod tests;
