//! The verified-credentials cache: per client, the SHA-256 digests of secrets that
//! verified, what the client is granted (scopes, own limits), and the instant that state
//! was read (see the parent module for when an entry stops matching).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use auth_core::ids::ClientId;
use auth_core::limits::ClientLimits;
use auth_core::revocation::{ClientState, ClientVersion};
use auth_core::scopes::Scope;
use auth_core::store::{StoreError, clients};
use auth_core::time::Timestamp;
use subtle::ConstantTimeEq as _;

/// Past this many clients the cache starts over: about 20 MB of entries at most (a burst
/// of 200,000 first tokens kept token-service within 50 MB of RSS; at 50,000 it reached
/// 70 MB). A replica with more active clients than this refills it by cold lookups, which
/// are batched and cost tens of microseconds each.
const CACHE_CAPACITY: usize = 20_000;

/// What a verified client is granted: its scopes, its own limits and the further
/// audiences it may ask tokens for.
#[derive(Debug, Clone)]
pub(super) struct Granted {
    pub scopes: Arc<[Scope]>,
    pub limits: ClientLimits,
    pub audiences: Arc<[String]>,
}

impl Granted {
    /// What a stored client with `scopes` is granted.
    pub fn of(client: &clients::Client, scopes: Vec<Scope>) -> Result<Self, StoreError> {
        Ok(Self {
            scopes: scopes.into(),
            limits: client.limits(),
            audiences: client.audience_list()?.into(),
        })
    }
}

struct CachedClient {
    version: ClientVersion,
    granted: Granted,
    state_at: Timestamp,
    /// SHA-256 of each secret that verified, with when to stop trusting it.
    secrets: Vec<([u8; 32], Instant)>,
}

#[derive(Default)]
pub(super) struct VerifiedCredentials {
    clients: Mutex<HashMap<ClientId, CachedClient>>,
}

impl VerifiedCredentials {
    /// What `id` is granted and when that was read, if one of `digests` verified before and
    /// is still trusted at `now`, and nothing changed for the client since.
    pub(super) fn get(
        &self,
        id: &ClientId,
        digests: &[[u8; 32]],
        client: ClientState,
        now: Instant,
    ) -> Option<(Granted, Timestamp)> {
        let clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = clients
            .get(id)
            .filter(|e| e.version == client.version && !client.is_newer_than(e.state_at))?;
        let known = entry.secrets.iter().any(|(known, until)| {
            *until > now && digests.iter().any(|digest| bool::from(known.ct_eq(digest)))
        });
        known.then(|| (entry.granted.clone(), entry.state_at))
    }

    /// Remembers at `now` that `digest` verified for `id`, trusted until `until`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn insert(
        &self,
        id: ClientId,
        digest: [u8; 32],
        now: Instant,
        until: Instant,
        version: ClientVersion,
        granted: Granted,
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
            granted: granted.clone(),
            state_at,
            secrets: Vec::new(),
        });
        if entry.version != version || entry.state_at < state_at {
            *entry = CachedClient {
                version,
                granted,
                state_at,
                secrets: Vec::new(),
            };
        }
        entry
            .secrets
            .retain(|(known, until)| *until > now && known != &digest);
        entry.secrets.push((digest, until));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use auth_core::revocation::Cutoff;

    use super::*;

    #[test]
    fn an_entry_is_trusted_until_its_end_and_only_for_its_version() {
        let cache = VerifiedCredentials::default();
        let id = ClientId::generate();
        let start = Instant::now();
        let read_at = Timestamp::from_micros(1_000);
        let state = ClientState {
            version: ClientVersion::default(),
            cutoff: Cutoff::Before(Timestamp::from_micros(500)),
        };
        let granted = Granted {
            scopes: Arc::from(Vec::new()),
            limits: ClientLimits::default(),
            audiences: Arc::from(Vec::new()),
        };
        let until = start + Duration::from_secs(10);
        cache.insert(
            id.clone(),
            [7; 32],
            start,
            until,
            state.version,
            granted,
            read_at,
        );
        let at = |seconds: u64| start + Duration::from_secs(seconds);
        assert!(cache.get(&id, &[[7; 32]], state, at(9)).is_some());
        assert!(
            cache.get(&id, &[[8; 32]], state, at(9)).is_none(),
            "another secret"
        );
        assert!(
            cache.get(&id, &[[7; 32]], state, at(10)).is_none(),
            "the trust ended"
        );
        let revoked = ClientState {
            cutoff: Cutoff::Before(Timestamp::from_micros(2_000)),
            ..state
        };
        assert!(
            cache.get(&id, &[[7; 32]], revoked, at(1)).is_none(),
            "a newer cut-off"
        );
    }
}
