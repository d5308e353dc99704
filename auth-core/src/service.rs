//! What both services mount and run the same way (features `server` and `actix`): the
//! HTTP server set-up, the health and metrics routes every service answers, and (feature
//! `telemetry`) the whole of a service binary's `main`.

use std::net::SocketAddr;

use actix_web::http::Method;
use actix_web::{HttpResponse, web};

use crate::config::{ConfigError, Env};
use crate::foundation::{Foundation, StartError};
use crate::health::{Liveness, readiness};
use crate::http::{not_found, one};
use crate::settings::AuthSettings;

/// A service's state (token-service, admin-service): what [`serve`] and `main` (feature
/// `telemetry`) need to know of the service.
pub trait Service: Sized + Send + Sync + 'static {
    type Config;
    /// The binary's name, in messages and logs.
    const NAME: &'static str;
    /// The variable the listen address is read from, named when it cannot be bound.
    const LISTEN_VARIABLE: &'static str;

    /// Reads the configuration from `env`.
    fn config(env: &Env<'_>) -> Result<Self::Config, ConfigError>;
    /// The settings both services share, and the address to listen on.
    fn settings(config: &Self::Config) -> (&AuthSettings, SocketAddr);
    /// Builds the state from `config`, inside the runtime.
    fn build(config: &Self::Config) -> impl Future<Output = Result<Self, StartError>>;
    /// What the shared routes read.
    fn foundation(&self) -> &Foundation;
    /// The service's own routes; [`serve`] mounts health and metrics beside them.
    fn routes(cfg: &mut web::ServiceConfig);
}

/// `GET /health/live`, `GET /health/ready`, `GET /metrics`.
fn health_routes<S: Service>(cfg: &mut web::ServiceConfig) {
    cfg.service(one("/health/live", Method::GET, web::to(live)))
        .service(one("/health/ready", Method::GET, web::to(ready::<S>)))
        .service(one("/metrics", Method::GET, web::to(metrics::<S>)));
}

/// The process answers.
async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Liveness::OK)
}

/// Each dependency and its state; 200 when the database answers and the keys are loaded.
async fn ready<S: Service>(state: web::Data<S>) -> HttpResponse {
    let foundation = state.foundation();
    let keys_loaded = foundation.bearer.keys().is_loaded();
    let readiness = readiness(&foundation.store, &foundation.revocations, keys_loaded).await;
    if readiness.is_ready() {
        HttpResponse::Ok().json(readiness)
    } else {
        HttpResponse::ServiceUnavailable().json(readiness)
    }
}

/// Prometheus metrics (OpenMetrics text).
async fn metrics<S: Service>(state: web::Data<S>) -> HttpResponse {
    let foundation = state.foundation();
    let (open, idle) = foundation.store.pool_state();
    foundation.metrics.set_pool(open, idle);
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(foundation.metrics.render())
}

/// Serves the service's routes, plus the health and metrics routes, with `state` on
/// `listener`, as every service here does: request telemetry (span, request id, latency
/// metric, an access log without query strings, since a query could carry a secret, and
/// `Cache-Control: no-store` unless a route sets its own; see `request_telemetry`), JSON
/// 404s, and a client given 5 s to send its request head and 1 s to close after the
/// answer, on the state's `http_workers` worker threads.
pub fn serve<S: Service>(
    state: S,
    listener: std::net::TcpListener,
) -> std::io::Result<actix_web::dev::Server> {
    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpServer};
    let workers = state.foundation().http_workers;
    let metrics = web::Data::from(std::sync::Arc::clone(&state.foundation().metrics));
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(metrics.clone())
            .wrap(from_fn(crate::request_telemetry::middleware))
            .configure(S::routes)
            .configure(health_routes::<S>)
            .default_service(web::to(not_found))
    })
    .client_request_timeout(std::time::Duration::from_secs(5))
    .client_disconnect_timeout(std::time::Duration::from_secs(1))
    .workers(workers)
    .listen(listener)?
    .run();
    Ok(server)
}

/// A service binary's `main`: reads the configuration from the process environment (a
/// fault exits 2, naming the variable), starts logs and traces, builds the state, checks
/// that the database schema is current, binds the listen address and serves until
/// stopped (SIGTERM or Ctrl-C: in-flight requests finish).
#[cfg(feature = "telemetry")]
pub async fn main<S: Service>() -> std::process::ExitCode {
    use std::process::ExitCode;
    let config = match S::config(&Env::process()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{}: configuration error: {error}", S::NAME);
            return ExitCode::from(2);
        }
    };
    let _telemetry = crate::telemetry::init(S::settings(&config).0.log_format, S::NAME);
    match start::<S>(&config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{}: {error}", S::NAME);
            eprintln!("{}: {error}", S::NAME);
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "telemetry")]
async fn start<S: Service>(config: &S::Config) -> Result<(), Box<dyn std::error::Error>> {
    let state = S::build(config).await?;
    crate::store::migrate::ensure_current(&state.foundation().store).await?;
    let (settings, listen) = S::settings(config);
    let listener = std::net::TcpListener::bind(listen)
        .map_err(|e| format!("{}: cannot listen on {listen}: {e}", S::LISTEN_VARIABLE))?;
    tracing::info!(addr = %listen, database = %settings.database_url, "{} listening", S::NAME);
    serve(state, listener)?.await?;
    tracing::info!("{} stopped", S::NAME);
    Ok(())
}
