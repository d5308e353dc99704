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

    /// A token verified before, if its entry is still alive at `now`.
    pub fn get(&self, key: &[u8; 32], now: Instant) -> Option<Arc<VerifiedToken>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (token, until) = entries.get(key)?;
        (now < *until).then(|| Arc::clone(token))
    }

    /// Remembers at `now` a verified token for `expires_in` (at most [`TTL`]).
    pub fn insert(
        &self,
        key: [u8; 32],
        token: Arc<VerifiedToken>,
        expires_in: Duration,
        now: Instant,
    ) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.retain(|_, (_, until)| *until > now);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, (token, now + expires_in.min(TTL)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ClientId, TokenId};
    use crate::time::Timestamp;
    use crate::token::AccessTokenClaims;

    fn token() -> Arc<VerifiedToken> {
        let client_id = ClientId::generate();
        Arc::new(VerifiedToken {
            client_id: client_id.clone(),
            scopes: Vec::new(),
            issued_at: Timestamp::from_secs(1_000),
            expires_at: Timestamp::from_secs(4_600),
            claims: AccessTokenClaims {
                iss: "https://issuer.test".into(),
                sub: client_id.to_string(),
                client_id: client_id.to_string(),
                aud: "https://issuer.test".into(),
                iat: 1_000,
                iat_us: 1_000_000_000,
                nbf: None,
                exp: 4_600,
                jti: TokenId::generate(),
                scope: String::new(),
            },
        })
    }

    #[test]
    fn an_entry_lives_until_the_token_expires_or_the_ttl_ends() {
        let cache = VerifiedTokens::default();
        let start = Instant::now();
        let at = |seconds: u64| start + Duration::from_secs(seconds);
        let (short, long) = (VerifiedTokens::key("short"), VerifiedTokens::key("long"));
        cache.insert(short, token(), Duration::from_secs(5), start);
        cache.insert(long, token(), Duration::from_secs(3_600), start);
        assert!(cache.get(&short, at(4)).is_some());
        assert!(cache.get(&short, at(5)).is_none(), "the token expired");
        assert!(cache.get(&long, at(59)).is_some());
        assert!(cache.get(&long, at(60)).is_none(), "the TTL ended first");
        assert!(cache.get(&VerifiedTokens::key("never"), start).is_none());
    }
}
