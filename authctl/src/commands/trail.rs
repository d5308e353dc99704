//! `authctl revoke ...` and `authctl audit list`: revocation and the audit trail.

use std::io::Read as _;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::api::Api;
use crate::cli::{AuditList, Format, Revoke};
use crate::error::{Error, Result};
use crate::output;

pub async fn revoke(api: &Api, command: Revoke) -> Result<()> {
    match command {
        Revoke::Token { token } => {
            let token = if token == "-" {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|error| Error::usage(format!("cannot read the token: {error}")))?;
                text.trim().to_owned()
            } else {
                token
            };
            api.send(
                Method::POST,
                &["revocation"],
                &[],
                Some(&json!({"token": token})),
            )
            .await?;
            output::line("revoked the token");
        }
        Revoke::Client { id } => {
            api.send(Method::POST, &["client", &id, "revoke"], &[], None)
                .await?;
            output::line(&format!("revoked every token of client {id}"));
        }
    }
    Ok(())
}

/// The audit listing, narrowed by the API's own filters (`actor`, `target`, `action`,
/// `outcome`), read a cursor at a time.
pub async fn audit(api: &Api, args: AuditList, format: Format) -> Result<()> {
    let filters: Vec<(&str, &str)> = [
        ("action", &args.action),
        ("actor", &args.actor),
        ("target", &args.target),
        ("outcome", &args.outcome),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.as_deref().map(|value| (name, value)))
    .collect();
    let mut printer = Printer {
        format,
        header_done: false,
    };
    // The last page read, where polling resumes: the cursor it was asked with and the id
    // of its newest event printed or skipped.
    let mut after: Option<String> = None;
    let mut last_id: Option<i64> = None;
    loop {
        let page = api
            .page_where(&["audit"], &filters, after.as_deref())
            .await?;
        let fresh: Vec<&Value> = page
            .items
            .iter()
            .filter(|e| last_id.is_none_or(|last| e["id"].as_i64().is_some_and(|id| id > last)))
            .collect();
        if let Some(newest) = fresh.last() {
            last_id = newest["id"].as_i64().or(last_id);
        }
        printer.events(fresh.into_iter());
        match page.next {
            Some(next) => after = Some(next),
            None if args.follow => {
                tokio::time::sleep(Duration::from_secs(args.interval.max(1))).await;
            }
            None => break,
        }
    }
    printer.finish();
    Ok(())
}

/// Prints events as they arrive: one JSON object a line (for `--follow` and `jq`), or a
/// table's rows under one header.
struct Printer {
    format: Format,
    header_done: bool,
}

impl Printer {
    fn events<'a>(&mut self, events: impl Iterator<Item = &'a Value>) {
        for event in events {
            match self.format {
                Format::Json => output::line(&event.to_string()),
                Format::Table => {
                    if !self.header_done {
                        output::line("TIME  ACTOR  ACTION  TARGET  OUTCOME  DETAIL");
                        self.header_done = true;
                    }
                    let cells = [
                        "occurred_at",
                        "actor_client_id",
                        "action",
                        "target",
                        "outcome",
                        "detail",
                    ]
                    .iter()
                    .map(|key| output::cell(&event[*key]))
                    .collect::<Vec<_>>();
                    output::line(&cells.join("  "));
                }
            }
        }
    }

    fn finish(&self) {
        if self.format == Format::Table && !self.header_done {
            output::line("no events");
        }
    }
}
