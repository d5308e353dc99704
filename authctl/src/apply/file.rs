//! The declared state: the YAML file's shape (unknown fields refused), and every check that
//! needs only the file. Each error names its line: yaml_serde's location for parse errors,
//! and for the others the line of the offending name, found in the text ([`Locator`]).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use auth_core::scopes::Scope;
use auth_core::token::{JwkInput, VerifyingKey};
use serde::Deserialize;
use serde_json::{Map, Value};

pub use super::locate::Locator;
use crate::error::{Error, Result};

/// Members a private JWK has and a public one never does.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
/// The admin API's bound on a per-minute limit.
const MAX_PER_MINUTE: u32 = 10_000_000;
/// The longest client name (the admin API's).
const MAX_NAME_LEN: usize = 200;

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
    read_keys_files(path, &mut declared, &locator, &mut problems);
    check(&declared, &locator, &mut problems);
    problems.into_result()?;
    Ok(declared)
}

/// Replaces each client's `keys_file` by the keys it holds (a JWKS or one JWK), read
/// relative to the declaring file's directory.
fn read_keys_files(path: &Path, declared: &mut Declared, at: &Locator, problems: &mut Problems) {
    let base = path.parent().unwrap_or(Path::new("."));
    let mut seen = HashMap::new();
    for client in &mut declared.clients {
        let nth = seen.entry(client.name.clone()).or_insert(0usize);
        *nth += 1;
        let Some(file) = &client.keys_file else {
            continue;
        };
        let line = at.client(&client.name, *nth - 1);
        let name = &client.name;
        if client.keys.is_some() {
            problems.add(
                line,
                format!("client `{name}`: give keys or keys_file, not both"),
            );
            continue;
        }
        let full = base.join(file);
        let text = match std::fs::read_to_string(&full) {
            Ok(text) => text,
            Err(error) => {
                problems.add(
                    line,
                    format!(
                        "client `{name}`: cannot read keys_file {}: {error}",
                        full.display()
                    ),
                );
                continue;
            }
        };
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(mut document)) => {
                client.keys = Some(match document.remove("keys") {
                    Some(Value::Array(keys)) => keys,
                    Some(_) => Vec::new(),
                    None => vec![Value::Object(document)],
                });
            }
            _ => problems.add(
                line,
                format!(
                    "client `{name}`: keys_file {} is not a JWKS or a JWK",
                    full.display()
                ),
            ),
        }
    }
}

/// The checks that need only the file.
fn check(declared: &Declared, at: &Locator, problems: &mut Problems) {
    let mut seen_scopes = HashMap::new();
    for scope in &declared.scopes {
        let nth = seen_scopes.entry(scope.as_str()).or_insert(0usize);
        let line = at.token("scopes", scope, *nth);
        *nth += 1;
        if *nth > 1 {
            problems.add(line, format!("scope `{scope}` is declared twice"));
        }
        if let Err(error) = Scope::parse(scope) {
            problems.add(line, format!("invalid scope name `{scope}`: {error}"));
        }
    }

    let mut seen_issuers = HashMap::new();
    for issuer in &declared.issuers {
        let nth = seen_issuers.entry(issuer.issuer.as_str()).or_insert(0usize);
        let line = at.key_value("issuers", "issuer", &issuer.issuer, *nth);
        *nth += 1;
        if *nth > 1 {
            problems.add(
                line,
                format!("issuer `{}` is declared twice", issuer.issuer),
            );
        }
        match (&issuer.jwks_uri, &issuer.jwks) {
            (Some(uri), None) => check_jwks_uri(uri, line, problems),
            (None, Some(jwks)) if jwks.keys.is_empty() => {
                problems.add(
                    line,
                    format!("issuer `{}`: jwks has no keys", issuer.issuer),
                );
            }
            (None, Some(jwks)) => check_keys(&jwks.keys, &issuer.issuer, line, problems),
            _ => problems.add(
                line,
                format!(
                    "issuer `{}`: give jwks_uri or jwks, one of them",
                    issuer.issuer
                ),
            ),
        }
        check_audiences(&issuer.audiences, &issuer.issuer, line, problems);
    }

    let mut seen_names = HashMap::new();
    for client in &declared.clients {
        let nth = seen_names.entry(client.name.as_str()).or_insert(0usize);
        let line = at.client(&client.name, *nth);
        *nth += 1;
        let name = &client.name;
        if *nth > 1 {
            problems.add(
                line,
                format!("client name `{name}` is declared twice: names must be unique"),
            );
        }
        let valid_name = name.len() <= MAX_NAME_LEN
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid_name {
            problems.add(
                line,
                format!(
                    "client name `{name}`: 1 to {MAX_NAME_LEN} letters, digits, '.', '_' or '-', \
                     starting with a letter or digit (it names the secret file)"
                ),
            );
        }
        let mut scopes = BTreeSet::new();
        for scope in &client.scopes {
            if !scopes.insert(scope) {
                problems.add(
                    at.in_client(name, *nth - 1, scope),
                    format!("client `{name}`: scope `{scope}` is listed twice"),
                );
            }
        }
        if client.keys.is_some() && client.jwks_uri.is_some() {
            problems.add(
                line,
                format!("client `{name}`: give keys or jwks_uri, not both"),
            );
        }
        if let Some(keys) = &client.keys {
            let key_line = at.in_client(name, *nth - 1, "keys");
            check_keys(keys, &format!("client `{name}`"), key_line, problems);
        }
        if let Some(uri) = &client.jwks_uri {
            check_jwks_uri(uri, at.in_client(name, *nth - 1, uri), problems);
        }
        check_audiences(&client.audiences, name, line, problems);
        for identity in &client.identities {
            let star = identity.subject.find('*');
            if identity.subject.is_empty()
                || identity.issuer.is_empty()
                || star.is_some_and(|at| at + 1 != identity.subject.len())
            {
                problems.add(
                    at.in_client(name, *nth - 1, &identity.subject),
                    format!(
                        "client `{name}`: identity subject `{}` must be exact or a prefix \
                         ending in one `*`, and its issuer must be given",
                        identity.subject
                    ),
                );
            }
        }
        for (field, value) in [
            ("tokens_per_minute", client.limits.tokens_per_minute),
            (
                "revocations_per_minute",
                client.limits.revocations_per_minute,
            ),
        ] {
            if value.is_some_and(|v| v > MAX_PER_MINUTE) {
                problems.add(
                    at.in_client(name, *nth - 1, field),
                    format!(
                        "client `{name}`: {field} must be from 0 (no limit) to {MAX_PER_MINUTE}"
                    ),
                );
            }
        }
    }
}

/// Public keys as the admin API takes them: JWKs of a supported kind, no private member,
/// distinct key ids.
fn check_keys(keys: &[Value], owner: &str, line: usize, problems: &mut Problems) {
    let mut kids = BTreeSet::new();
    for (index, key) in keys.iter().enumerate() {
        match public_key(key) {
            Ok(kid) => {
                if !kids.insert(kid.clone()) {
                    problems.add(line, format!("{owner}: key {index} repeats kid `{kid}`"));
                }
            }
            Err(why) => problems.add(line, format!("{owner}: key {index} {why}")),
        }
    }
}

/// The key id of a public JWK (the given one, or its RFC 7638 thumbprint), or why it is
/// not one the service accepts.
pub fn public_key(key: &Value) -> std::result::Result<String, String> {
    let Value::Object(jwk) = key else {
        return Err("is not a JWK (an object)".to_owned());
    };
    let private: Vec<&str> = PRIVATE_MEMBERS
        .into_iter()
        .filter(|m| jwk.contains_key(*m))
        .collect();
    if !private.is_empty() {
        return Err(format!(
            "has private key members ({}): declare only the public key",
            private.join(", ")
        ));
    }
    let unsupported = || {
        "is not a supported public signing key (OKP Ed25519, EC P-256, or RSA of 2048 bits or \
         more)"
            .to_owned()
    };
    let input: JwkInput = serde_json::from_value(key.clone()).map_err(|_| unsupported())?;
    VerifyingKey::from_jwk(&input)
        .map(|key| key.kid().to_owned())
        .map_err(|_| unsupported())
}

/// A JWK as the service shows it: as given, with its `kid`.
pub fn with_kid(key: &Value) -> Map<String, Value> {
    let mut jwk = key.as_object().cloned().unwrap_or_default();
    if let Ok(kid) = public_key(key) {
        jwk.insert("kid".to_owned(), Value::String(kid));
    }
    jwk
}

fn check_jwks_uri(uri: &str, line: usize, problems: &mut Problems) {
    let loopback = ["http://127.", "http://localhost", "http://[::1]"];
    if !(uri.starts_with("https://") || loopback.iter().any(|p| uri.starts_with(p))) {
        problems.add(
            line,
            format!("jwks_uri `{uri}` must be https (or http on a loopback host)"),
        );
    }
}

fn check_audiences(audiences: &[String], owner: &str, line: usize, problems: &mut Problems) {
    for audience in audiences {
        let absolute = audience.split_once(':').is_some_and(|(scheme, rest)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !rest.is_empty()
        });
        if !absolute || audience.contains('#') || audience.chars().any(char::is_whitespace) {
            problems.add(
                line,
                format!(
                    "`{owner}`: audience `{audience}` is not an absolute URI without a fragment"
                ),
            );
        }
    }
}
