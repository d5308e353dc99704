//! The commands other than `apply`: each turns its arguments into one or a few admin API
//! calls and prints the answer.

pub mod clients;
mod keygen;
pub mod registry;
pub mod trail;

use std::path::Path;

use serde_json::{Value, json};

use crate::api::{Api, Granted};
use crate::cli::Format;
use crate::error::{Error, Result};
use crate::output;

pub use keygen::run as keygen;

/// `authctl login`: the token endpoint accepted the credentials; show who this is.
pub async fn login(api: &Api, granted: &Granted, format: Format) -> Result<()> {
    // Reading the client needs client:read; without it the token's scopes still answer.
    let client = match api.get(&["client", &granted.client_id], &[]).await {
        Ok(client) => Some(client),
        Err(Error::Refused { .. }) => None,
        Err(error) => return Err(error),
    };
    let shown = json!({
        "client_id": granted.client_id,
        "name": client.as_ref().map_or(Value::Null, |c| c["name"].clone()),
        "scopes": granted.scopes,
        "expires_in": granted.expires_in,
    });
    output::either(format, &shown, |value| {
        output::line(&format!("logged in as {}", granted.client_id));
        output::fields(value, &["name", "scopes", "expires_in"]);
    });
    Ok(())
}

/// Reads a JWKS file (`{"keys": [...]}`, or a bare array of JWKs) as its keys.
pub fn read_jwks(path: &Path) -> Result<Vec<Value>> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| Error::usage(format!("cannot read {}: {error}", path.display())))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|error| Error::usage(format!("{} is not JSON: {error}", path.display())))?;
    match value {
        Value::Array(keys) => Ok(keys),
        Value::Object(mut object) => match object.remove("keys") {
            Some(Value::Array(keys)) => Ok(keys),
            _ => Err(Error::usage(format!(
                "{} is not a JWK Set: {{\"keys\": [...]}}",
                path.display()
            ))),
        },
        _ => Err(Error::usage(format!(
            "{} is not a JWK Set: {{\"keys\": [...]}}",
            path.display()
        ))),
    }
}

/// `ISSUER=SUBJECT` as the API's identity object.
pub fn identity(raw: &str) -> Result<Value> {
    match raw.split_once('=') {
        Some((issuer, subject)) if !issuer.is_empty() && !subject.is_empty() => {
            Ok(json!({"issuer": issuer, "subject": subject}))
        }
        _ => Err(Error::usage(format!(
            "an identity is ISSUER=SUBJECT: {raw:?}"
        ))),
    }
}

/// Checks before any request that a secret can be written to `path`: its directory exists.
pub fn check_secret_destination(path: &Path) -> Result<()> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if path.is_symlink() {
        return Err(Error::usage(format!(
            "cannot write the secret to {}: it is a symbolic link",
            path.display()
        )));
    }
    if parent.is_dir() {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "cannot write the secret to {}: {} is not a directory",
            path.display(),
            parent.display()
        )))
    }
}
