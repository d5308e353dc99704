//! admin-service binary: `admin-service` serves; `admin-service migrate` applies migrations;
//! `admin-service import-fidesops` copies fidesops' clients in (see `import_fidesops`).

use std::process::ExitCode;

use admin_service::AppState;
use auth_core::config::Env;
use auth_core::store::connection::ConnectionManager;
use auth_core::store::{DatabaseUrl, migrate};

/// jemalloc instead of glibc's allocator, as in token-service: measured on the client
/// listing (2026-11-30, 1,000,000 clients, cursor pages), glibc's malloc took a fifth of
/// this service's CPU.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[actix_web::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => auth_core::service::main::<AppState>().await,
        ["migrate"] => migrate_command(),
        ["import-fidesops", rest @ ..] => admin_service::import_fidesops::command(rest),
        _ => {
            eprintln!("usage: admin-service [migrate | import-fidesops --from postgres://…]");
            ExitCode::from(2)
        }
    }
}

/// Applies pending migrations to `DATABASE_URL` and exits. Needs no other variable.
fn migrate_command() -> ExitCode {
    let env = Env::process();
    let url = env
        .get("DATABASE_URL")
        .unwrap_or_else(|| auth_core::settings::DEFAULT_DATABASE_URL.to_owned());
    let url = match DatabaseUrl::parse(&url) {
        Ok(url) => url,
        Err(error) => {
            eprintln!("admin-service migrate: DATABASE_URL: {error}");
            return ExitCode::from(2);
        }
    };
    let result = ConnectionManager::new(url.clone())
        .establish()
        .map_err(|e| e.to_string())
        .and_then(|mut conn| migrate::run_migrations(&mut conn).map_err(|e| e.to_string()));
    match result {
        Ok(applied) => {
            eprintln!(
                "admin-service migrate: {url}: {} migrations applied",
                applied.len()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("admin-service migrate: DATABASE_URL ({url}): {error}");
            ExitCode::FAILURE
        }
    }
}
