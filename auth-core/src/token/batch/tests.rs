//! Tests of the parent module.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer as _;
use futures_util::future::join_all;

use super::*;
use crate::token::{JwkInput, KeyError};

/// The Ed25519 key of seed `[seed; 32]`, as the verifying key a JWKS would give.
fn key_pair(seed: u8) -> (ed25519_dalek::SigningKey, VerifyingKey) {
    let signing = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    let verifying = VerifyingKey::from_jwk(&okp(signing.verifying_key().as_bytes())).unwrap();
    (signing, verifying)
}

fn okp(x: &[u8]) -> JwkInput {
    JwkInput {
        kty: "OKP".into(),
        crv: Some("Ed25519".into()),
        x: Some(URL_SAFE_NO_PAD.encode(x)),
        y: None,
        n: None,
        e: None,
        kid: None,
        key_use: None,
        alg: None,
    }
}

/// `n` distinct keys, each with a message and its signature.
fn signed(n: u8) -> Vec<(VerifyingKey, Vec<u8>, Vec<u8>)> {
    (1..=n)
        .map(|seed| {
            let (signing, verifying) = key_pair(seed);
            let message = format!("assertion {seed}").into_bytes();
            let signature = signing.sign(&message).to_bytes().to_vec();
            (verifying, message, signature)
        })
        .collect()
}

/// Checks every (key, message, signature) concurrently in one task, as requests of one
/// worker do; returns the results and the sizes of the batches this thread checked.
async fn check_together(items: &[(VerifyingKey, Vec<u8>, Vec<u8>)]) -> (Vec<bool>, Vec<usize>) {
    BATCH_SIZES.with_borrow_mut(Vec::clear);
    let checks = items
        .iter()
        .map(|(key, message, signature)| key.verifies_batched(message, signature));
    let results = join_all(checks).await;
    (results, BATCH_SIZES.with_borrow_mut(std::mem::take))
}

#[tokio::test]
async fn concurrent_checks_share_one_batch() {
    let (results, batches) = check_together(&signed(8)).await;
    assert_eq!(results, [true; 8]);
    assert_eq!(batches, [8]);
}

/// `items` as queue entries, for the batch equation alone.
fn waiting(items: &[(VerifyingKey, Vec<u8>, Vec<u8>)]) -> Vec<Waiting> {
    items
        .iter()
        .map(|(key, message, signature)| {
            let PublicKey::Ed25519(key) = &key.public else {
                unreachable!("Ed25519 keys only")
            };
            Waiting {
                key: *key,
                message: message.as_slice().into(),
                signature: Signature::from_slice(signature).unwrap(),
                outcome: Arc::new(OnceLock::new()),
            }
        })
        .collect()
}

#[test]
fn the_batch_equation_holds_only_when_every_signature_does() {
    let items = signed(8);
    assert!(batch_holds(&waiting(&items)));
    assert!(batch_holds(&waiting(&items[..2])));
    for bad in 0..8 {
        let mut wrong_message = items.clone();
        wrong_message[bad].1.push(b'!');
        assert!(!batch_holds(&waiting(&wrong_message)), "message {bad}");
        let mut wrong_signature = items.clone();
        wrong_signature[bad].2[bad] ^= 0x40;
        assert!(!batch_holds(&waiting(&wrong_signature)), "signature {bad}");
    }
    // Two signatures swapped between their messages: each is a valid signature, of another.
    let mut swapped = items.clone();
    let first = swapped[0].2.clone();
    swapped[0].2 = swapped[1].2.clone();
    swapped[1].2 = first;
    assert!(!batch_holds(&waiting(&swapped)));
}

#[tokio::test]
async fn a_bad_signature_fails_itself_and_no_other() {
    let mut items = signed(8);
    items[3].1.push(b'!'); // the message no longer matches its signature
    items[6].2[0] ^= 1; // nor this signature its message
    let (results, batches) = check_together(&items).await;
    assert_eq!(results, [true, true, true, false, true, true, false, true]);
    assert_eq!(batches, [8]);
}

#[tokio::test]
async fn a_lone_check_is_not_held_back() {
    let (results, batches) = check_together(&signed(1)).await;
    assert_eq!(results, [true]);
    assert_eq!(batches, [1]);
    let mut items = signed(1);
    items[0].1.push(b'!');
    assert_eq!(check_together(&items).await.0, [false]);
}

#[tokio::test]
async fn a_non_canonical_s_is_refused_alone_and_in_a_batch() {
    // s + ℓ: the same residue, so the equation holds; RFC 8032 §5.1.7 requires s < ℓ.
    const ELL: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut items = signed(4);
    let s = &mut items[2].2[32..];
    let mut carry = 0u16;
    for (byte, add) in s.iter_mut().zip(ELL) {
        let sum = u16::from(*byte) + u16::from(add) + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    let (results, _) = check_together(&items).await;
    assert_eq!(results, [true, true, false, true]);
    assert_eq!(check_together(&items[2..3]).await.0, [false]);
}

#[tokio::test]
async fn a_malformed_signature_is_refused_before_queueing() {
    let mut items = signed(2);
    items[0].2.truncate(63);
    let (results, batches) = check_together(&items).await;
    assert_eq!(results, [false, true]);
    assert_eq!(batches, [1]);
}

#[test]
fn small_order_keys_are_refused() {
    // The identity (y = 1) and the point of order 2 (y = -1): under either, anyone could
    // sign anything an equation with a cofactor accepts.
    let identity = {
        let mut y = [0u8; 32];
        y[0] = 1;
        y
    };
    let order_two = {
        let mut y = [0xffu8; 32];
        y[0] = 0xec;
        y[31] = 0x7f;
        y
    };
    for x in [identity, order_two] {
        assert!(matches!(
            VerifyingKey::from_jwk(&okp(&x)),
            Err(KeyError::Unsupported)
        ));
    }
}

#[test]
fn a_check_resumed_on_another_thread_decides_alone() {
    use std::future::Future as _;
    use std::pin::pin;
    use std::task::{Context, Poll};

    let items = signed(1);
    let (key, message, signature) = &items[0];
    let mut context = Context::from_waker(futures_util::task::noop_waker_ref());
    let mut check = pin!(key.verifies_batched(message, signature));
    // First poll here: queued in this thread's queue.
    assert!(check.as_mut().poll(&mut context).is_pending());
    assert_eq!(QUEUE.with_borrow(Vec::len), 1);
    // Resumed on another thread, whose queue does not hold it.
    let resumed = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let mut context = Context::from_waker(futures_util::task::noop_waker_ref());
                check.as_mut().poll(&mut context)
            })
            .join()
            .unwrap()
    });
    assert_eq!(resumed, Poll::Ready(true));
    // The entry left behind is decided: the next batch here skips it.
    BATCH_SIZES.with_borrow_mut(Vec::clear);
    check_queued();
    assert_eq!(BATCH_SIZES.with_borrow(Vec::len), 0);
    assert_eq!(QUEUE.with_borrow(Vec::len), 0);
}
