//! `admin-service import-fidesops`: brings every OAuth client of a fidesops (or fides)
//! database over with its id, scopes and secret hash, so existing client ids and secrets
//! keep working unchanged (token-service verifies fidesops' hash forms and upgrades each to
//! SHA-256 on its first success).
//!
//! Like `migrate`, it needs only `DATABASE_URL` (and reads `OAUTH_ROOT_CLIENT_ID`, if set,
//! to never import a client of that id): no root secret, no signing key. The report goes
//! to stdout, one line per client, then a summary; diagnostics go to stderr. The source
//! URL's password is never printed.

mod convert;
mod source;
mod target;

use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;

use auth_core::config::Env;
use auth_core::scopes::Scope;
use auth_core::store::DatabaseUrl;
use auth_core::time::Timestamp;

use self::convert::{HashKind, RootId};
use self::target::Outcome;

pub const USAGE: &str = "\
usage: admin-service import-fidesops --from postgres://USER@HOST:PORT/DB [--dry-run] [--root-id ID]

Copies every OAuth client in the `client` table of a fidesops (or fides) PostgreSQL
database into this service's DATABASE_URL [sqlite://./data/auth.sqlite], with its id,
scopes and secret hash, so fidesops client ids and secrets keep working unchanged.
Run `admin-service migrate` first.

  --from URL     the fidesops database, read only (its password is never printed)
  --dry-run      read and check everything, print the same report, write nothing
  --root-id ID   fidesops' root client id, never imported [fidesopsadmin];
                 OAUTH_ROOT_CLIENT_ID, when set, is never imported either

Clients already here (live or deleted) are left alone: a second run changes nothing.
Scopes missing from the registry are added as custom scopes. Exit status: 0 when it ran,
even with skipped rows; 1 when a database cannot be read or written; 2 on usage errors.";

/// fidesops' default `oauth_root_client_id`.
pub const DEFAULT_ROOT_ID: &str = "fidesopsadmin";

/// What to import, from where, into where.
#[derive(Debug, Clone)]
pub struct Options {
    /// fidesops' database (always `DatabaseUrl::Postgres`).
    pub from: DatabaseUrl,
    /// This service's database.
    pub target: DatabaseUrl,
    pub dry_run: bool,
    root_ids: Vec<RootId>,
}

/// What the arguments asked for.
#[derive(Debug, Clone)]
pub enum Request {
    Run(Options),
    Help,
}

/// Why the command could not complete.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("--from ({url}): {message}")]
    Source { url: DatabaseUrl, message: String },
    #[error("DATABASE_URL ({url}): {message}")]
    Target { url: DatabaseUrl, message: String },
    #[error("cannot write the report: {0}")]
    Report(#[from] std::io::Error),
}

/// How many clients went which way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub imported: usize,
    pub skipped: usize,
    pub already_present: usize,
}

/// The subcommand: parses `args` (after `import-fidesops`), runs, and reports.
pub fn command(args: &[&str]) -> ExitCode {
    let options = match parse(args, &Env::process()) {
        Ok(Request::Run(options)) => options,
        Ok(Request::Help) => {
            return match writeln!(std::io::stdout(), "{USAGE}") {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::FAILURE,
            };
        }
        Err(message) => {
            eprintln!("admin-service import-fidesops: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "admin-service import-fidesops: from {} into {}{}",
        options.from,
        options.target,
        if options.dry_run { " (dry run)" } else { "" }
    );
    match run(&options, &mut std::io::stdout().lock()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("admin-service import-fidesops: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Reads the arguments and the two variables the command uses. Errors never repeat a URL.
pub fn parse(args: &[&str], env: &Env<'_>) -> Result<Request, String> {
    let (mut from, mut root_id, mut dry_run) = (None, None, false);
    let mut args = args.iter().copied();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
            _ => (arg, None),
        };
        match (flag, inline) {
            ("--help" | "-h", None) => return Ok(Request::Help),
            ("--dry-run", None) => dry_run = true,
            ("--from" | "--root-id", _) => {
                let value = inline
                    .or_else(|| args.next())
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| format!("{flag} needs a value"))?;
                let slot = if flag == "--from" {
                    &mut from
                } else {
                    &mut root_id
                };
                if slot.replace(value).is_some() {
                    return Err(format!("{flag} is given twice"));
                }
            }
            _ if arg.contains("://") => {
                return Err("unexpected argument (a URL? give it with --from)".to_owned());
            }
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    let from = from.ok_or("--from is required")?;
    let from = match DatabaseUrl::parse(from) {
        Ok(url @ DatabaseUrl::Postgres(_)) => url,
        _ => return Err("--from: expected a postgres:// or postgresql:// URL".to_owned()),
    };
    let target = match env.get("DATABASE_URL") {
        Some(url) => DatabaseUrl::parse(&url).map_err(|e| format!("DATABASE_URL: {e}"))?,
        None => DatabaseUrl::parse(auth_core::settings::DEFAULT_DATABASE_URL)
            .map_err(|e| format!("the default DATABASE_URL: {e}"))?,
    };
    let mut root_ids = vec![RootId {
        id: root_id.unwrap_or(DEFAULT_ROOT_ID).to_owned(),
        reason: "fidesops' root client (--root-id): the root client here is OAUTH_ROOT_CLIENT_ID",
    }];
    if let Some(id) = env.get("OAUTH_ROOT_CLIENT_ID") {
        root_ids.push(RootId {
            id: id.trim().to_owned(),
            reason: "this service's root client id (OAUTH_ROOT_CLIENT_ID)",
        });
    }
    Ok(Request::Run(Options {
        from,
        target,
        dry_run,
        root_ids,
    }))
}

/// Imports (or, in a dry run, checks) every client, writing the report to `out`.
pub fn run(options: &Options, out: &mut dyn Write) -> Result<Summary, ImportError> {
    let target_error = |message: String| ImportError::Target {
        url: options.target.clone(),
        message,
    };
    let mut conn = target::open(&options.target).map_err(target_error)?;
    let rows = source::read_clients(&options.from).map_err(|message| ImportError::Source {
        url: options.from.clone(),
        message,
    })?;
    let (verb, add_verb) = if options.dry_run {
        ("would import", "would add")
    } else {
        ("imported", "added")
    };
    let mut summary = Summary::default();
    let mut announced: BTreeSet<Scope> = BTreeSet::new();
    for row in &rows {
        let candidate = match convert::classify(row, &options.root_ids) {
            Ok(candidate) => candidate,
            Err(skip) => {
                writeln!(out, "skipped {}: {}", skip.id, skip.reason)?;
                summary.skipped += 1;
                continue;
            }
        };
        let outcome = if options.dry_run {
            target::plan(&mut conn, &candidate)
        } else {
            target::import(&mut conn, &candidate, Timestamp::now())
        }
        .map_err(|e| target_error(target::describe(&e)))?;
        let id = &candidate.id;
        match outcome {
            Outcome::AlreadyPresent => {
                writeln!(out, "already present {id}: left unchanged")?;
                summary.already_present += 1;
            }
            Outcome::Imported { added_scopes } => {
                for scope in added_scopes {
                    if announced.insert(scope.clone()) {
                        writeln!(out, "{add_verb} scope {scope} (custom, for {id})")?;
                    }
                }
                writeln!(
                    out,
                    "{verb} {id} ({}, {})",
                    count(candidate.scopes.len(), "scope"),
                    HashKind::as_str(candidate.kind)
                )?;
                summary.imported += 1;
            }
        }
    }
    let Summary {
        imported,
        skipped,
        already_present,
    } = summary;
    let note = if options.dry_run {
        " (dry run: nothing written)"
    } else {
        ""
    };
    writeln!(
        out,
        "import-fidesops: {imported} {verb}, {skipped} skipped, {already_present} already present{note}"
    )?;
    Ok(summary)
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
