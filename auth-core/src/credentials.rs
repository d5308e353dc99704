//! Client authentication for the token endpoint: root from the environment, others by
//! bcrypt, and a cache of verified credentials so a warm request costs no bcrypt.
//!
//! Unknown clients cost the same work as a wrong secret (the database lookup, then bcrypt
//! against a dummy hash), and both give the same answer. Both run on the low-priority threads
//! of [`BcryptQueue`], where a check waits at most 2 s (then 503), so a flood of wrong
//! secrets only uses CPU time that answering warm requests leaves over, and a check whose
//! caller has gone is never computed, its lookup included.
//!
//! The cache maps a client to the SHA-256 digests of secrets that verified, with the
//! client's scopes and the instant that state was read. It is used only while this process
//! follows the change channel (Redis pub/sub): any change to the client (scopes, secret,
//! deletion, revocation) bumps the client's version and the entry no longer matches; so does
//! a cut-off newer than the entry that this process learnt of without its message.
//! Tokens built from an entry carry its read instant as `iat_us`, so an entry that is
//! stale for the few milliseconds a change takes to arrive yields only revoked tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use secrecy::ExposeSecret as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::bcrypt_queue::BcryptQueue;
use crate::ids::ClientId;
use crate::metrics::{Metrics, ResultLabel};
use crate::ratelimit::FailureLimiter;
use crate::revocation::{ClientState, ClientVersion, Revocations};
use crate::scopes::Scope;
use crate::secret::{ClientSecret, SecretHasher, secrets_equal};
use crate::settings::RootClient;
use crate::store::{Store, StoreError, clients, registry};
use crate::time::Timestamp;

/// How long a verified secret is trusted without news. Changes evict entries at once over
/// the change channel, and the cache is cleared whenever the subscription is re-made, so this
/// is only a backstop; a short one would make every warm client pay bcrypt again each time
/// it runs out, which at a few thousand active clients saturates the bcrypt slot.
const CACHE_TTL: Duration = Duration::from_secs(3600);
/// Past this many clients the cache starts over.
const CACHE_CAPACITY: usize = 50_000;

/// A client whose credentials checked out, with the scopes it may be granted.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    pub client_id: ClientId,
    pub scopes: Arc<[Scope]>,
    pub is_root: bool,
    /// When the client state behind this answer was read (the token's `iat_us`).
    pub state_at: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthenticateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Too many secret checks are waiting for bcrypt; retry later.
    #[error("too many secret verifications are waiting")]
    Busy,
    /// Too many failed attempts for this client id or address; retry after this long.
    #[error("too many failed attempts")]
    RateLimited(Duration),
}

struct CachedClient {
    version: ClientVersion,
    scopes: Arc<[Scope]>,
    state_at: Timestamp,
    /// SHA-256 of each secret that verified, with when to stop trusting it.
    secrets: Vec<([u8; 32], Instant)>,
}

#[derive(Default)]
struct VerifiedCredentials {
    clients: Mutex<HashMap<ClientId, CachedClient>>,
}

impl VerifiedCredentials {
    fn get(
        &self,
        id: &ClientId,
        digest: &[u8; 32],
        client: ClientState,
    ) -> Option<(Arc<[Scope]>, Timestamp)> {
        let clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = clients
            .get(id)
            .filter(|e| e.version == client.version && !client.is_newer_than(e.state_at))?;
        let now = Instant::now();
        let known = entry
            .secrets
            .iter()
            .any(|(known, until)| *until > now && bool::from(known.ct_eq(digest)));
        known.then(|| (Arc::clone(&entry.scopes), entry.state_at))
    }

    fn insert(
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
            clients.clear();
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

#[derive(Clone)]
pub struct ClientAuthenticator {
    store: Store,
    hasher: SecretHasher,
    root: Arc<RootClient>,
    bcrypt: BcryptQueue,
    metrics: Arc<Metrics>,
    revocations: Revocations,
    cache: Arc<VerifiedCredentials>,
    limiter: Arc<FailureLimiter>,
}

impl ClientAuthenticator {
    /// Also starts the bcrypt threads (one per CPU); an error if they cannot be spawned.
    pub fn new(
        store: Store,
        hasher: SecretHasher,
        root: RootClient,
        revocations: Revocations,
        limiter: Arc<FailureLimiter>,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<Self> {
        Ok(Self {
            store,
            hasher,
            root: Arc::new(root),
            bcrypt: BcryptQueue::start_per_cpu(metrics.bcrypt_waiting.clone())?,
            metrics,
            revocations,
            cache: Arc::default(),
            limiter,
        })
    }

    pub fn root_id(&self) -> &ClientId {
        &self.root.id
    }

    /// Checks `secret` for `client_id`, presented from `address`, as of `now`. `Ok(None)`:
    /// unknown client or wrong secret, deliberately indistinguishable. Failures count
    /// against the client id and the address; past the limits, checks that would need the
    /// root secret or bcrypt are refused ([`AuthenticateError::RateLimited`]).
    pub async fn authenticate(
        &self,
        client_id: ClientId,
        secret: ClientSecret,
        address: Option<std::net::IpAddr>,
        now: Timestamp,
    ) -> Result<Option<AuthenticatedClient>, AuthenticateError> {
        let result = self
            .authenticate_limited(client_id.clone(), secret, address, now)
            .await;
        if let Ok(None) = result {
            self.limiter
                .record_failure(client_id.as_str(), address)
                .await;
        }
        result
    }

    async fn authenticate_limited(
        &self,
        client_id: ClientId,
        secret: ClientSecret,
        address: Option<std::net::IpAddr>,
        now: Timestamp,
    ) -> Result<Option<AuthenticatedClient>, AuthenticateError> {
        if client_id == self.root.id {
            self.check_limits(&client_id, address).await?;
            if !secrets_equal(secret.expose(), self.root.secret.expose_secret()) {
                return Ok(None);
            }
            let scopes = self.store.run(registry::all).await?;
            return Ok(Some(AuthenticatedClient {
                client_id,
                scopes: scopes.into(),
                is_root: true,
                state_at: now,
            }));
        }

        let digest: [u8; 32] = Sha256::digest(secret.expose().as_bytes()).into();
        // Read before the database, so a change arriving meanwhile invalidates the entry.
        let state = self.revocations.client_state(client_id.as_str());
        if let Some(state) = state
            && let Some((scopes, state_at)) = self.cache.get(&client_id, &digest, state)
        {
            self.metrics
                .secret_cache
                .get_or_create(&ResultLabel { result: "hit" })
                .inc();
            return Ok(Some(AuthenticatedClient {
                client_id,
                scopes,
                is_root: false,
                state_at,
            }));
        }
        self.metrics
            .secret_cache
            .get_or_create(&ResultLabel { result: "miss" })
            .inc();
        self.check_limits(&client_id, address).await?;
        let verified = self.verify(&client_id, secret, now).await?;
        let Some((scopes, valid_until)) = verified else {
            return Ok(None);
        };
        let scopes: Arc<[Scope]> = scopes.into();
        if let Some(ClientState { version, .. }) = state {
            let ttl = valid_until.map_or(CACHE_TTL, |until| {
                let left = until.as_micros().saturating_sub(now.as_micros());
                CACHE_TTL.min(Duration::from_micros(u64::try_from(left).unwrap_or(0)))
            });
            self.cache.insert(
                client_id.clone(),
                digest,
                Instant::now() + ttl,
                version,
                Arc::clone(&scopes),
                now,
            );
        }
        Ok(Some(AuthenticatedClient {
            client_id,
            scopes,
            is_root: false,
            state_at: now,
        }))
    }

    async fn check_limits(
        &self,
        client_id: &ClientId,
        address: Option<std::net::IpAddr>,
    ) -> Result<(), AuthenticateError> {
        self.limiter
            .check(client_id.as_str(), address)
            .await
            .map_err(|blocked| AuthenticateError::RateLimited(blocked.retry_after))
    }

    /// Looks the client up and runs bcrypt against its hashes (or a dummy hash for an
    /// unknown client), both on a bcrypt thread. Returns the scopes and, for a secret in its
    /// grace period, when it stops working.
    async fn verify(
        &self,
        client_id: &ClientId,
        secret: ClientSecret,
        now: Timestamp,
    ) -> Result<Option<(Vec<Scope>, Option<Timestamp>)>, AuthenticateError> {
        let (store, hasher, id) = (self.store.clone(), self.hasher.clone(), client_id.clone());
        let verifications = self.metrics.bcrypt_verifications.clone();
        let verified = self
            .bcrypt
            .run(move || {
                let found = store.with_conn(|conn| clients::find_with_scopes(conn, &id))?;
                verifications.inc();
                let _span = tracing::info_span!("secret.verify").entered();
                Ok::<_, StoreError>(match found {
                    None => {
                        hasher.verify_unknown(&secret);
                        None
                    }
                    Some((client, scopes)) => client
                        .secret_hashes(now)
                        .into_iter()
                        .find(|(hash, _)| hasher.verify(&secret, hash))
                        .map(|(_, until)| (scopes, until)),
                })
            })
            .await
            .map_err(|_| AuthenticateError::Busy)??;
        Ok(verified)
    }
}
