//! Where a new secret goes: a file only its owner can read, or a Kubernetes Secret
//! manifest. Never standard output or a log once the operator chose a destination.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use serde::Serialize;

use crate::api::Secret;
use crate::error::{Error, Result};

/// Writes `secret` (and a final line break) to `path`, mode 0600, replacing what was there;
/// a symbolic link at `path` is refused, not followed (it could point anywhere).
pub fn write_file(path: &Path, secret: &Secret) -> Result<()> {
    let failed = |error: std::io::Error| {
        Error::usage(format!(
            "cannot write the secret to {}: {error}",
            path.display()
        ))
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(failed)?;
    // An existing file keeps its mode on open: narrow it before writing.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(failed)?;
    writeln!(file, "{}", secret.expose()).map_err(failed)?;
    file.sync_all().map_err(failed)
}

/// A Kubernetes Secret with a client's credentials.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct K8sSecret<'a> {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    #[serde(rename = "type")]
    kind_of_secret: &'static str,
    string_data: StringData<'a>,
}

#[derive(Serialize)]
struct Metadata {
    name: String,
    labels: Labels,
}

#[derive(Serialize)]
struct Labels {
    #[serde(rename = "app.kubernetes.io/managed-by")]
    managed_by: &'static str,
}

#[derive(Serialize)]
struct StringData<'a> {
    client_id: &'a str,
    client_secret: &'a str,
}

/// The Secret object's name for client `name`: a DNS-1123 subdomain.
pub fn k8s_secret_name(name: &str) -> String {
    let mut cleaned: String = name
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-' | '.') => c,
            _ => '-',
        })
        .collect();
    cleaned = cleaned.trim_matches(['-', '.']).to_owned();
    if cleaned.is_empty() {
        cleaned.push_str("client");
    }
    cleaned.truncate(200);
    format!("{cleaned}-client-credentials")
}

/// Appends a Secret document with `name`'s credentials to `path` (created mode 0600).
pub fn append_k8s(path: &Path, name: &str, client_id: &str, secret: &Secret) -> Result<()> {
    let failed = |error: String| {
        Error::usage(format!(
            "cannot write the secret to {}: {error}",
            path.display()
        ))
    };
    let document = K8sSecret {
        api_version: "v1",
        kind: "Secret",
        metadata: Metadata {
            name: k8s_secret_name(name),
            labels: Labels {
                managed_by: "authctl",
            },
        },
        kind_of_secret: "Opaque",
        string_data: StringData {
            client_id,
            client_secret: secret.expose(),
        },
    };
    let yaml = yaml_serde::to_string(&document).map_err(|e| failed(e.to_string()))?;
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| failed(e.to_string()))?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(|e| failed(e.to_string()))?;
    write!(file, "---\n{yaml}").map_err(|e| failed(e.to_string()))?;
    file.sync_all().map_err(|e| failed(e.to_string()))
}
