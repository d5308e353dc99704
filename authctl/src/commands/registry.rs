//! `authctl scopes ...` and `authctl issuers ...`: the scope registry and the trusted
//! issuers of workload identities.

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::clients::print_names;
use super::read_jwks;
use crate::api::Api;
use crate::cli::{Format, Issuers, Scopes};
use crate::error::Result;
use crate::output;

pub async fn scopes(api: &Api, command: Scopes, format: Format) -> Result<()> {
    match command {
        Scopes::List => {
            let names = api.get(&["scope"], &[]).await?;
            output::either(format, &names, print_names);
        }
        Scopes::Add { name } => {
            let added = api
                .call(Method::POST, &["scope"], &json!({"name": name}))
                .await?;
            output::either(format, &added, |value| {
                if value["created"].as_bool() == Some(false) {
                    output::line(&format!("scope {name} was already registered"));
                } else {
                    output::line(&format!("added scope {name}"));
                }
            });
        }
        Scopes::Delete { name } => {
            api.send(Method::DELETE, &["scope", &name], &[], None)
                .await?;
            let value = json!({"name": name, "deleted": true});
            output::either(format, &value, |_| {
                output::line(&format!("deleted scope {name}"))
            });
        }
    }
    Ok(())
}

pub async fn issuers(api: &Api, command: Issuers, format: Format) -> Result<()> {
    match command {
        Issuers::List => {
            let list = api.get(&["issuer"], &[]).await?;
            output::either(format, &list, |value| {
                let rows: Vec<Vec<String>> = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|i| {
                        vec![
                            output::cell(&i["id"]),
                            output::cell(&i["issuer"]),
                            keys_cell(i),
                            output::cell(&i["audiences"]),
                        ]
                    })
                    .collect();
                output::table(&["ID", "ISSUER", "KEYS", "AUDIENCES"], &rows);
            });
        }
        Issuers::Get { id } => {
            let issuer = api.get(&["issuer", &id], &[]).await?;
            output::either(format, &issuer, print_issuer);
        }
        Issuers::Create {
            issuer,
            jwks_uri,
            jwks,
            audiences,
        } => {
            let mut body = Map::new();
            body.insert("issuer".into(), json!(issuer));
            if let Some(uri) = jwks_uri {
                body.insert("jwks_uri".into(), json!(uri));
            }
            if let Some(path) = jwks {
                body.insert("jwks".into(), json!({"keys": read_jwks(&path)?}));
            }
            if !audiences.is_empty() {
                body.insert("audiences".into(), json!(audiences));
            }
            let created = api
                .call(Method::POST, &["issuer"], &Value::Object(body))
                .await?;
            output::either(format, &created, print_issuer);
        }
        Issuers::Delete { id } => {
            api.send(Method::DELETE, &["issuer", &id], &[], None)
                .await?;
            let value = json!({"id": id, "deleted": true});
            output::either(format, &value, |_| {
                output::line(&format!("deleted issuer {id}"))
            });
        }
    }
    Ok(())
}

/// An issuer's keys in a cell: its URL, or its key ids.
fn keys_cell(issuer: &Value) -> String {
    match issuer["jwks_uri"].as_str() {
        Some(uri) => uri.to_owned(),
        None => issuer["keys"]
            .as_array()
            .map(|keys| {
                keys.iter()
                    .map(|k| output::cell(&k["kid"]))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default(),
    }
}

fn print_issuer(issuer: &Value) {
    let mut shown = issuer.clone();
    if let Some(object) = shown.as_object_mut() {
        object.insert("keys".into(), json!(keys_cell(issuer)));
    }
    output::fields(&shown, &["id", "issuer", "keys", "audiences", "created_at"]);
}
