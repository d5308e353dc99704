//! admin-service configuration: the shared [`AuthSettings`] (variables listed in
//! `auth_core::settings`) and the listen address from `ADMIN_SERVICE_ADDR`.

use std::net::SocketAddr;

use auth_core::config::{ConfigError, Env};
use auth_core::settings::AuthSettings;

#[derive(Debug, Clone)]
pub struct Config {
    pub auth: AuthSettings,
    pub listen: SocketAddr,
}

impl Config {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let auth = AuthSettings::from_env(env)?;
        Ok(Self {
            listen: auth.admin_service_addr,
            auth,
        })
    }
}
