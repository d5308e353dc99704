//! What every handler shares, built once at start-up.

use std::sync::Arc;

use actix_web::web::Bytes;
use auth_core::blocking;
use auth_core::credentials::ClientAuthenticator;
use auth_core::keyring::{Keyring, KeyringError};
use auth_core::metrics::Metrics;
use auth_core::ratelimit::FailureLimiter;
use auth_core::revocation::{Revocations, SharedError};
use auth_core::secret::{SecretError, SecretHasher};
use auth_core::store::Store;
use auth_core::token::{TokenIssuer, TokenVerifier};

use crate::config::Config;

pub struct AppState {
    pub store: Store,
    pub issuer: TokenIssuer,
    pub verifier: TokenVerifier,
    pub revocations: Revocations,
    pub authenticator: ClientAuthenticator,
    /// The JWKS document, rendered once.
    pub jwks: Bytes,
    pub issuer_url: String,
    pub metrics: Arc<Metrics>,
    pub trust_x_forwarded_for: bool,
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
    /// Loads keys and prepares the secret hasher (one bcrypt hash), off the async workers.
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
        if keyring.generated {
            tracing::warn!(
                kid = keyring.signing.kid(),
                "generated a development signing key under ./data; set OAUTH_SIGNING_KEY_FILE in production"
            );
        }
        let store = Store::new(&config.auth.database_url, config.auth.database_pool_size);
        let verifier = keyring.verifier(&config.auth);
        let jwks = serde_json::to_vec(&verifier.jwks()).unwrap_or_default();
        let metrics = Arc::new(Metrics::new());
        let shared = config
            .auth
            .redis_url
            .as_deref()
            .map(|url| (url, config.auth.redis_key_prefix.as_str()));
        let limiter = FailureLimiter::new(config.auth.auth_failure_limits, shared)?;
        let revocations = Revocations::with_database(
            &config.auth.revocation_config(),
            store.clone(),
            config.auth.root.id.clone(),
            Arc::clone(&metrics),
        )?;
        revocations.start();
        Ok(Self {
            verifier,
            authenticator: ClientAuthenticator::new(
                store.clone(),
                hasher,
                config.auth.root.clone(),
                revocations.clone(),
                limiter,
                Arc::clone(&metrics),
            ),
            revocations,
            issuer: keyring.issuer(&config.auth),
            store,
            jwks: Bytes::from(jwks),
            issuer_url: config.auth.issuer.clone(),
            metrics,
            trust_x_forwarded_for: config.auth.trust_x_forwarded_for,
        })
    }
}
