//! What both services build at start-up from the same settings (feature `server`): the
//! store, metrics, and revocation following Redis. Keys are not here: token-service loads
//! its private key itself (`keyring`), admin-service verifies with public keys only.

use std::sync::Arc;

use crate::keyring::KeyringError;
use crate::metrics::Metrics;
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
}

impl Foundation {
    /// Opens the store and starts following revocations. Call inside the runtime.
    pub fn build(settings: &AuthSettings) -> Result<Self, StartError> {
        let store = Store::new(&settings.database_url, settings.database_pool_size);
        let metrics = Arc::new(Metrics::new());
        let revocations = Revocations::with_database(
            &settings.revocation_config(),
            store.clone(),
            settings.root_id.clone(),
            Arc::clone(&metrics),
        )?;
        revocations.start();
        Ok(Self {
            store,
            metrics,
            revocations,
        })
    }
}
