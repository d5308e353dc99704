//! The verified-credentials cache: per client, the SHA-256 digests of secrets that
//! verified, the client's scopes, and the instant that state was read (see the parent
//! module for when an entry stops matching).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use auth_core::ids::ClientId;
use auth_core::revocation::{ClientState, ClientVersion};
use auth_core::scopes::Scope;
use auth_core::time::Timestamp;
use subtle::ConstantTimeEq as _;

/// Past this many clients the cache starts over: about 20 MB of entries at most (a burst
/// of 200,000 first tokens kept token-service within 50 MB of RSS; at 50,000 it reached
/// 70 MB). A replica with more active clients than this refills it by cold lookups, which
/// are batched and cost tens of microseconds each.
const CACHE_CAPACITY: usize = 20_000;

struct CachedClient {
    version: ClientVersion,
    scopes: Arc<[Scope]>,
    state_at: Timestamp,
    /// SHA-256 of each secret that verified, with when to stop trusting it.
    secrets: Vec<([u8; 32], Instant)>,
}

#[derive(Default)]
pub(super) struct VerifiedCredentials {
    clients: Mutex<HashMap<ClientId, CachedClient>>,
}

impl VerifiedCredentials {
    pub(super) fn get(
        &self,
        id: &ClientId,
        digests: &[[u8; 32]],
        client: ClientState,
    ) -> Option<(Arc<[Scope]>, Timestamp)> {
        let clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = clients
            .get(id)
            .filter(|e| e.version == client.version && !client.is_newer_than(e.state_at))?;
        let now = Instant::now();
        let known = entry.secrets.iter().any(|(known, until)| {
            *until > now && digests.iter().any(|digest| bool::from(known.ct_eq(digest)))
        });
        known.then(|| (Arc::clone(&entry.scopes), entry.state_at))
    }

    pub(super) fn insert(
        &self,
        id: ClientId,
        digest: [u8; 32],
        until: Instant,
        version: ClientVersion,
        scopes: Arc<[Scope]>,
        state_at: Timestamp,
    ) {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if clients.len() >= CACHE_CAPACITY && !clients.contains_key(&id) {
            // Dropped after the lock is released: freeing every entry takes milliseconds,
            // which no other request should wait for.
            let full = std::mem::take(&mut *clients);
            drop(clients);
            drop(full);
            clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        }
        let entry = clients.entry(id).or_insert_with(|| CachedClient {
            version,
            scopes: Arc::clone(&scopes),
            state_at,
            secrets: Vec::new(),
        });
        if entry.version != version || entry.state_at < state_at {
            *entry = CachedClient {
                version,
                scopes,
                state_at,
                secrets: Vec::new(),
            };
        }
        let now = Instant::now();
        entry
            .secrets
            .retain(|(known, until)| *until > now && known != &digest);
        entry.secrets.push((digest, until));
    }
}
