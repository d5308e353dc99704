//! Client authentication for the token endpoints (token, revoke, introspect): root from the environment, others by
//! their stored hash, and a cache of verified credentials so a warm request needs no
//! database read.
//!
//! Generated secrets are stored as SHA-256 and checked in microseconds; an unknown client
//! costs the same lookup and digest comparison as a wrong secret, and both give the same
//! answer. A hash imported from elsewhere is checked as its kind requires (bcrypt through
//! [`BcryptGate`], at most one check per CPU, waiting at most 2 s, then 503) and, once its
//! secret verified, replaced in the database by the fast form, so every replica pays
//! bcrypt for that client at most once, and usually none does again.
//!
//! The cache maps a client to the SHA-256 digests of secrets that verified, with the
//! client's scopes and the instant that state was read. It is used only while this process
//! follows the change channel (Redis pub/sub): any change to the client (scopes, secret,
//! deletion, revocation) bumps the client's version and the entry no longer matches; so does
//! a cut-off newer than the entry that this process learnt of without its message.
//! Tokens built from an entry carry its read instant as `iat_us`, so an entry that is
//! stale for the few milliseconds a change takes to arrive yields only revoked tokens.

pub mod assertion;
pub mod bcrypt_gate;
mod cache;
pub mod lookup;
pub mod ratelimit;

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret as _;

use auth_core::ids::ClientId;
use auth_core::limits::ClientLimits;
use auth_core::limits::window::Blocked;
use auth_core::metrics::{Metrics, ResultLabel};
use auth_core::revocation::{ClientState, Revocations};
use auth_core::scopes::Scope;
use auth_core::secret::{
    ClientSecret, FastCheck, PresentedSecret, SecretHash, StoredSecret, bcrypt_cost, secrets_equal,
    verify_bcrypt,
};
use auth_core::settings::RootClient;
use auth_core::store::{Store, StoreError, clients, registry};
use auth_core::time::Timestamp;

use bcrypt_gate::BcryptGate;
use cache::{Granted, VerifiedCredentials};
use lookup::{ClientLookup, Found};
use ratelimit::FailureLimiter;

/// How long a verified secret is trusted without news. Changes evict entries at once over
/// the change channel, and the cache is cleared whenever the subscription is re-made, so this
/// is only a backstop.
const CACHE_TTL: Duration = Duration::from_secs(3600);

/// A client whose credentials checked out, with the scopes it may be granted.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    pub client_id: ClientId,
    pub scopes: Arc<[Scope]>,
    /// The client's own limits (the root client has none: it is never limited).
    pub limits: ClientLimits,
    /// The audiences it may ask for besides the default one (the root client: any).
    pub audiences: Arc<[String]>,
    pub is_root: bool,
    /// When the client state behind this answer was read (the token's `iat_us`).
    pub state_at: Timestamp,
    /// Its tokens expire no later than this (seconds since the epoch): the platform
    /// token a workload authenticated with.
    pub expires_by: Option<i64>,
}

impl AuthenticatedClient {
    fn granted(client_id: ClientId, granted: Granted, state_at: Timestamp) -> Self {
        Self {
            client_id,
            scopes: granted.scopes,
            limits: granted.limits,
            audiences: granted.audiences,
            is_root: false,
            state_at,
            expires_by: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthenticateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Too many checks of imported bcrypt hashes are waiting, or the single-use record of
    /// assertions (Redis) does not answer; retry later.
    #[error("too many secret verifications are waiting, or Redis does not answer")]
    Busy,
    /// Too many failed attempts for this client id or address.
    #[error("too many failed attempts")]
    RateLimited(Blocked),
}

#[derive(Clone)]
pub struct ClientAuthenticator {
    store: Store,
    lookup: ClientLookup,
    root: Arc<RootClient>,
    bcrypt: BcryptGate,
    /// The highest bcrypt cost run for an imported hash (`BCRYPT_COST`).
    max_bcrypt_cost: u32,
    metrics: Arc<Metrics>,
    revocations: Revocations,
    cache: Arc<VerifiedCredentials>,
    limiter: Arc<FailureLimiter>,
    assertions: Arc<assertion::Assertions>,
}

impl ClientAuthenticator {
    pub fn new(
        store: Store,
        root: RootClient,
        revocations: Revocations,
        limiter: Arc<FailureLimiter>,
        metrics: Arc<Metrics>,
        max_bcrypt_cost: u32,
        assertions: assertion::Assertions,
    ) -> Self {
        Self {
            lookup: ClientLookup::start(
                store.clone(),
                metrics.client_lookups.clone(),
                metrics.client_lookup_queries.clone(),
            ),
            store,
            root: Arc::new(root),
            bcrypt: BcryptGate::per_cpu(metrics.bcrypt_waiting.clone()),
            max_bcrypt_cost,
            metrics,
            revocations,
            cache: Arc::default(),
            limiter,
            assertions: Arc::new(assertions),
        }
    }

    pub fn root_id(&self) -> &ClientId {
        &self.root.id
    }

    /// Checks `secret` for `client_id`, presented from `address`, as of `now`. `Ok(None)`:
    /// unknown client or wrong secret, deliberately indistinguishable. Failures count
    /// against the client id and the address; past the limits, checks that would need the
    /// root secret or a stored hash are refused ([`AuthenticateError::RateLimited`]).
    /// Either refusal is answered after the limiter's failure delay (`AUTH_FAILURE_DELAY_MS`).
    pub async fn authenticate(
        &self,
        client_id: ClientId,
        secret: PresentedSecret,
        address: Option<std::net::IpAddr>,
        now: Timestamp,
    ) -> Result<Option<AuthenticatedClient>, AuthenticateError> {
        let result = self
            .authenticate_limited(client_id.clone(), secret, address, now)
            .await;
        if let Ok(None) = result {
            self.limiter
                .record_failure(client_id.as_str(), address, Instant::now())
                .await;
        }
        if matches!(result, Ok(None) | Err(AuthenticateError::RateLimited(_))) {
            tokio::time::sleep(self.limiter.failure_delay()).await;
        }
        result
    }

    async fn authenticate_limited(
        &self,
        client_id: ClientId,
        secret: PresentedSecret,
        address: Option<std::net::IpAddr>,
        now: Timestamp,
    ) -> Result<Option<AuthenticatedClient>, AuthenticateError> {
        if client_id == self.root.id {
            self.check_limits(&client_id, address).await?;
            let expected = self.root.secret.expose_secret();
            // Both forms are compared, so the time does not depend on which one matched.
            let matches = secret.candidates().fold(false, |any, form| {
                secrets_equal(form.expose(), expected) | any
            });
            if !matches {
                return Ok(None);
            }
            let scopes = self.store.run(registry::all).await?;
            return Ok(Some(AuthenticatedClient {
                client_id,
                scopes: scopes.into(),
                limits: ClientLimits::default(),
                audiences: Arc::from(Vec::new()),
                is_root: true,
                state_at: now,
                expires_by: None,
            }));
        }

        // At most two forms (decoded, raw): their digests on the stack, no allocation on the
        // warm path.
        let mut digests = [[0u8; 32]; 2];
        let mut forms = 0;
        for (slot, form) in digests.iter_mut().zip(secret.candidates()) {
            *slot = form.digest();
            forms += 1;
        }
        let digests = &digests[..forms];
        // Read before the database, so a change arriving meanwhile invalidates the entry.
        let state = self.revocations.client_state(client_id.as_str());
        if let Some(state) = state
            && let Some((granted, state_at)) =
                self.cache.get(&client_id, digests, state, Instant::now())
        {
            self.metrics
                .secret_cache
                .get_or_create(&ResultLabel { result: "hit" })
                .inc();
            return Ok(Some(AuthenticatedClient::granted(
                client_id, granted, state_at,
            )));
        }
        self.metrics
            .secret_cache
            .get_or_create(&ResultLabel { result: "miss" })
            .inc();
        // Limits first (in memory while the limiter follows its channel): a refused attempt
        // costs no database read.
        self.check_limits(&client_id, address).await?;
        let found = self.lookup.find(client_id.clone()).await?;
        let verified = self.verify(&client_id, found, secret, now).await?;
        let Some(Verified {
            granted,
            valid_until,
            digest,
        }) = verified
        else {
            return Ok(None);
        };
        if let Some(ClientState { version, .. }) = state {
            let ttl = valid_until.map_or(CACHE_TTL, |until| {
                let left = until.as_micros().saturating_sub(now.as_micros());
                CACHE_TTL.min(Duration::from_micros(u64::try_from(left).unwrap_or(0)))
            });
            let at = Instant::now();
            self.cache.insert(
                client_id.clone(),
                digest,
                at,
                at + ttl,
                version,
                granted.clone(),
                now,
            );
        }
        Ok(Some(AuthenticatedClient::granted(client_id, granted, now)))
    }

    async fn check_limits(
        &self,
        client_id: &ClientId,
        address: Option<std::net::IpAddr>,
    ) -> Result<(), AuthenticateError> {
        self.limiter
            .check(client_id.as_str(), address, Instant::now())
            .await
            .map_err(AuthenticateError::RateLimited)
    }

    /// Checks the presented forms against the hashes of the client found (an unknown
    /// client against a dummy digest, at the same cost). An imported hash that verified is
    /// upgraded to the fast form before the answer.
    async fn verify(
        &self,
        client_id: &ClientId,
        found: Found,
        secret: PresentedSecret,
        now: Timestamp,
    ) -> Result<Option<Verified>, AuthenticateError> {
        let Some((client, scopes)) = found else {
            let dummy = StoredSecret::Sha256([0; 32]);
            for form in secret.candidates() {
                let _ = dummy.check_fast(form);
            }
            return Ok(None);
        };
        let hashes = client.secret_hashes(now);
        let granted = Granted::of(&client, scopes)?;
        let mut matched = None;
        let mut slow = Vec::new();
        for (hash, until) in &hashes {
            let stored = hash.parse();
            for form in secret.candidates() {
                match stored.check_fast(form) {
                    FastCheck::Match if matched.is_none() => matched = Some((hash, *until, form)),
                    FastCheck::NeedsBcrypt => slow.push((hash.clone(), *until, form.clone())),
                    FastCheck::Match | FastCheck::NoMatch => {}
                }
            }
        }
        let (hash, valid_until, form) = match matched {
            Some((hash, until, form)) => (hash.clone(), until, form.clone()),
            None if slow.is_empty() => return Ok(None),
            None => match self.verify_bcrypt(slow).await? {
                Some(found) => found,
                None => return Ok(None),
            },
        };
        if hash.parse().is_imported() {
            self.upgrade(client_id, hash, &form).await;
        }
        Ok(Some(Verified {
            granted,
            valid_until,
            digest: form.digest(),
        }))
    }

    /// Runs bcrypt for each (hash, form) pair until one verifies, through the gate; a hash
    /// whose cost is above `BCRYPT_COST` is never run.
    async fn verify_bcrypt(
        &self,
        mut pairs: Vec<(SecretHash, Option<Timestamp>, ClientSecret)>,
    ) -> Result<Option<(SecretHash, Option<Timestamp>, ClientSecret)>, AuthenticateError> {
        let max_cost = self.max_bcrypt_cost;
        pairs.retain(|(hash, _, _)| {
            let affordable = bcrypt_cost(hash.as_str()).is_some_and(|cost| cost <= max_cost);
            if !affordable {
                tracing::warn!(
                    max_cost,
                    "an imported bcrypt hash above BCRYPT_COST is refused"
                );
            }
            affordable
        });
        if pairs.is_empty() {
            return Ok(None);
        }
        let verifications = self.metrics.bcrypt_verifications.clone();
        self.bcrypt
            .run(move || {
                let _span = tracing::info_span!("secret.verify_bcrypt").entered();
                pairs.into_iter().find(|(hash, _, form)| {
                    verifications.inc();
                    verify_bcrypt(form, hash.as_str())
                })
            })
            .await
            .map_err(|_| AuthenticateError::Busy)
    }

    /// Replaces an imported hash whose secret just verified by the fast form. A failure
    /// only means the next replica pays the slow check again: logged, not fatal.
    async fn upgrade(&self, client_id: &ClientId, old: SecretHash, secret: &ClientSecret) {
        let (id, new) = (client_id.clone(), SecretHash::of(secret));
        let result = self
            .store
            .run(move |conn| clients::upgrade_secret_hash(conn, &id, &old, &new))
            .await;
        match result {
            Ok(true) => {
                self.metrics.secret_upgrades.inc();
                tracing::info!(%client_id, "imported secret hash upgraded to SHA-256");
            }
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(%client_id, %error, "upgrading an imported secret hash failed")
            }
        }
    }
}

/// A secret that verified: what the client is granted, when the secret stops
/// working (a rotated secret in its grace period), and the digest of the form that matched.
struct Verified {
    granted: Granted,
    valid_until: Option<Timestamp>,
    digest: [u8; 32],
}
