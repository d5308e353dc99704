//! authctl: the operators' command line for the authorization service.
//!
//! It talks to the token endpoint (to log in with client credentials) and the admin API,
//! never to the database, so every change it makes passes the admin API's scope checks,
//! escalation rules and audit trail. `main` parses the command line and calls [`run`]; the
//! exit code comes from [`Error::exit_code`].

pub mod api;
pub mod apply;
pub mod cli;
mod commands;
pub mod error;
mod output;
mod secrets;

use std::path::Path;
use std::time::Duration;

use clap::CommandFactory as _;

use crate::api::{Api, Credentials, Granted, Secret, parse_url, token_endpoint};
use crate::cli::{Cli, Command, Connection};
pub use crate::error::{Error, Result};

/// The environment variable of the client secret (never a flag).
pub const SECRET_VARIABLE: &str = "AUTHCTL_CLIENT_SECRET";

/// Runs one command.
pub async fn run(cli: Cli) -> Result<()> {
    let format = cli.output;
    match cli.command {
        Command::Completion { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "authctl", &mut std::io::stdout());
            Ok(())
        }
        Command::Keygen { key_out, jwks_out } => commands::keygen(&key_out, &jwks_out),
        Command::Login => {
            let (api, granted) = login(&cli.connection).await?;
            commands::login(&api, &granted, format).await
        }
        Command::Token => {
            let credentials = credentials(&cli.connection)?;
            let (_, granted) = api::grant(&credentials).await?;
            output::line(granted.access_token.expose());
            Ok(())
        }
        Command::Clients(command) => {
            let (api, _) = login(&cli.connection).await?;
            commands::clients::run(&api, command, format).await
        }
        Command::Scopes(command) => {
            let (api, _) = login(&cli.connection).await?;
            commands::registry::scopes(&api, command, format).await
        }
        Command::Issuers(command) => {
            let (api, _) = login(&cli.connection).await?;
            commands::registry::issuers(&api, command, format).await
        }
        Command::Revoke(command) => {
            let (api, _) = login(&cli.connection).await?;
            commands::trail::revoke(&api, command).await
        }
        Command::Audit(cli::Audit::List(list)) => {
            let (api, _) = login(&cli.connection).await?;
            commands::trail::audit(&api, list, format).await
        }
        Command::Apply(args) => {
            // The file is read and checked before logging in: a bad file needs no service.
            let text = std::fs::read_to_string(&args.file).map_err(|error| {
                Error::usage(format!("cannot read {}: {error}", args.file.display()))
            })?;
            let declared = apply::file::parse(&args.file, &text)?;
            let (api, granted) = login(&cli.connection).await?;
            apply::run(&api, &granted, &args, &text, declared, format).await
        }
    }
}

/// Logs in with the configured credentials.
async fn login(connection: &Connection) -> Result<(Api, Granted)> {
    let credentials = credentials(connection)?;
    Api::login(&credentials).await
}

/// The credentials from flags and the environment; a missing one is named.
fn credentials(connection: &Connection) -> Result<Credentials> {
    let missing = |flag: &str, variable: &str| {
        Error::usage(format!(
            "no {flag}: set {variable} or pass {flag} (see `authctl --help`)"
        ))
    };
    let token_url = connection
        .token_url
        .as_deref()
        .ok_or_else(|| missing("--token-url", "AUTHCTL_TOKEN_URL"))?;
    let admin_url = connection
        .admin_url
        .as_deref()
        .ok_or_else(|| missing("--admin-url", "AUTHCTL_ADMIN_URL"))?;
    let client_id = connection
        .client_id
        .clone()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| missing("--client-id", "AUTHCTL_CLIENT_ID"))?;
    let client_secret = match &connection.client_secret_file {
        Some(path) => secret_from_file(path)?,
        None => std::env::var(SECRET_VARIABLE)
            .ok()
            .filter(|s| !s.is_empty())
            .map(Secret::new)
            .ok_or_else(|| {
                Error::usage(format!(
                    "no client secret: set {SECRET_VARIABLE} or pass --client-secret-file PATH"
                ))
            })?,
    };
    Ok(Credentials {
        token_url: token_endpoint(parse_url("the token URL", token_url)?),
        admin_url: parse_url("the admin URL", admin_url)?,
        client_id,
        client_secret,
        timeout: Duration::from_secs(connection.timeout.max(1)),
    })
}

/// A secret file's content, without its final line break.
fn secret_from_file(path: &Path) -> Result<Secret> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| Error::usage(format!("cannot read {}: {error}", path.display())))?;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        return Err(Error::usage(format!("{} is empty", path.display())));
    }
    Ok(Secret::new(secret.to_owned()))
}
