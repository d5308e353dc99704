//! token-service configuration: the shared [`AuthSettings`] (variables listed in
//! `auth_core::settings`), the listen address from `TOKEN_SERVICE_ADDR`, and
//! `ADMIN_API_URL` (development: forward admin API paths to admin-service at this base URL,
//! so one base URL serves both, as fidesops did; unset: those paths answer 404 naming
//! admin-service; production routes them in the gateway instead).

use std::net::SocketAddr;

use auth_core::config::{ConfigError, Env};
use auth_core::settings::AuthSettings;

#[derive(Debug, Clone)]
pub struct Config {
    pub auth: AuthSettings,
    pub listen: SocketAddr,
    pub admin_api_url: Option<String>,
}

impl Config {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let auth = AuthSettings::from_env(env)?;
        let admin_api_url = env.parse_or("ADMIN_API_URL", None, |url| {
            let url = url.trim_end_matches('/');
            if (url.starts_with("http://") || url.starts_with("https://"))
                && !url.contains(['?', '#'])
            {
                Ok(Some(url.to_owned()))
            } else {
                Err(format!(
                    "expected an http:// or https:// base URL, got {url:?}"
                ))
            }
        })?;
        Ok(Self {
            listen: auth.token_service_addr,
            auth,
            admin_api_url,
        })
    }
}
