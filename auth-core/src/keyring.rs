//! The keyring: the current signing key plus previous keys still accepted by verifiers.
//!
//! Loaded once at start-up by token-service, the one service that holds a private key; its
//! issuer and its own verifier come from the same keyring and [`AuthSettings`], so they agree
//! on keys, issuer and audience by construction. Every other verifier (admin-service,
//! resource services) reads the public keys it publishes (JWKS).

use std::path::{Path, PathBuf};

use crate::settings::AuthSettings;
use crate::token::keys::{KeyError, load_or_generate};
use crate::token::{SigningKey, TokenIssuer, TokenVerifier, VerifyingKey};

/// A key file that could not be used, named so the operator can fix it.
#[derive(Debug, thiserror::Error)]
#[error("{variable} ({path}): {source}")]
pub struct KeyringError {
    pub variable: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: KeyError,
}

/// Where the development key is generated when no key file is configured.
pub const DEFAULT_SIGNING_KEY_FILE: &str = "./data/signing-key.pem";

#[derive(Debug, Clone)]
pub struct Keyring {
    pub signing: SigningKey,
    pub previous: Vec<VerifyingKey>,
    /// True when this process created the development key.
    pub generated: bool,
}

impl Keyring {
    /// Reads the signing key (`OAUTH_SIGNING_KEY_FILE`; when `None`, the development key
    /// under `./data`, generated once) and the previous keys still accepted.
    pub fn load(
        signing_key_file: Option<&Path>,
        previous: &[PathBuf],
    ) -> Result<Self, KeyringError> {
        let (signing, generated) = match signing_key_file {
            Some(path) => (read("OAUTH_SIGNING_KEY_FILE", path)?, false),
            None => {
                let path = Path::new(DEFAULT_SIGNING_KEY_FILE);
                load_or_generate(path).map_err(|source| KeyringError {
                    variable: "OAUTH_SIGNING_KEY_FILE",
                    path: path.to_owned(),
                    source,
                })?
            }
        };
        let previous = previous
            .iter()
            .map(|path| {
                read("OAUTH_PREVIOUS_SIGNING_KEY_FILES", path).map(|k| k.verifying_key().clone())
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            signing,
            previous,
            generated,
        })
    }

    pub fn issuer(&self, settings: &AuthSettings) -> TokenIssuer {
        TokenIssuer::new(
            self.signing.clone(),
            settings.issuer.clone(),
            settings.audience.clone(),
            settings.token_lifetime_secs,
        )
    }

    pub fn verifier(&self, settings: &AuthSettings) -> TokenVerifier {
        let keys = std::iter::once(self.signing.verifying_key().clone())
            .chain(self.previous.iter().cloned());
        TokenVerifier::new(keys, settings.issuer.clone(), settings.audience.clone())
    }
}

fn read(variable: &'static str, path: &Path) -> Result<SigningKey, KeyringError> {
    SigningKey::from_pem_file(path).map_err(|source| KeyringError {
        variable,
        path: path.to_owned(),
        source,
    })
}
