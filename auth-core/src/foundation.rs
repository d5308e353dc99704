//! What both services build at start-up from the same settings (feature `server`): keys,
//! the secret hasher, the store, metrics, and revocation following Redis.

use std::sync::Arc;

use crate::blocking;
use crate::keyring::{Keyring, KeyringError};
use crate::metrics::Metrics;
use crate::revocation::{Revocations, SharedError};
use crate::secret::{SecretError, SecretHasher};
use crate::settings::AuthSettings;
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error("BCRYPT_COST: {0}")]
    Hasher(#[from] SecretError),
    #[error("REDIS_URL: {0}")]
    Redis(#[from] SharedError),
    #[error("start-up was interrupted")]
    Interrupted,
    #[error("cannot start the bcrypt threads: {0}")]
    Threads(#[from] std::io::Error),
}

pub struct Foundation {
    pub keyring: Keyring,
    pub hasher: SecretHasher,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub revocations: Revocations,
}

impl Foundation {
    /// Loads keys and prepares the hasher (one bcrypt hash) off the async workers, then
    /// starts following revocations. Call inside the runtime.
    pub async fn build(settings: &AuthSettings) -> Result<Self, StartError> {
        let loading = settings.clone();
        let (keyring, hasher) = blocking::run(move || {
            Ok::<_, StartError>((
                Keyring::load(&loading)?,
                SecretHasher::new(loading.bcrypt_cost)?,
            ))
        })
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
            hasher,
            store,
            metrics,
            revocations,
        })
    }
}
