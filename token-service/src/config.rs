//! token-service configuration: the shared [`AuthSettings`] (variables listed in
//! `auth_core::settings`), and what only this service reads, since only it signs tokens and
//! authenticates clients (admin-service never sees these):
//!
//! | variable | meaning |
//! | --- | --- |
//! | `TOKEN_SERVICE_ADDR` | listen address \[`127.0.0.1:8080`\] |
//! | `OAUTH_ROOT_CLIENT_SECRET` | the root client's secret, 16 to 71 bytes \[required\] |
//! | `OAUTH_SIGNING_KEY_FILE` | PEM private key \[`./data/signing-key.pem`, generated once\] |
//! | `OAUTH_PREVIOUS_SIGNING_KEY_FILES` | comma-separated PEM files still accepted \[none\] |
//! | `AUTH_FAILURES_PER_CLIENT`, `AUTH_FAILURES_PER_ADDRESS`, `AUTH_FAILURE_WINDOW_SECS` | brute-force limits (`client_auth::ratelimit`) \[10, 30, 60\] |
//! | `TRUST_X_FORWARDED_FOR` | client address from the last `X-Forwarded-For` entry \[false\] |
//! | `ADMIN_API_URL` | development: forward admin API paths to admin-service at this base URL, so one base URL serves both, as fidesops did \[unset: those paths answer 404 naming admin-service; production routes them in the gateway\] |

use std::net::SocketAddr;
use std::path::PathBuf;

use auth_core::config::{ConfigError, Env};
use auth_core::settings::{AuthSettings, RootClient};

use crate::client_auth::ratelimit::Limits;

#[derive(Debug, Clone)]
pub struct Config {
    pub auth: AuthSettings,
    pub listen: SocketAddr,
    pub root: RootClient,
    /// `None`: generate (once) and use the development key under `./data/`.
    pub signing_key_file: Option<PathBuf>,
    pub previous_signing_key_files: Vec<PathBuf>,
    /// Brute-force limits on failed client authentication.
    pub auth_failure_limits: Limits,
    /// Take the client address from the last `X-Forwarded-For` entry (behind one trusted proxy).
    pub trust_x_forwarded_for: bool,
    pub admin_api_url: Option<String>,
}

impl Config {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let auth = AuthSettings::from_env(env)?;
        let root = RootClient::from_env(env, auth.root_id.clone())?;
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
            root,
            signing_key_file: env.get("OAUTH_SIGNING_KEY_FILE").map(PathBuf::from),
            previous_signing_key_files: env
                .get("OAUTH_PREVIOUS_SIGNING_KEY_FILES")
                .map(|list| {
                    list.split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(PathBuf::from)
                        .collect()
                })
                .unwrap_or_default(),
            auth_failure_limits: Limits::from_env(env)?,
            trust_x_forwarded_for: env.parse_or("TRUST_X_FORWARDED_FOR", false, |v| match v {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err("expected true or false".to_owned()),
            })?,
            admin_api_url,
            auth,
        })
    }
}
