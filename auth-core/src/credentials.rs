//! Client authentication for the token endpoint: root from the environment, others by bcrypt.
//!
//! Unknown clients cost the same bcrypt work as a wrong secret, and both give the same
//! answer. bcrypt runs on the blocking pool, at most one verification per CPU at a time,
//! so a flood of wrong secrets queues instead of starving everything else.

use std::sync::Arc;

use secrecy::ExposeSecret as _;
use tokio::sync::Semaphore;

use crate::blocking;
use crate::ids::ClientId;
use crate::metrics::{Metrics, ResultLabel};
use crate::scopes::Scope;
use crate::secret::{ClientSecret, SecretHasher, secrets_equal};
use crate::settings::RootClient;
use crate::store::{Store, StoreError, clients, registry};
use crate::time::Timestamp;

/// A client whose credentials checked out, with the scopes it may be granted.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    pub client_id: ClientId,
    pub scopes: Vec<Scope>,
    pub is_root: bool,
}

#[derive(Clone)]
pub struct ClientAuthenticator {
    store: Store,
    hasher: SecretHasher,
    root: Arc<RootClient>,
    bcrypt_slots: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

impl ClientAuthenticator {
    pub fn new(
        store: Store,
        hasher: SecretHasher,
        root: RootClient,
        metrics: Arc<Metrics>,
    ) -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            store,
            hasher,
            root: Arc::new(root),
            bcrypt_slots: Arc::new(Semaphore::new(cpus)),
            metrics,
        }
    }

    pub fn root_id(&self) -> &ClientId {
        &self.root.id
    }

    /// Checks `secret` for `client_id` as of `now`. `Ok(None)`: unknown client or wrong
    /// secret, deliberately indistinguishable.
    pub async fn authenticate(
        &self,
        client_id: ClientId,
        secret: ClientSecret,
        now: Timestamp,
    ) -> Result<Option<AuthenticatedClient>, StoreError> {
        if client_id == self.root.id {
            if !secrets_equal(secret.expose(), self.root.secret.expose_secret()) {
                return Ok(None);
            }
            let scopes = self.store.run(registry::all).await?;
            return Ok(Some(AuthenticatedClient {
                client_id,
                scopes,
                is_root: true,
            }));
        }

        let lookup_id = client_id.clone();
        let found = self
            .store
            .run(move |conn| clients::find_with_scopes(conn, &lookup_id))
            .await?;
        self.metrics
            .secret_cache
            .get_or_create(&ResultLabel { result: "miss" })
            .inc();
        self.metrics.bcrypt_waiting.inc();
        let slot = self.bcrypt_slots.acquire().await;
        self.metrics.bcrypt_waiting.dec();
        let _slot = slot.map_err(|_| StoreError::Blocking)?;
        self.metrics.bcrypt_verifications.inc();
        let hasher = self.hasher.clone();
        let span = tracing::info_span!("secret.verify");
        let verified = blocking::run(move || {
            let _entered = span.enter();
            match found {
                None => {
                    hasher.verify_unknown(&secret);
                    None
                }
                Some((client, scopes)) => client
                    .secret_hashes(now)
                    .iter()
                    .any(|hash| hasher.verify(&secret, hash))
                    .then_some(scopes),
            }
        })
        .await?;
        Ok(verified.map(|scopes| AuthenticatedClient {
            client_id,
            scopes,
            is_root: false,
        }))
    }
}
