//! What both services build at start-up from the same settings (feature `server`): keys,
//! the store, metrics, and revocation following Redis.

use std::sync::Arc;

use crate::blocking;
use crate::keyring::{Keyring, KeyringError};
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
    pub keyring: Keyring,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub revocations: Revocations,
}

impl Foundation {
    /// Loads keys off the async workers, then starts following revocations. Call inside
    /// the runtime.
    pub async fn build(settings: &AuthSettings) -> Result<Self, StartError> {
        let loading = settings.clone();
        let keyring = blocking::run(move || Keyring::load(&loading))
            .await
            .map_err(|_| StartError::Interrupted)??;
        if keyring.generated {
            tracing::warn!(
                kid = keyring.signing.kid(),
                "generated a development signing key under ./data; set OAUTH_SIGNING_KEY_FILE in production"
            );
        }
        let store = Store::new(&settings.database_url, settings.database_pool_size);
        let metrics = Arc::new(Metrics::new());
        let revocations = Revocations::with_database(
            &settings.revocation_config(),
            store.clone(),
            settings.root.id.clone(),
            Arc::clone(&metrics),
        )?;
        revocations.start();
        Ok(Self {
            keyring,
            store,
            metrics,
            revocations,
        })
    }
}
