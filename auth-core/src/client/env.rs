//! [`TokenSource::from_env`]: a token source configured by the `OAUTH_TOKEN_URL` and
//! `OAUTH_CLIENT_*` variables (listed in the module documentation of `client`).

use super::{TokenSource, TokenSourceError};
use crate::config::{ConfigError, Env};
use crate::ids::ClientId;
use crate::secret::ClientSecret;

const TOKEN_URL: &str = "OAUTH_TOKEN_URL";
const CLIENT_ID: &str = "OAUTH_CLIENT_ID";
/// Or: a file holding the client id (written by `authctl apply --ids-dir`), read at start.
const CLIENT_ID_FILE: &str = "OAUTH_CLIENT_ID_FILE";
const SECRET: &str = "OAUTH_CLIENT_SECRET";
const KEY_FILE: &str = "OAUTH_CLIENT_KEY_FILE";
const TOKEN_FILE: &str = "OAUTH_CLIENT_TOKEN_FILE";
const KEY_ID: &str = "OAUTH_CLIENT_KEY_ID";
const SCOPE: &str = "OAUTH_CLIENT_SCOPE";
const RESOURCE: &str = "OAUTH_CLIENT_RESOURCE";
/// The token service's issuer URL: the `aud` of `private_key_jwt` assertions when set (the
/// service accepts its issuer URL or `<issuer>/api/v1/oauth/token`, whatever URL it is
/// reached at inside the cluster), else the token URL.
const ISSUER: &str = "OAUTH_ISSUER";

impl TokenSource {
    /// A source from the environment: `OAUTH_TOKEN_URL`, `OAUTH_CLIENT_ID` (or
    /// `OAUTH_CLIENT_ID_FILE`, a file holding it) and exactly one
    /// of `OAUTH_CLIENT_SECRET`, `OAUTH_CLIENT_KEY_FILE` and `OAUTH_CLIENT_TOKEN_FILE`, plus
    /// the optional `OAUTH_CLIENT_KEY_ID`, `OAUTH_CLIENT_SCOPE` and `OAUTH_CLIENT_RESOURCE`;
    /// with a key file, `OAUTH_ISSUER` (when set) is the assertions' `aud`.
    /// An error names the variable at fault (never a secret's value); a key file is read
    /// and a token file checked now, so a wrong path fails at start-up.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), auth_core::config::ConfigError> {
    /// let tokens = auth_core::client::TokenSource::from_env(&auth_core::config::Env::process())?;
    /// # Ok(()) }
    /// ```
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let token_url = env.required(TOKEN_URL)?;
        let credentials: Vec<(&'static str, String)> = [SECRET, KEY_FILE, TOKEN_FILE]
            .into_iter()
            .filter_map(|name| env.get(name).map(|value| (name, value)))
            .collect();
        let (variable, value) = match credentials.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(ConfigError::new(
                    SECRET,
                    format!("set one of {SECRET}, {KEY_FILE} or {TOKEN_FILE}"),
                ));
            }
            [(first, _), (second, _), ..] => {
                return Err(ConfigError::new(
                    second,
                    format!("set only one of {first} and {second}"),
                ));
            }
        };
        let client_id = match (env.get(CLIENT_ID), env.get(CLIENT_ID_FILE)) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::new(
                    CLIENT_ID_FILE,
                    format!("set only one of {CLIENT_ID} and {CLIENT_ID_FILE}"),
                ));
            }
            (Some(id), None) => Some(
                ClientId::parse(id.trim())
                    .map_err(|e| ConfigError::new(CLIENT_ID, e.to_string()))?,
            ),
            (None, Some(path)) => {
                let id = std::fs::read_to_string(path.trim()).map_err(|error| {
                    ConfigError::new(CLIENT_ID_FILE, format!("cannot read {path}: {error}"))
                })?;
                Some(
                    ClientId::parse(id.trim())
                        .map_err(|e| ConfigError::new(CLIENT_ID_FILE, e.to_string()))?,
                )
            }
            (None, None) if variable == TOKEN_FILE => None,
            (None, None) => return Err(ConfigError::new(CLIENT_ID, "is required but not set")),
        };
        let mut builder = TokenSource::builder(token_url);
        if let Some(client_id) = client_id {
            builder = builder.client_id(client_id);
        }
        builder = match variable {
            SECRET => builder.client_secret(
                ClientSecret::parse(&value).map_err(|e| ConfigError::new(SECRET, e.to_string()))?,
            ),
            KEY_FILE => builder
                .private_key_file(value.trim())
                .map_err(|e| ConfigError::new(KEY_FILE, e.to_string()))?,
            _ => builder.token_file(value.trim()),
        };
        if let Some(kid) = env.get(KEY_ID) {
            if variable != KEY_FILE {
                return Err(ConfigError::new(
                    KEY_ID,
                    format!("applies only with {KEY_FILE}"),
                ));
            }
            builder = builder.key_id(Some(kid.trim().to_owned()));
        }
        if variable == KEY_FILE
            && let Some(issuer) = env.get(ISSUER)
        {
            builder = builder.assertion_audience(issuer.trim().trim_end_matches('/'));
        }
        if let Some(scope) = env.get(SCOPE) {
            builder = builder.scope(scope.trim());
        }
        if let Some(resources) = env.get(RESOURCE) {
            builder = builder.resources(
                resources
                    .split([' ', ',', '\t', '\n'])
                    .filter(|r| !r.is_empty()),
            );
        }
        builder.build().map_err(|error| {
            let variable = match &error {
                TokenSourceError::InvalidResource(_) => RESOURCE,
                TokenSourceError::TokenFile { .. } => TOKEN_FILE,
                TokenSourceError::Key(_) | TokenSourceError::KeyFile { .. } => KEY_FILE,
                _ => TOKEN_URL,
            };
            ConfigError::new(variable, error.to_string())
        })
    }
}
