//! token-service binary: load config, start logging, bind, serve.

use std::net::TcpListener;
use std::process::ExitCode;

use auth_core::config::Env;
use auth_core::store::migrate;
use token_service::{AppState, Config, run};

#[actix_web::main]
async fn main() -> ExitCode {
    let config = match Config::from_env(&Env::process()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("token-service: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    let _telemetry = auth_core::telemetry::init(config.auth.log_format, "token-service");
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("token-service: {error}");
            eprintln!("token-service: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let state = AppState::build(&config).await?;
    migrate::ensure_current(&state.store).await?;
    let listener = TcpListener::bind(config.listen).map_err(|e| {
        format!(
            "TOKEN_SERVICE_ADDR: cannot listen on {}: {e}",
            config.listen
        )
    })?;
    tracing::info!(addr = %config.listen, database = %config.auth.database_url, "token-service listening");
    run(state, listener)?.await?;
    tracing::info!("token-service stopped");
    Ok(())
}
