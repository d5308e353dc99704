//! The plan: the declared state compared with the service's, as a list of changes in the
//! order they can be made (scopes and issuers before the clients that use them, deletions
//! last). Every check that needs the service's state happens here, before any change.
//! The service's state is read in `server`; the requests that create or update one client
//! are built in `client`.

mod client;
mod server;

use std::collections::{BTreeSet, HashMap};

use auth_core::scopes::DEFAULT_SCOPES;
use serde_json::{Map, Value, json};

pub use self::client::limits_body;
use self::client::{create, update};
pub use self::server::Server;
use self::server::{same_keys, same_set, strings};
use crate::api::Api;
pub use crate::apply::change::Change;
use crate::apply::file::{Declared, Locator, Problems, with_kid};
use crate::error::Result;

/// What the plan needs besides the two states.
pub struct Context<'a> {
    pub caller: &'a str,
    pub prune: bool,
    /// Whether the operator said where new secrets go.
    pub secret_destination: bool,
}

/// The plan, and notes for the operator that are not changes.
pub struct Plan {
    pub changes: Vec<Change>,
    pub notes: Vec<String>,
}

/// Compares the declared state with the service's. Problems (an unknown scope, a change the
/// API cannot make) are collected in `problems`; the caller refuses the apply if any.
pub async fn plan(
    api: &Api,
    server: &Server,
    declared: &Declared,
    at: &Locator<'_>,
    problems: &mut Problems,
    context: &Context<'_>,
) -> Result<Plan> {
    let mut changes = Vec::new();
    let mut notes = Vec::new();

    for scope in &declared.scopes {
        if !server.registry.contains(scope) {
            changes.push(Change::AddScope(scope.clone()));
        }
    }
    let known_scopes: BTreeSet<&str> = server
        .registry
        .iter()
        .chain(&declared.scopes)
        .map(String::as_str)
        .collect();

    let server_issuers: HashMap<&str, &Value> = server
        .issuers
        .iter()
        .filter_map(|i| Some((i["issuer"].as_str()?, i)))
        .collect();
    for issuer in &declared.issuers {
        let line = at.key_value("issuers", "issuer", &issuer.issuer, 0);
        let mut body = Map::new();
        body.insert("issuer".into(), json!(issuer.issuer));
        if let Some(uri) = &issuer.jwks_uri {
            body.insert("jwks_uri".into(), json!(uri));
        }
        if let Some(jwks) = &issuer.jwks {
            body.insert("jwks".into(), json!({"keys": jwks.keys}));
        }
        if !issuer.audiences.is_empty() {
            body.insert("audiences".into(), json!(issuer.audiences));
        }
        match server_issuers.get(issuer.issuer.as_str()) {
            None => changes.push(Change::CreateIssuer {
                issuer: issuer.issuer.clone(),
                body: Value::Object(body),
            }),
            Some(existing) => {
                let keys: Vec<Value> = issuer
                    .jwks
                    .as_ref()
                    .map(|jwks| {
                        jwks.keys
                            .iter()
                            .map(|k| Value::Object(with_kid(k)))
                            .collect()
                    })
                    .unwrap_or_default();
                let same = existing["jwks_uri"].as_str() == issuer.jwks_uri.as_deref()
                    && same_keys(&existing["keys"], &keys)
                    && same_set(&strings(&existing["audiences"]), &issuer.audiences);
                if !same {
                    problems.add(
                        line,
                        format!(
                            "issuer `{}` differs from the registered one (keys or audiences), \
                             and a trusted issuer cannot be changed through the API: delete it \
                             (`authctl issuers delete {}`; its bindings stop working) and apply \
                             again",
                            issuer.issuer,
                            existing["id"].as_str().unwrap_or("ID")
                        ),
                    );
                }
            }
        }
    }
    let known_issuers: BTreeSet<&str> = server_issuers
        .keys()
        .copied()
        .chain(declared.issuers.iter().map(|i| i.issuer.as_str()))
        .collect();

    let mut by_name: HashMap<&str, Vec<&Value>> = HashMap::new();
    for client in &server.clients {
        if let Some(name) = client["name"].as_str() {
            by_name.entry(name).or_default().push(client);
        }
    }
    let mut new_secrets = false;
    for client in &declared.clients {
        let name = client.name.as_str();
        let line = at.client(name, 0);
        for scope in &client.scopes {
            if !known_scopes.contains(scope.as_str()) {
                problems.add(
                    at.in_client(name, 0, scope),
                    format!(
                        "client `{name}`: unknown scope `{scope}`: neither registered on the \
                         service nor declared under `scopes:`"
                    ),
                );
            }
        }
        for identity in &client.identities {
            if !known_issuers.contains(identity.issuer.as_str()) {
                problems.add(
                    at.in_client(name, 0, &identity.issuer),
                    format!(
                        "client `{name}`: identity issuer `{}` is neither registered on the \
                         service nor declared under `issuers:`",
                        identity.issuer
                    ),
                );
            }
        }
        match by_name.get(name).map(Vec::as_slice) {
            None | Some([]) => {
                new_secrets |= client.needs_secret();
                changes.push(create(client));
            }
            Some([existing]) => {
                let id = existing["client_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                update(
                    api,
                    client,
                    existing,
                    &id,
                    line,
                    problems,
                    &mut changes,
                    &mut notes,
                )
                .await?;
                if client.needs_secret() && existing["has_secret"].as_bool() == Some(false) {
                    new_secrets = true;
                    changes.push(Change::GiveSecret {
                        name: name.to_owned(),
                        id,
                    });
                }
            }
            Some(several) => {
                let ids: Vec<&str> = several
                    .iter()
                    .filter_map(|c| c["client_id"].as_str())
                    .collect();
                problems.add(
                    line,
                    format!(
                        "client `{name}`: the service has {} clients of that name ({}): delete \
                         all but one",
                        several.len(),
                        ids.join(", ")
                    ),
                );
            }
        }
    }
    if new_secrets && !context.secret_destination {
        let first = declared
            .clients
            .iter()
            .find(|c| c.needs_secret() && !by_name.contains_key(c.name.as_str()))
            .or_else(|| declared.clients.iter().find(|c| c.needs_secret()));
        let line = first.map_or(1, |c| at.client(&c.name, 0));
        problems.add(
            line,
            "clients here get a secret, shown only once: say where it goes with --secrets-dir \
             DIR or --secrets-k8s-manifest FILE"
                .to_owned(),
        );
    }

    if context.prune {
        let declared_names: BTreeSet<&str> =
            declared.clients.iter().map(|c| c.name.as_str()).collect();
        for client in &server.clients {
            let name = client["name"].as_str();
            if name.is_some_and(|n| declared_names.contains(n)) {
                continue;
            }
            let id = client["client_id"].as_str().unwrap_or_default();
            if id == context.caller {
                notes.push(format!(
                    "kept client {id}: authctl is logged in as it (not pruned)"
                ));
                continue;
            }
            changes.push(Change::DeleteClient {
                id: id.to_owned(),
                name: name.map(str::to_owned),
            });
        }
        for issuer in &server.issuers {
            let value = issuer["issuer"].as_str().unwrap_or_default();
            if !declared.issuers.iter().any(|i| i.issuer == value) {
                changes.push(Change::DeleteIssuer {
                    id: issuer["id"].as_str().unwrap_or_default().to_owned(),
                    issuer: value.to_owned(),
                });
            }
        }
        for scope in &server.registry {
            if !DEFAULT_SCOPES.contains(&scope.as_str()) && !declared.scopes.contains(scope) {
                changes.push(Change::DeleteScope(scope.clone()));
            }
        }
    }
    Ok(Plan { changes, notes })
}
