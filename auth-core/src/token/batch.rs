//! Ed25519 signatures checked in batches: how client assertions cost half a verification.
//!
//! One Ed25519 check costs about 40 µs (a double-base scalar multiplication and a point
//! decompression); n checked together in one multiscalar multiplication cost about 18 µs
//! each from n = 8. Under load an actix worker holds many requests that reach this check in
//! the same turn of its event loop, so each queues its signature on its thread's queue and
//! yields once; the first to resume checks the whole queue and hands every waiter its
//! result. A request alone checks its own signature with `verify_strict` after that one
//! yield: nothing waits for company. Under scripts/bench's 64 connections, batches
//! averaged about 6 signatures.
//!
//! The batch equation is RFC 8032 §5.1.7's cofactored one, each signature weighted by an
//! independent random 128-bit scalar (Bernstein et al., "High-speed high-security
//! signatures", §5): it holds for a batch with a bad signature with probability 2⁻¹²⁸ at
//! most. A batch that fails says only that one of its signatures is bad, so each is then
//! checked on its own: a bad signature costs its batch a second pass (the per-address
//! failure limit bounds how often) but never fails a good one. The two checks differ only
//! on signatures with small-order components (a batch, being cofactored, does not see a
//! small-order `R` or remainder), which only the holder of the private key can make:
//! RFC 8032 leaves that choice to the verifier, and no one else can make a signature that
//! either accepts. Small-order public keys, under which anyone could, are refused when a
//! key is parsed (`PublicKey::ed25519`).

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity as _, VartimeMultiscalarMul as _};
use ed25519_dalek::Signature;
use rand::Rng as _;
use sha2::{Digest as _, Sha512};

use super::keys::VerifyingKey;
use super::public_key::{PublicKey, ed25519_verifies};

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
        ed25519_verifies(&self.key, &self.message, &self.signature)
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
        let Ok(parsed) = Signature::from_slice(signature) else {
            return false;
        };
        let outcome = Arc::new(OnceLock::new());
        QUEUE.with_borrow_mut(|queue| {
            queue.push(Waiting {
                key: *key,
                message: message.into(),
                signature: parsed,
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
        *outcome.get_or_init(|| self.verifies(message, signature))
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
    if batch_holds(batch) {
        for waiting in batch {
            let _ = waiting.outcome.set(true);
        }
    } else {
        for waiting in batch {
            let _ = waiting.outcome.set(waiting.check_alone());
        }
    }
}

/// True when `[8](Σ [zᵢ]Rᵢ + Σ [zᵢhᵢ]Aᵢ − [Σ zᵢsᵢ]B)` is the identity, with hᵢ =
/// SHA-512(Rᵢ ‖ Aᵢ ‖ Mᵢ) and random 128-bit zᵢ; false as soon as an `s` is not canonical
/// (RFC 8032 §5.1.7 requires s < ℓ) or an `R` is not a point. (The negation of §5.1.7's
/// `[8][s]B = [8]R + [8][h]A`, summed: the `R`s keep their 128-bit weights, so their share of
/// the multiplication needs half the additions that −zᵢ, a full-size scalar, would; too little
/// to show under scripts/bench's load, see docs/BENCHMARKS.md, 2026-12-01 16:46.)
fn batch_holds(batch: &[Waiting]) -> bool {
    let mut rng = rand::thread_rng();
    let mut base = Scalar::ZERO;
    let mut scalars = Vec::with_capacity(2 * batch.len() + 1);
    let mut points = Vec::with_capacity(2 * batch.len() + 1);
    for waiting in batch {
        let (r, s) = (waiting.signature.r_bytes(), waiting.signature.s_bytes());
        let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(*s)) else {
            return false;
        };
        let Some(r_point) = CompressedEdwardsY(*r).decompress() else {
            return false;
        };
        let digest = Sha512::new()
            .chain_update(r)
            .chain_update(waiting.key.as_bytes())
            .chain_update(&waiting.message)
            .finalize();
        let h = Scalar::from_bytes_mod_order_wide(&digest.into());
        let z = Scalar::from(rng.r#gen::<u128>());
        base += z * s;
        scalars.extend([z, z * h]);
        points.extend([r_point, waiting.key.to_edwards()]);
    }
    scalars.push(-base);
    points.push(ED25519_BASEPOINT_POINT);
    EdwardsPoint::vartime_multiscalar_mul(scalars, points)
        .mul_by_cofactor()
        .is_identity()
}

#[cfg(test)]
mod tests;
