//! The service's side, read through the admin API, and how its values compare with the
//! declared ones: as sets, and keys by their `kid` in any order. Kept apart so that the
//! planning reads as decisions, not as JSON handling.

use std::collections::BTreeSet;

use serde_json::Value;

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

pub(super) fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

pub(super) fn same_set(a: &[String], b: &[String]) -> bool {
    a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
}

/// The service's keys (each with its kid) against the declared ones, in any order.
pub(super) fn same_keys(existing: &Value, wanted: &[Value]) -> bool {
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
