//! The keyring: the current signing key plus previous keys still accepted by verifiers.
//!
//! Built once at start-up from [`AuthSettings`]; both services derive their issuer and
//! verifier from it, so they agree on keys, issuer and audience by construction.

use std::path::{Path, PathBuf};

use crate::settings::{AuthSettings, DEFAULT_SIGNING_KEY_FILE};
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

#[derive(Debug, Clone)]
pub struct Keyring {
    pub signing: SigningKey,
    pub previous: Vec<VerifyingKey>,
    /// True when this process created the development key.
    pub generated: bool,
}

impl Keyring {
    /// Reads the configured keys, generating the development key if no file is configured.
    pub fn load(settings: &AuthSettings) -> Result<Self, KeyringError> {
        let (signing, generated) = match &settings.signing_key_file {
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
        let previous = settings
            .previous_signing_key_files
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
