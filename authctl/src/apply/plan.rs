//! The plan: the declared state compared with the service's, as a list of changes in the
//! order they can be made (scopes and issuers before the clients that use them, deletions
//! last). Every check that needs the service's state happens here, before any change.

use std::collections::{BTreeSet, HashMap};

use auth_core::scopes::DEFAULT_SCOPES;
use serde_json::{Map, Value, json};

pub use super::change::Change;
use super::change::{listed, words};
use super::file::{Declared, DeclaredClient, DeclaredLimits, Locator, Problems, with_kid};
use crate::api::Api;
use crate::error::Result;

/// The service's side, as the admin API shows it.
pub struct Server {
    pub registry: Vec<String>,
    pub issuers: Vec<Value>,
    pub clients: Vec<Value>,
}

impl Server {
    pub async fn read(api: &Api) -> Result<Self> {
        let registry = api.get(&["scope"], &[]).await?;
        let issuers = api.get(&["issuer"], &[]).await?;
        Ok(Self {
            registry: strings(&registry),
            issuers: issuers.as_array().cloned().unwrap_or_default(),
            clients: api.list_all(&["client"]).await?,
        })
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

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

/// The creation of a declared client, in one request (and its limits after it).
fn create(client: &DeclaredClient) -> Change {
    let mut body = Map::new();
    body.insert("name".into(), json!(client.name));
    body.insert("scopes".into(), json!(client.scopes));
    if let Some(description) = &client.description {
        body.insert("description".into(), json!(description));
    }
    if !client.audiences.is_empty() {
        body.insert("audiences".into(), json!(client.audiences));
    }
    if let Some(keys) = &client.keys {
        body.insert("keys".into(), json!(keys));
    }
    if let Some(uri) = &client.jwks_uri {
        body.insert("jwks_uri".into(), json!(uri));
    }
    if !client.identities.is_empty() {
        body.insert("identities".into(), identities_body(client));
    }
    Change::CreateClient {
        name: client.name.clone(),
        body: Value::Object(body),
        limits: (client.limits != DeclaredLimits::default()).then(|| limits_body(client.limits)),
        needs_secret: client.needs_secret(),
    }
}

/// The updates that bring `existing` to the declared client.
#[allow(clippy::too_many_arguments)]
async fn update(
    api: &Api,
    client: &DeclaredClient,
    existing: &Value,
    id: &str,
    line: usize,
    problems: &mut Problems,
    changes: &mut Vec<Change>,
    notes: &mut Vec<String>,
) -> Result<()> {
    let name = client.name.clone();
    if !same_set(&strings(&existing["audiences"]), &client.audiences) {
        problems.add(
            line,
            format!(
                "client `{name}`: audiences differ from the service's ({}), and a client's \
                 audiences cannot be changed after its creation: delete the client (`authctl \
                 clients delete {id}`) and apply again to recreate it",
                listed(&strings(&existing["audiences"]))
            ),
        );
    }
    if existing["description"].as_str() != client.description.as_deref() {
        notes.push(format!(
            "client {name}: the description differs from the file's; it is set only when a \
             client is created (not changed)"
        ));
    }
    let scopes = strings(&existing["scopes"]);
    if !same_set(&scopes, &client.scopes) {
        changes.push(Change::SetScopes {
            name: name.clone(),
            id: id.to_owned(),
            from: scopes,
            to: client.scopes.clone(),
        });
    }
    let wanted_keys: Vec<Value> = client
        .keys
        .iter()
        .flatten()
        .map(|k| Value::Object(with_kid(k)))
        .collect();
    let same_keys_now = existing["jwks_uri"].as_str() == client.jwks_uri.as_deref()
        && same_keys(&existing["keys"], &wanted_keys);
    if !same_keys_now {
        let body = match &client.jwks_uri {
            Some(uri) => json!({"jwks_uri": uri}),
            None => json!({"keys": client.keys.clone().unwrap_or_default()}),
        };
        changes.push(Change::SetKeys {
            name: name.clone(),
            id: id.to_owned(),
            body,
        });
    }
    let have: BTreeSet<(String, String)> = existing["identities"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| (words(&i["issuer"]), words(&i["subject"])))
        .collect();
    let want: BTreeSet<(String, String)> = client
        .identities
        .iter()
        .map(|i| (i.issuer.clone(), i.subject.clone()))
        .collect();
    if have != want {
        changes.push(Change::SetIdentities {
            name: name.clone(),
            id: id.to_owned(),
            body: identities_body(client),
        });
    }
    let limits = api.get(&["client", id, "limits"], &[]).await?;
    let now = DeclaredLimits {
        tokens_per_minute: limits["tokens_per_minute"]
            .as_u64()
            .and_then(|v| u32::try_from(v).ok()),
        revocations_per_minute: limits["revocations_per_minute"]
            .as_u64()
            .and_then(|v| u32::try_from(v).ok()),
    };
    if now != client.limits {
        changes.push(Change::SetLimits {
            name,
            id: id.to_owned(),
            from: now,
            to: client.limits,
        });
    }
    Ok(())
}

fn identities_body(client: &DeclaredClient) -> Value {
    Value::Array(
        client
            .identities
            .iter()
            .map(|i| json!({"issuer": i.issuer, "subject": i.subject}))
            .collect(),
    )
}

pub fn limits_body(limits: DeclaredLimits) -> Value {
    json!({
        "tokens_per_minute": limits.tokens_per_minute,
        "revocations_per_minute": limits.revocations_per_minute,
    })
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
}

/// The service's keys (each with its kid) against the declared ones, in any order.
fn same_keys(existing: &Value, wanted: &[Value]) -> bool {
    let mut have: Vec<&Value> = existing.as_array().into_iter().flatten().collect();
    if have.len() != wanted.len() {
        return false;
    }
    wanted
        .iter()
        .all(|key| match have.iter().position(|k| *k == key) {
            Some(at) => {
                have.swap_remove(at);
                true
            }
            None => false,
        })
}
