//! What every handler shares, built once at start-up, and what the shared server set-up
//! and `main` need to know of this service (`auth_core::service::Service`).

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::web::Bytes;
use auth_core::blocking;
use auth_core::config::{ConfigError, Env};
use auth_core::foundation::Foundation;
use auth_core::keyring::Keyring;
use auth_core::settings::AuthSettings;
use auth_core::token::TokenIssuer;

use crate::client_auth::ClientAuthenticator;
use crate::client_auth::assertion::Assertions;
use crate::client_auth::assertion::keysets::KeySets;
use crate::client_auth::assertion::replay::UsedAssertions;
use crate::client_auth::ratelimit::FailureLimiter;
use crate::config::Config;
use crate::routes::admin_paths::AdminGateway;

pub struct AppState {
    /// Store, revocation, the change doors, metrics, and bearer verification with this
    /// service's own keys (for introspection and the token of an RFC 7009 revocation).
    pub foundation: Foundation,
    pub issuer: TokenIssuer,
    pub authenticator: ClientAuthenticator,
    /// The JWKS document, rendered once.
    pub jwks: Bytes,
    pub issuer_url: String,
    pub trust_x_forwarded_for: bool,
    /// Forwards admin API paths (`ADMIN_API_URL`, development).
    pub admin_gateway: Option<AdminGateway>,
}

pub use auth_core::foundation::StartError;

impl auth_core::service::Service for AppState {
    type Config = Config;
    const NAME: &'static str = "token-service";
    const LISTEN_VARIABLE: &'static str = "TOKEN_SERVICE_ADDR";

    fn config(env: &Env<'_>) -> Result<Config, ConfigError> {
        Config::from_env(env)
    }

    fn settings(config: &Config) -> (&AuthSettings, SocketAddr) {
        (&config.auth, config.listen)
    }

    /// Loads the signing keys (off the async workers) and builds the shared foundation,
    /// then what only the token service needs.
    async fn build(config: &Config) -> Result<Self, StartError> {
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
        let verifier = keyring.verifier(&config.auth);
        let jwks = serde_json::to_vec(&verifier.jwks()).unwrap_or_default();
        let foundation = Foundation::build(&config.auth, verifier)?;
        let (store, revocations, metrics) = (
            &foundation.store,
            &foundation.revocations,
            &foundation.metrics,
        );
        let limiter = FailureLimiter::new(config.auth_failure_limits, config.auth.redis.as_ref());
        let keysets = KeySets::new(
            &config.jwks_ca_files,
            config.in_cluster.clone(),
            config.jwks_min_refetch,
            metrics.jwks_fetches.clone(),
        )
        .map_err(|error| StartError::Http(error.to_string()))?;
        let used = UsedAssertions::new(config.auth.redis.as_ref(), store.clone());
        let assertions = Assertions::new(&config.auth.issuer, keysets, used);
        Ok(Self {
            authenticator: ClientAuthenticator::new(
                store.clone(),
                config.root.clone(),
                revocations.clone(),
                limiter,
                Arc::clone(metrics),
                config.bcrypt_cost,
                assertions,
            ),
            issuer: keyring.issuer(&config.auth),
            jwks: Bytes::from(jwks),
            issuer_url: config.auth.issuer.clone(),
            trust_x_forwarded_for: config.trust_x_forwarded_for,
            foundation,
            admin_gateway: config
                .admin_api_url
                .as_deref()
                .map(AdminGateway::new)
                .transpose()
                .map_err(|error| StartError::Http(error.to_string()))?,
        })
    }

    fn foundation(&self) -> &Foundation {
        &self.foundation
    }

    fn routes(cfg: &mut actix_web::web::ServiceConfig) {
        crate::routes::config(cfg);
    }
}
