//! What every handler shares, built once at start-up.

use std::sync::Arc;

use auth_core::foundation::Foundation;
pub use auth_core::foundation::StartError;
use auth_core::ids::ClientId;
use auth_core::metrics::Metrics;
use auth_core::resource::{JwksVerifier, ResourceServer};
use auth_core::revocation::Revocations;
use auth_core::store::Store;

use crate::config::Config;

pub struct AppState {
    pub store: Store,
    /// Bearer verification with token-service's public keys (JWKS) and revocation against
    /// this service's database and Redis.
    pub bearer: ResourceServer,
    pub root_id: ClientId,
    pub revocations: Revocations,
    pub token_lifetime_secs: i64,
    pub metrics: Arc<Metrics>,
    pub http_workers: usize,
}

impl AppState {
    /// Builds the shared foundation (store, revocations) and starts fetching the token
    /// service's keys, inside the runtime. Readiness stays down until they are loaded.
    pub async fn build(config: &Config) -> Result<Self, StartError> {
        let Foundation {
            store,
            metrics,
            revocations,
        } = Foundation::build(&config.auth)?;
        let keys = JwksVerifier::start(
            config.jwks_url(),
            config.auth.issuer.clone(),
            config.auth.audience.clone(),
        )
        .map_err(|error| StartError::Http(error.to_string()))?;
        Ok(Self {
            store,
            bearer: ResourceServer::from_parts(keys, revocations.clone()),
            root_id: config.auth.root_id.clone(),
            revocations,
            token_lifetime_secs: config.auth.token_lifetime_secs,
            metrics,
            http_workers: config.auth.http_workers,
        })
    }
}

impl auth_core::service::Dependencies for AppState {
    fn store(&self) -> &Store {
        &self.store
    }

    fn revocations(&self) -> &Revocations {
        &self.revocations
    }

    fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    fn keys_loaded(&self) -> bool {
        self.bearer.keys().is_loaded()
    }

    fn http_workers(&self) -> usize {
        self.http_workers
    }
}
