//! The declared state: the YAML file's shape (unknown fields refused), and its parsing.
//! Every problem found in the file is reported, each with its line: yaml_serde's location
//! for parse errors, and for the others the line of the offending name, found in the text
//! ([`Locator`]). The checks that need only the file are in `checks`; what makes a JWK
//! acceptable is in `jwk`.

mod checks;
mod jwk;

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

pub use self::jwk::{public_key, with_kid};
pub use super::locate::Locator;
use crate::error::{Error, Result};

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declared {
    /// Custom scopes to register.
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub issuers: Vec<DeclaredIssuer>,
    #[serde(default)]
    pub clients: Vec<DeclaredClient>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredIssuer {
    pub issuer: String,
    pub jwks_uri: Option<String>,
    pub jwks: Option<Jwks>,
    #[serde(default)]
    pub audiences: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jwks {
    pub keys: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredClient {
    /// Stable and unique: how apply finds the client again.
    pub name: String,
    pub description: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Public JWKs for private_key_jwt.
    pub keys: Option<Vec<Value>>,
    /// Or: a file of them (a JWKS, or one JWK), relative to the declaring file; what
    /// `authctl keygen --jwks-out` writes.
    pub keys_file: Option<std::path::PathBuf>,
    pub jwks_uri: Option<String>,
    #[serde(default)]
    pub identities: Vec<DeclaredIdentity>,
    #[serde(default)]
    pub limits: DeclaredLimits,
}

impl DeclaredClient {
    /// A client with neither keys nor identities authenticates with a secret.
    pub fn needs_secret(&self) -> bool {
        self.keys.as_ref().is_none_or(Vec::is_empty)
            && self.keys_file.is_none()
            && self.jwks_uri.is_none()
            && self.identities.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredIdentity {
    pub issuer: String,
    pub subject: String,
}

/// Per minute; absent: the service's default; 0: no limit.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredLimits {
    pub tokens_per_minute: Option<u32>,
    pub revocations_per_minute: Option<u32>,
}

/// Problems found in a file, each with its line: they refuse the whole apply.
#[derive(Debug, Default)]
pub struct Problems {
    file: String,
    list: Vec<(usize, String)>,
}

impl Problems {
    pub fn new(file: &Path) -> Self {
        Self {
            file: file.display().to_string(),
            list: Vec::new(),
        }
    }

    pub fn add(&mut self, line: usize, message: String) {
        self.list.push((line, message));
    }

    /// `Ok` when there are none; else the usage error listing them all, by line.
    pub fn into_result(mut self) -> Result<()> {
        if self.list.is_empty() {
            return Ok(());
        }
        self.list.sort();
        let lines: Vec<String> = self
            .list
            .iter()
            .map(|(line, message)| format!("{}:{line}: {message}", self.file))
            .collect();
        Err(Error::Usage(format!(
            "{} refused, nothing was changed:\n{}",
            self.file,
            lines.join("\n")
        )))
    }
}

/// Parses and checks the file; every problem is reported, each with its line.
pub fn parse(path: &Path, text: &str) -> Result<Declared> {
    let declared: Declared = if text.trim().is_empty() {
        Declared::default()
    } else {
        yaml_serde::from_str(text).map_err(|error| {
            let line = error.location().map_or(1, |l| l.line());
            let message = error.to_string();
            Error::Usage(format!(
                "{} refused, nothing was changed:\n{}:{line}: {message}",
                path.display(),
                path.display()
            ))
        })?
    };
    let mut declared = declared;
    let locator = Locator::new(text);
    let mut problems = Problems::new(path);
    checks::read_keys_files(path, &mut declared, &locator, &mut problems);
    checks::check(&declared, &locator, &mut problems);
    problems.into_result()?;
    Ok(declared)
}
