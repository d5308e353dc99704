//! One declared client against the service: the request that creates it, or the changes
//! that bring an existing one to it (scopes, keys, identities, limits), with the problems
//! of what the API cannot change after creation (audiences).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::server::{same_keys, same_set, strings};
use crate::api::Api;
use crate::apply::change::{Change, listed, words};
use crate::apply::file::{DeclaredClient, DeclaredLimits, Problems, with_kid};
use crate::error::Result;

/// The creation of a declared client, in one request (and its limits after it).
pub(super) fn create(client: &DeclaredClient) -> Change {
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
pub(super) async fn update(
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
