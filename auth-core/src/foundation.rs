//! What both services build at start-up from the same settings (features `server` and
//! `actix`) and every handler of theirs may use: the store, metrics, revocation following
//! Redis, the change doors, per-client limits, and bearer verification. Keys are the caller's:
//! token-service verifies with the keys it holds (`keyring`), admin-service with
//! token-service's public keys only (its JWKS).

use std::sync::Arc;

use crate::changes::Changes;
use crate::keyring::KeyringError;
use crate::limits::UsageLimits;
use crate::metrics::Metrics;
use crate::resource::{Keys, ResourceServer};
use crate::revocation::{Revocations, SharedError};
use crate::settings::AuthSettings;
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error("REDIS_URL: {0}")]
    Redis(#[from] SharedError),
    #[error("start-up was interrupted")]
    Interrupted,
    #[error("cannot build an HTTP client: {0}")]
    Http(String),
}

pub struct Foundation {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub revocations: Revocations,
    /// The one door for each change to a client or a token.
    pub changes: Changes,
    /// Tokens issued and revoked per client per minute, counted with every replica.
    pub usage: UsageLimits,
    /// Bearer verification as every verifier does it: signature and claims with `keys`,
    /// then revocation against Redis and this service's database.
    pub bearer: ResourceServer,
    pub http_workers: usize,
}

impl Foundation {
    /// Opens the store and starts following revocations. Call inside the runtime.
    pub fn build(settings: &AuthSettings, keys: impl Into<Keys>) -> Result<Self, StartError> {
        let store = Store::new(&settings.database_url, settings.database_pool_size);
        let metrics = Arc::new(Metrics::new());
        let revocations = Revocations::with_database(
            &settings.revocation_config(),
            store.clone(),
            settings.root_id.clone(),
            Arc::clone(&metrics),
        )?;
        revocations.start();
        let usage = UsageLimits::new(
            settings.client_limits,
            settings.redis.as_ref(),
            Arc::clone(&metrics),
        );
        Ok(Self {
            usage,
            changes: Changes::new(store.clone(), revocations.clone()),
            bearer: ResourceServer::from_parts(keys, revocations.clone()),
            store,
            metrics,
            revocations,
            http_workers: settings.http_workers,
        })
    }
}
