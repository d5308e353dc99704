//! What every handler shares, built once at start-up, and what the shared server set-up
//! and `main` need to know of this service (`auth_core::service::Service`).

use std::net::SocketAddr;

use auth_core::config::{ConfigError, Env};
use auth_core::foundation::Foundation;
pub use auth_core::foundation::StartError;
use auth_core::ids::ClientId;
use auth_core::resource::JwksVerifier;
use auth_core::settings::AuthSettings;

use crate::config::Config;
use crate::console::TokenRelay;
use crate::listing::Totals;

pub struct AppState {
    /// Store, revocation, the change doors, metrics, and bearer verification with
    /// token-service's public keys (JWKS) and revocation against this service's database
    /// and Redis.
    pub foundation: Foundation,
    pub root_id: ClientId,
    pub token_lifetime_secs: i64,
    /// The listings' cached counts.
    pub totals: Totals,
    /// The console's sign-in relay to token-service (`crate::console`).
    pub console_relay: TokenRelay,
}

impl auth_core::service::Service for AppState {
    type Config = Config;
    const NAME: &'static str = "admin-service";
    const LISTEN_VARIABLE: &'static str = "ADMIN_SERVICE_ADDR";

    fn config(env: &Env<'_>) -> Result<Config, ConfigError> {
        Config::from_env(env)
    }

    fn settings(config: &Config) -> (&AuthSettings, SocketAddr) {
        (&config.auth, config.listen)
    }

    /// Builds the shared foundation and starts fetching the token service's keys, inside
    /// the runtime. Readiness stays down until they are loaded.
    async fn build(config: &Config) -> Result<Self, StartError> {
        let keys = JwksVerifier::start(
            config.jwks_url(),
            config.auth.issuer.clone(),
            config.auth.audience.clone(),
        )
        .map_err(|error| StartError::Http(error.to_string()))?;
        Ok(Self {
            foundation: Foundation::build(&config.auth, keys)?,
            root_id: config.auth.root_id.clone(),
            token_lifetime_secs: config.auth.token_lifetime_secs,
            totals: Totals::default(),
            console_relay: TokenRelay::new(&config.token_service_url)
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
