//! One change of a plan, and how it is shown: `+` created, `~` updated, `-` deleted.

use serde_json::Value;

use super::file::DeclaredLimits;

/// One change to make through the admin API.
#[derive(Debug)]
pub enum Change {
    AddScope(String),
    CreateIssuer {
        issuer: String,
        body: Value,
    },
    CreateClient {
        name: String,
        body: Value,
        limits: Option<Value>,
        needs_secret: bool,
    },
    SetScopes {
        name: String,
        id: String,
        from: Vec<String>,
        to: Vec<String>,
    },
    SetKeys {
        name: String,
        id: String,
        body: Value,
    },
    SetIdentities {
        name: String,
        id: String,
        body: Value,
    },
    SetLimits {
        name: String,
        id: String,
        from: DeclaredLimits,
        to: DeclaredLimits,
    },
    GiveSecret {
        name: String,
        id: String,
    },
    DeleteClient {
        id: String,
        name: Option<String>,
    },
    DeleteIssuer {
        id: String,
        issuer: String,
    },
    DeleteScope(String),
}

impl Change {
    /// `+` create, `~` update, `-` delete, and what.
    pub fn describe(&self) -> String {
        match self {
            Self::AddScope(name) => format!("+ scope {name}"),
            Self::CreateIssuer { issuer, .. } => format!("+ issuer {issuer}"),
            Self::CreateClient {
                name,
                body,
                needs_secret,
                ..
            } => format!(
                "+ client {name} (scopes: {}{})",
                words(&body["scopes"]),
                if *needs_secret { "; gets a secret" } else { "" }
            ),
            Self::SetScopes { name, from, to, .. } => {
                format!("~ client {name}: scopes {} -> {}", listed(from), listed(to))
            }
            Self::SetKeys { name, body, .. } => match body["jwks_uri"].as_str() {
                Some(uri) => format!("~ client {name}: keys from {uri}"),
                None => format!(
                    "~ client {name}: keys -> {} key(s)",
                    body["keys"].as_array().map_or(0, Vec::len)
                ),
            },
            Self::SetIdentities { name, body, .. } => format!(
                "~ client {name}: identities -> {}",
                body.as_array()
                    .filter(|list| !list.is_empty())
                    .map(|list| list
                        .iter()
                        .map(|i| format!("{}={}", words(&i["issuer"]), words(&i["subject"])))
                        .collect::<Vec<_>>()
                        .join(" "))
                    .unwrap_or_else(|| "(none)".to_owned())
            ),
            Self::SetLimits { name, from, to, .. } => format!(
                "~ client {name}: limits {} -> {}",
                limits_text(*from),
                limits_text(*to)
            ),
            Self::GiveSecret { name, .. } => {
                format!("~ client {name}: gets a secret (it has no keys or identities left)")
            }
            Self::DeleteClient { id, name } => match name {
                Some(name) => format!("- client {name} ({id})"),
                None => format!("- client {id} (unnamed)"),
            },
            Self::DeleteIssuer { issuer, .. } => format!("- issuer {issuer}"),
            Self::DeleteScope(name) => format!("- scope {name}"),
        }
    }
}

pub fn words(value: &Value) -> String {
    match value {
        Value::Array(items) if items.is_empty() => "(none)".to_owned(),
        Value::Array(items) => items.iter().map(words).collect::<Vec<_>>().join(" "),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn listed(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items.join(" ")
    }
}

fn limits_text(limits: DeclaredLimits) -> String {
    let shown = |v: Option<u32>| v.map_or_else(|| "default".to_owned(), |v| v.to_string());
    format!(
        "tokens_per_minute {}, revocations_per_minute {}",
        shown(limits.tokens_per_minute),
        shown(limits.revocations_per_minute)
    )
}
