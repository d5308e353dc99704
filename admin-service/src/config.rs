//! admin-service configuration: the shared [`AuthSettings`] (variables listed in
//! `auth_core::settings`; of the root client only its id), and:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `ADMIN_SERVICE_ADDR` | listen address \[`127.0.0.1:8081`\] |
//! | `TOKEN_SERVICE_URL` | base URL where token-service publishes its keys (`/.well-known/jwks.json`), which bearer tokens are verified with, and where the console's sign-in is relayed (`/api/v1/oauth/token`) \[`OAUTH_ISSUER`\] |
//!
//! admin-service never holds a private key or the root secret: a compromised admin-service
//! cannot mint a token.

use std::net::SocketAddr;

use auth_core::config::{ConfigError, Env};
use auth_core::settings::AuthSettings;

#[derive(Debug, Clone)]
pub struct Config {
    pub auth: AuthSettings,
    pub listen: SocketAddr,
    /// Where the token service's JWKS is fetched from.
    pub token_service_url: String,
}

impl Config {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let auth = AuthSettings::from_env(env)?;
        let token_service_url = env.parse_or("TOKEN_SERVICE_URL", auth.issuer.clone(), |url| {
            let url = url.trim_end_matches('/');
            if (url.starts_with("http://") || url.starts_with("https://"))
                && !url.contains(['?', '#'])
            {
                Ok(url.to_owned())
            } else {
                Err(format!(
                    "expected an http:// or https:// base URL, got {url:?}"
                ))
            }
        })?;
        Ok(Self {
            listen: auth.admin_service_addr,
            token_service_url,
            auth,
        })
    }

    /// The JWKS document's URL.
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.token_service_url)
    }
}
