//! admin-service binary: `admin-service` serves; `admin-service migrate` applies migrations;
//! `admin-service import-fidesops` copies fidesops' clients in (see `import_fidesops`).

use std::net::TcpListener;
use std::process::ExitCode;

use admin_service::{AppState, Config, run};
use auth_core::config::Env;
use auth_core::store::connection::ConnectionManager;
use auth_core::store::{DatabaseUrl, migrate};

#[actix_web::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => serve_command().await,
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

async fn serve_command() -> ExitCode {
    let config = match Config::from_env(&Env::process()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("admin-service: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    let _telemetry = auth_core::telemetry::init(config.auth.log_format, "admin-service");
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("admin-service: {error}");
            eprintln!("admin-service: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let state = AppState::build(&config).await?;
    migrate::ensure_current(&state.store).await?;
    let listener = TcpListener::bind(config.listen).map_err(|e| {
        format!(
            "ADMIN_SERVICE_ADDR: cannot listen on {}: {e}",
            config.listen
        )
    })?;
    tracing::info!(addr = %config.listen, database = %config.auth.database_url, "admin-service listening");
    run(state, listener)?.await?;
    tracing::info!("admin-service stopped");
    Ok(())
}
