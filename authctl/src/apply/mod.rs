//! `authctl apply -f FILE`: reconcile the service with a declared set of custom scopes,
//! trusted issuers and clients.
//!
//! 1. [`mod@file`]: the file is parsed (unknown fields refused) and checked alone.
//! 2. [`plan`]: the service's state is read and compared; every problem (an unknown scope,
//!    a change the API cannot make, a secret with nowhere to go) refuses the whole apply,
//!    each named by its line, before anything changes.
//! 3. The changes are made in order through the admin API, each printed as it is done; a
//!    new secret goes only to the destination the operator chose (`crate::secrets`).

mod change;
pub mod file;
mod locate;
pub mod plan;

use std::path::PathBuf;

use reqwest::Method;
use serde_json::json;

use self::file::{Declared, Locator, Problems};
use self::plan::{Change, Context, Server, limits_body};
use crate::api::{Api, Granted, Secret};
use crate::cli::{Apply, Format};
use crate::error::{Error, Result};
use crate::{output, secrets};

/// Where new secrets go.
enum Destination {
    Dir(PathBuf),
    Manifest(PathBuf),
}

pub async fn run(
    api: &Api,
    granted: &Granted,
    args: &Apply,
    text: &str,
    declared: Declared,
    format: Format,
) -> Result<()> {
    let destination = destination(args)?;
    if let Some(dir) = &args.ids_dir
        && !dir.is_dir()
    {
        return Err(Error::usage(format!(
            "--ids-dir {}: not a directory",
            dir.display()
        )));
    }
    let server = Server::read(api).await?;
    let at = Locator::new(text);
    let mut problems = Problems::new(&args.file);
    let context = Context {
        caller: &granted.client_id,
        prune: args.prune,
        secret_destination: destination.is_some(),
    };
    let plan = plan::plan(api, &server, &declared, &at, &mut problems, &context).await?;
    problems.into_result()?;
    for note in &plan.notes {
        eprintln!("authctl: note: {note}");
    }
    let described: Vec<String> = plan.changes.iter().map(Change::describe).collect();

    if plan.changes.is_empty() || args.dry_run {
        let summary = match (plan.changes.len(), args.dry_run) {
            (0, _) => "no changes".to_owned(),
            (n, _) => format!("dry run: {n} change(s) planned, nothing was changed"),
        };
        let shown = json!({"dry_run": args.dry_run, "changes": described, "applied": 0, "notes": plan.notes});
        output::either(format, &shown, |_| {
            for line in &described {
                output::line(line);
            }
            output::line(&summary);
        });
        if !args.dry_run {
            write_ids(api, &declared, args).await?;
        }
        return Ok(());
    }

    let mut applied = 0;
    for (change, line) in plan.changes.iter().zip(&described) {
        if let Err(error) = execute(api, change, destination.as_ref()).await {
            eprintln!(
                "authctl: applied {applied} of {} change(s); stopped at: {line}",
                plan.changes.len()
            );
            return Err(error);
        }
        applied += 1;
        if format == Format::Table {
            output::line(line);
        }
    }
    match format {
        Format::Json => output::json(
            &json!({"dry_run": false, "changes": described, "applied": applied, "notes": plan.notes}),
        ),
        Format::Table => output::line(&format!("applied {applied} change(s)")),
    }
    write_ids(api, &declared, args).await
}

/// With `--ids-dir`, writes each declared client's id to `DIR/NAME.id`, as the service
/// knows it now (a service's `OAUTH_CLIENT_ID_FILE`).
async fn write_ids(api: &Api, declared: &Declared, args: &Apply) -> Result<()> {
    let Some(dir) = &args.ids_dir else {
        return Ok(());
    };
    let clients = api.list_all(&["client"]).await?;
    for client in &declared.clients {
        let id = clients
            .iter()
            .find(|c| c["name"].as_str() == Some(client.name.as_str()))
            .and_then(|c| c["client_id"].as_str());
        let Some(id) = id else {
            continue;
        };
        let path = dir.join(format!("{}.id", client.name));
        std::fs::write(&path, format!("{id}\n"))
            .map_err(|error| Error::usage(format!("cannot write {}: {error}", path.display())))?;
    }
    Ok(())
}

/// The destination of new secrets, checked before anything is changed.
fn destination(args: &Apply) -> Result<Option<Destination>> {
    if let Some(dir) = &args.secrets_dir {
        if !dir.is_dir() {
            return Err(Error::usage(format!(
                "--secrets-dir {}: not a directory",
                dir.display()
            )));
        }
        return Ok(Some(Destination::Dir(dir.clone())));
    }
    if let Some(path) = &args.secrets_k8s_manifest {
        crate::commands::check_secret_destination(path)?;
        return Ok(Some(Destination::Manifest(path.clone())));
    }
    Ok(None)
}

async fn execute(api: &Api, change: &Change, destination: Option<&Destination>) -> Result<()> {
    match change {
        Change::AddScope(name) => {
            api.call(Method::POST, &["scope"], &json!({"name": name}))
                .await?;
        }
        Change::CreateIssuer { body, .. } => {
            api.call(Method::POST, &["issuer"], body).await?;
        }
        Change::CreateClient {
            name, body, limits, ..
        } => {
            let created = api.call(Method::POST, &["client"], body).await?;
            let id = created["client_id"].as_str().unwrap_or_default().to_owned();
            // The secret first: it exists only in this answer.
            if let Some(secret) = created["client_secret"].as_str() {
                keep_secret(name, &id, Secret::new(secret.to_owned()), destination)?;
            }
            if let Some(limits) = limits {
                api.call(Method::PUT, &["client", &id, "limits"], limits)
                    .await?;
            }
        }
        Change::SetScopes { id, to, .. } => {
            api.call(Method::PUT, &["client", id, "scope"], &json!(to))
                .await?;
        }
        Change::SetKeys { id, body, .. } => {
            api.call(Method::PUT, &["client", id, "keys"], body).await?;
        }
        Change::SetIdentities { id, body, .. } => {
            api.call(Method::PUT, &["client", id, "identities"], body)
                .await?;
        }
        Change::SetLimits { id, to, .. } => {
            api.call(Method::PUT, &["client", id, "limits"], &limits_body(*to))
                .await?;
        }
        Change::GiveSecret { name, id } => {
            let rotated = api
                .call(Method::POST, &["client", id, "secret"], &json!({}))
                .await?;
            if let Some(secret) = rotated["client_secret"].as_str() {
                keep_secret(name, id, Secret::new(secret.to_owned()), destination)?;
            }
        }
        Change::DeleteClient { id, .. } => {
            api.send(Method::DELETE, &["client", id], &[], None).await?;
        }
        Change::DeleteIssuer { id, .. } => {
            api.send(Method::DELETE, &["issuer", id], &[], None).await?;
        }
        Change::DeleteScope(name) => {
            api.send(Method::DELETE, &["scope", name], &[], None)
                .await?;
        }
    }
    Ok(())
}

/// Hands a new secret to its destination; never prints it.
fn keep_secret(
    name: &str,
    id: &str,
    secret: Secret,
    destination: Option<&Destination>,
) -> Result<()> {
    match destination {
        Some(Destination::Dir(dir)) => {
            let path = dir.join(format!("{name}.secret"));
            secrets::write_file(&path, &secret)?;
            eprintln!(
                "authctl: client {name} ({id}): secret written to {}",
                path.display()
            );
            Ok(())
        }
        Some(Destination::Manifest(path)) => {
            secrets::append_k8s(path, name, id, &secret)?;
            eprintln!(
                "authctl: client {name} ({id}): secret added to {} as Secret {}",
                path.display(),
                secrets::k8s_secret_name(name)
            );
            Ok(())
        }
        None => Err(Error::usage(format!(
            "the service gave client {name} ({id}) a secret and no destination was given: \
             rotate it with `authctl clients rotate {id} --secret-out FILE`"
        ))),
    }
}
