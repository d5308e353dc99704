//! What every handler shares, built once at start-up.

use std::sync::Arc;

use auth_core::blocking;
use auth_core::ids::ClientId;
use auth_core::keyring::{Keyring, KeyringError};
use auth_core::metrics::Metrics;
use auth_core::revocation::{Revocations, SharedError};
use auth_core::secret::{SecretError, SecretHasher};
use auth_core::store::Store;
use auth_core::token::TokenVerifier;

use crate::config::Config;

pub struct AppState {
    pub store: Store,
    pub verifier: TokenVerifier,
    pub hasher: SecretHasher,
    pub root_id: ClientId,
    pub revocations: Revocations,
    pub token_lifetime_secs: i64,
    pub metrics: Arc<Metrics>,
}

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
}

impl AppState {
    /// Loads keys, prepares the hasher, and starts following revocations (inside the runtime).
    pub async fn build(config: &Config) -> Result<Self, StartError> {
        let settings = config.auth.clone();
        let (keyring, hasher) = blocking::run(move || {
            Ok::<_, StartError>((
                Keyring::load(&settings)?,
                SecretHasher::new(settings.bcrypt_cost)?,
            ))
        })
        .await
        .map_err(|_| StartError::Interrupted)??;
        let store = Store::new(&config.auth.database_url, config.auth.database_pool_size);
        let metrics = Arc::new(Metrics::new());
        let revocations = Revocations::with_database(
            &config.auth.revocation_config(),
            store.clone(),
            config.auth.root.id.clone(),
            Arc::clone(&metrics),
        )?;
        revocations.start();
        Ok(Self {
            store,
            verifier: keyring.verifier(&config.auth),
            hasher,
            root_id: config.auth.root.id.clone(),
            revocations,
            token_lifetime_secs: config.auth.token_lifetime_secs,
            metrics,
        })
    }
}
