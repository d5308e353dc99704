//! The checks that need only the file, apart from its shape: names unique and well formed,
//! keys public and supported, URIs acceptable, limits in bounds; and the reading of each
//! client's `keys_file`. Each problem is added with the line of the offending name, so
//! that all of them are reported at once.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use auth_core::scopes::Scope;
use serde_json::Value;

use super::jwk::public_key;
use super::{Declared, Locator, Problems};

/// The admin API's bound on a per-minute limit.
const MAX_PER_MINUTE: u32 = 10_000_000;
/// The longest client name (the admin API's).
const MAX_NAME_LEN: usize = 200;

/// Replaces each client's `keys_file` by the keys it holds (a JWKS or one JWK), read
/// relative to the declaring file's directory.
pub(super) fn read_keys_files(
    path: &Path,
    declared: &mut Declared,
    at: &Locator,
    problems: &mut Problems,
) {
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
pub(super) fn check(declared: &Declared, at: &Locator, problems: &mut Problems) {
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
