//! What every handler shares, built once at start-up.

use auth_core::blocking;
use auth_core::ids::ClientId;
use auth_core::keyring::{Keyring, KeyringError};
use auth_core::secret::{SecretError, SecretHasher};
use auth_core::store::Store;
use auth_core::token::TokenVerifier;

use crate::config::Config;

pub struct AppState {
    pub store: Store,
    pub verifier: TokenVerifier,
    pub hasher: SecretHasher,
    pub root_id: ClientId,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error("BCRYPT_COST: {0}")]
    Hasher(#[from] SecretError),
    #[error("start-up was interrupted")]
    Interrupted,
}

impl AppState {
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
        Ok(Self {
            store: Store::new(&config.auth.database_url, config.auth.database_pool_size),
            verifier: keyring.verifier(&config.auth),
            hasher,
            root_id: config.auth.root.id.clone(),
        })
    }
}
