//! What every handler shares, built once at start-up.

use std::sync::Arc;

use auth_core::foundation::Foundation;
pub use auth_core::foundation::StartError;
use auth_core::ids::ClientId;
use auth_core::metrics::Metrics;
use auth_core::revocation::Revocations;
use auth_core::store::Store;
use auth_core::token::TokenVerifier;

use crate::config::Config;

pub struct AppState {
    pub store: Store,
    pub verifier: TokenVerifier,
    pub root_id: ClientId,
    pub revocations: Revocations,
    pub token_lifetime_secs: i64,
    pub metrics: Arc<Metrics>,
    pub http_workers: usize,
}

impl AppState {
    /// Builds the shared foundation (keys, store, revocations) inside the runtime.
    pub async fn build(config: &Config) -> Result<Self, StartError> {
        let Foundation {
            keyring,
            store,
            metrics,
            revocations,
        } = Foundation::build(&config.auth).await?;
        Ok(Self {
            store,
            verifier: keyring.verifier(&config.auth),
            root_id: config.auth.root.id.clone(),
            revocations,
            token_lifetime_secs: config.auth.token_lifetime_secs,
            metrics,
            http_workers: config.auth.http_workers,
        })
    }
}
