//! What every handler shares, built once at start-up.

use std::sync::Arc;

use actix_web::web::Bytes;
use auth_core::blocking;
use auth_core::foundation::Foundation;
use auth_core::keyring::Keyring;
use auth_core::metrics::Metrics;
use auth_core::resource::ResourceServer;
use auth_core::revocation::Revocations;
use auth_core::store::Store;
use auth_core::token::{TokenIssuer, TokenVerifier};

use crate::client_auth::ClientAuthenticator;
use crate::client_auth::ratelimit::FailureLimiter;
use crate::config::Config;
use crate::routes::admin_paths::AdminGateway;

pub struct AppState {
    pub store: Store,
    pub issuer: TokenIssuer,
    /// This service's own keys, for the token of an RFC 7009 revocation.
    pub verifier: TokenVerifier,
    /// Bearer verification as every verifier does it (signature, claims, revocation), for
    /// introspection.
    pub bearer: ResourceServer,
    pub revocations: Revocations,
    pub authenticator: ClientAuthenticator,
    /// The JWKS document, rendered once.
    pub jwks: Bytes,
    pub issuer_url: String,
    pub metrics: Arc<Metrics>,
    pub trust_x_forwarded_for: bool,
    pub http_workers: usize,
    /// Forwards admin API paths (`ADMIN_API_URL`, development).
    pub admin_gateway: Option<AdminGateway>,
}

pub use auth_core::foundation::StartError;

impl AppState {
    /// Loads the signing keys (off the async workers) and builds the shared foundation,
    /// then what only the token service needs.
    pub async fn build(config: &Config) -> Result<Self, StartError> {
        let (signing, previous) = (
            config.signing_key_file.clone(),
            config.previous_signing_key_files.clone(),
        );
        let keyring = blocking::run(move || Keyring::load(signing.as_deref(), &previous))
            .await
            .map_err(|_| StartError::Interrupted)??;
        if keyring.generated {
            tracing::warn!(
                kid = keyring.signing.kid(),
                "generated a development signing key under ./data; set OAUTH_SIGNING_KEY_FILE in production"
            );
        }
        let Foundation {
            store,
            metrics,
            revocations,
        } = Foundation::build(&config.auth)?;
        let verifier = keyring.verifier(&config.auth);
        let jwks = serde_json::to_vec(&verifier.jwks()).unwrap_or_default();
        let shared = config
            .auth
            .redis_url
            .as_deref()
            .map(|url| (url, config.auth.redis_key_prefix.as_str()));
        let limiter = FailureLimiter::new(config.auth_failure_limits, shared)?;
        Ok(Self {
            bearer: ResourceServer::from_parts(verifier.clone(), revocations.clone()),
            verifier,
            authenticator: ClientAuthenticator::new(
                store.clone(),
                config.root.clone(),
                revocations.clone(),
                limiter,
                Arc::clone(&metrics),
                config.bcrypt_cost,
            ),
            revocations,
            issuer: keyring.issuer(&config.auth),
            store,
            jwks: Bytes::from(jwks),
            issuer_url: config.auth.issuer.clone(),
            metrics,
            trust_x_forwarded_for: config.trust_x_forwarded_for,
            http_workers: config.auth.http_workers,
            admin_gateway: config
                .admin_api_url
                .as_deref()
                .map(AdminGateway::new)
                .transpose()
                .map_err(|error| StartError::Http(error.to_string()))?,
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
