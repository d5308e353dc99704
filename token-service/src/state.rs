//! What every handler shares, built once at start-up.

use std::sync::Arc;

use actix_web::web::Bytes;
use auth_core::credentials::ClientAuthenticator;
use auth_core::foundation::Foundation;
use auth_core::metrics::Metrics;
use auth_core::ratelimit::FailureLimiter;
use auth_core::revocation::Revocations;
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
    pub http_workers: usize,
    /// Forwards admin API paths (`ADMIN_API_URL`, development).
    pub admin_gateway: Option<crate::routes::admin_paths::AdminGateway>,
}

pub use auth_core::foundation::StartError;

impl AppState {
    /// Builds the shared foundation, then what only the token service needs.
    pub async fn build(config: &Config) -> Result<Self, StartError> {
        let Foundation {
            keyring,
            store,
            metrics,
            revocations,
        } = Foundation::build(&config.auth).await?;
        let verifier = keyring.verifier(&config.auth);
        let jwks = serde_json::to_vec(&verifier.jwks()).unwrap_or_default();
        let shared = config
            .auth
            .redis_url
            .as_deref()
            .map(|url| (url, config.auth.redis_key_prefix.as_str()));
        let limiter = FailureLimiter::new(config.auth.auth_failure_limits, shared)?;
        Ok(Self {
            verifier,
            authenticator: ClientAuthenticator::new(
                store.clone(),
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
            http_workers: config.auth.http_workers,
            admin_gateway: config
                .admin_api_url
                .as_deref()
                .map(crate::routes::admin_paths::AdminGateway::new)
                .transpose()
                .map_err(|error| StartError::Http(error.to_string()))?,
        })
    }
}
