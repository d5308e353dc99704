//! `authctl clients ...`: list, read, create, delete, rotate, and a client's scopes, keys,
//! identities and limits.

use std::path::Path;

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::{check_secret_destination, identity, read_jwks};
use crate::api::{Api, Secret};
use crate::cli::{
    ClientIdentities, ClientKeys, ClientLimits, ClientScopes, Clients, CreateClient, Format, Limit,
};
use crate::error::Result;
use crate::{output, secrets};

pub async fn run(api: &Api, command: Clients, format: Format) -> Result<()> {
    match command {
        Clients::List => {
            let items = api.list_all(&["client"]).await?;
            output::either(format, &Value::Array(items.clone()), |_| print_list(&items));
        }
        Clients::Get { id } => {
            let client = api.get(&["client", &id], &[]).await?;
            output::either(format, &client, print_client);
        }
        Clients::Create(args) => create(api, args, format).await?,
        Clients::Delete { id } => {
            api.send(Method::DELETE, &["client", &id], &[], None)
                .await?;
            done(
                format,
                json!({"client_id": id, "deleted": true}),
                &format!("deleted client {id}"),
            );
        }
        Clients::Rotate {
            id,
            grace_seconds,
            secret_out,
        } => {
            if let Some(path) = &secret_out {
                check_secret_destination(path)?;
            }
            let body = json!({"grace_period_seconds": grace_seconds});
            let mut rotated = api
                .call(Method::POST, &["client", &id, "secret"], &body)
                .await?;
            let written = hand_over_secret(&mut rotated, secret_out.as_deref())?;
            output::either(format, &rotated, |value| {
                output::line(&format!("rotated the secret of client {id}"));
                output::fields(value, &["previous_secret_expires_at"]);
                print_secret(value, written.as_deref());
            });
        }
        Clients::Scopes(ClientScopes::Get { id }) => {
            let scopes = api.get(&["client", &id, "scope"], &[]).await?;
            output::either(format, &scopes, print_names);
        }
        Clients::Scopes(ClientScopes::Set { id, scopes }) => {
            let now = api
                .call(Method::PUT, &["client", &id, "scope"], &json!(scopes))
                .await?;
            output::either(format, &now, print_names);
        }
        Clients::Keys(ClientKeys::Set {
            id,
            jwks,
            jwks_uri,
            clear,
        }) => {
            let body = match (jwks, jwks_uri) {
                (Some(path), _) => json!({"keys": read_jwks(&path)?}),
                (None, Some(uri)) => json!({"jwks_uri": uri}),
                (None, None) => {
                    debug_assert!(clear);
                    json!({"keys": []})
                }
            };
            let client = api
                .call(Method::PUT, &["client", &id, "keys"], &body)
                .await?;
            output::either(format, &client, print_client);
        }
        Clients::Identities(ClientIdentities::Set { id, identities }) => {
            let body = identities
                .iter()
                .map(|raw| identity(raw))
                .collect::<Result<Vec<Value>>>()?;
            let client = api
                .call(
                    Method::PUT,
                    &["client", &id, "identities"],
                    &Value::Array(body),
                )
                .await?;
            output::either(format, &client, print_client);
        }
        Clients::Limits(ClientLimits::Get { id }) => {
            let limits = api.get(&["client", &id, "limits"], &[]).await?;
            output::either(format, &limits, print_limits);
        }
        Clients::Limits(ClientLimits::Set {
            id,
            tokens_per_minute,
            revocations_per_minute,
        }) => {
            let body = json!({
                "tokens_per_minute": limit_value(tokens_per_minute),
                "revocations_per_minute": limit_value(revocations_per_minute),
            });
            let limits = api
                .call(Method::PUT, &["client", &id, "limits"], &body)
                .await?;
            output::either(format, &limits, print_limits);
        }
    }
    Ok(())
}

async fn create(api: &Api, args: CreateClient, format: Format) -> Result<()> {
    if let Some(path) = &args.secret_out {
        check_secret_destination(path)?;
    }
    let mut body = Map::new();
    body.insert("scopes".into(), json!(args.scopes));
    if let Some(name) = args.name {
        body.insert("name".into(), json!(name));
    }
    if let Some(description) = args.description {
        body.insert("description".into(), json!(description));
    }
    if !args.audiences.is_empty() {
        body.insert("audiences".into(), json!(args.audiences));
    }
    if let Some(path) = &args.jwks {
        body.insert("keys".into(), Value::Array(read_jwks(path)?));
    }
    if let Some(uri) = args.jwks_uri {
        body.insert("jwks_uri".into(), json!(uri));
    }
    if !args.identities.is_empty() {
        let identities = args
            .identities
            .iter()
            .map(|raw| identity(raw))
            .collect::<Result<Vec<Value>>>()?;
        body.insert("identities".into(), Value::Array(identities));
    }
    let mut created = api
        .call(Method::POST, &["client"], &Value::Object(body))
        .await?;
    let written = hand_over_secret(&mut created, args.secret_out.as_deref())?;
    output::either(format, &created, |value| {
        output::line(&format!(
            "created client {}",
            output::cell(&value["client_id"])
        ));
        output::fields(value, &["name", "scopes"]);
        print_secret(value, written.as_deref());
    });
    Ok(())
}

/// Writes the answer's `client_secret` to `path` when one was given, and then takes it
/// out of the answer, so it is never printed. Returns where it went.
fn hand_over_secret(answer: &mut Value, path: Option<&Path>) -> Result<Option<String>> {
    let (Some(path), Some(object)) = (path, answer.as_object_mut()) else {
        return Ok(None);
    };
    let Some(Value::String(secret)) = object.remove("client_secret") else {
        return Ok(None);
    };
    secrets::write_file(path, &Secret::new(secret))?;
    Ok(Some(path.display().to_string()))
}

fn print_secret(value: &Value, written: Option<&str>) {
    match (written, value["client_secret"].as_str()) {
        (Some(path), _) => output::line(&format!("secret written to {path} (mode 0600)")),
        (None, Some(secret)) => {
            output::line(&format!("client_secret: {secret}"));
            eprintln!("authctl: the secret is shown only this once: keep it now");
        }
        (None, None) => {
            output::line("no secret: the client authenticates with its keys or identities")
        }
    }
}

fn limit_value(limit: Limit) -> Value {
    match limit {
        Limit::Default => Value::Null,
        Limit::PerMinute(n) => json!(n),
    }
}

fn done(format: Format, value: Value, human: &str) {
    output::either(format, &value, |_| output::line(human));
}

pub fn print_list(items: &[Value]) {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|c| {
            vec![
                output::cell(&c["client_id"]),
                output::cell(&c["name"]),
                (if c["has_secret"].as_bool() == Some(false) {
                    "no"
                } else {
                    "yes"
                })
                .to_owned(),
                output::cell(&c["scopes"]),
            ]
        })
        .collect();
    output::table(&["CLIENT_ID", "NAME", "SECRET", "SCOPES"], &rows);
}

pub fn print_client(client: &Value) {
    let mut shown = client.clone();
    if let Some(object) = shown.as_object_mut() {
        let kids: Vec<Value> = client["keys"]
            .as_array()
            .map(|keys| keys.iter().map(|k| k["kid"].clone()).collect())
            .unwrap_or_default();
        object.insert("keys".into(), Value::Array(kids));
        let identities: Vec<Value> = client["identities"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|i| {
                        json!(format!(
                            "{}={}",
                            output::cell(&i["issuer"]),
                            output::cell(&i["subject"])
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        object.insert("identities".into(), Value::Array(identities));
    }
    if client["root"].as_bool() == Some(true) {
        output::fields(
            &shown,
            &["client_id", "name", "description", "scopes", "root"],
        );
    } else {
        output::fields(
            &shown,
            &[
                "client_id",
                "name",
                "description",
                "scopes",
                "audiences",
                "keys",
                "jwks_uri",
                "identities",
                "has_secret",
                "created_at",
                "updated_at",
            ],
        );
    }
}

pub fn print_names(names: &Value) {
    for name in names.as_array().into_iter().flatten() {
        output::line(&output::cell(name));
    }
}

fn print_limits(limits: &Value) {
    let shown = |v: &Value| match v {
        Value::Null => "default".to_owned(),
        Value::Number(n) if n.as_u64() == Some(0) => "no limit".to_owned(),
        other => output::cell(other),
    };
    let rows = ["tokens_per_minute", "revocations_per_minute"]
        .iter()
        .map(|key| {
            vec![
                (*key).to_owned(),
                shown(&limits[*key]),
                match &limits["effective"][*key] {
                    Value::Number(n) if n.as_u64() == Some(0) => "no limit".to_owned(),
                    other => output::cell(other),
                },
            ]
        })
        .collect::<Vec<_>>();
    output::table(&["LIMIT", "OWN", "IN FORCE"], &rows);
}
