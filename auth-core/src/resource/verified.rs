//! Recently verified tokens, so a token presented again skips signature verification.
//!
//! Keyed by the SHA-256 of the token (the token itself is not kept), each entry lives until
//! the token expires or [`TTL`] passes. Revocation is still checked on every request: this
//! cache only saves the signature and claim checks, which cannot change for a given token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

use crate::token::VerifiedToken;

const TTL: Duration = Duration::from_secs(60);
const CAPACITY: usize = 100_000;

/// Token digest → (verified token, end of the entry's life).
type Entries = HashMap<[u8; 32], (Arc<VerifiedToken>, Instant)>;

#[derive(Default)]
pub struct VerifiedTokens {
    entries: Mutex<Entries>,
}

impl VerifiedTokens {
    pub fn key(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    /// A token verified before, if it is still within its entry's life.
    pub fn get(&self, key: &[u8; 32]) -> Option<Arc<VerifiedToken>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (token, until) = entries.get(key)?;
        (Instant::now() < *until).then(|| Arc::clone(token))
    }

    /// Remembers a verified token until `expires_in` from now (at most [`TTL`]).
    pub fn insert(&self, key: [u8; 32], token: Arc<VerifiedToken>, expires_in: Duration) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            let now = Instant::now();
            entries.retain(|_, (_, until)| *until > now);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, (token, Instant::now() + expires_in.min(TTL)));
    }
}
