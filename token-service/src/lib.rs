//! token-service: the public, unauthenticated service that issues access tokens.
//!
//! `main` loads [`Config`], builds [`AppState`], binds a listener and calls [`run`];
//! tests do the same with their own configuration and a port of their own.

pub mod config;
pub mod error;
pub mod request;
pub mod routes;
pub mod state;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::Logger;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use auth_core::request_telemetry;

pub use config::Config;
pub use state::AppState;

/// Serves the token endpoints on `listener` until the returned server is stopped.
pub fn run(state: AppState, listener: TcpListener) -> std::io::Result<Server> {
    let metrics = web::Data::from(std::sync::Arc::clone(&state.metrics));
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(metrics.clone())
            .wrap(access_log())
            .wrap(from_fn(request_telemetry::middleware))
            .configure(routes::config)
            .default_service(web::to(auth_core::http::not_found))
    })
    // A client has 5 s to send its request head and 1 s to close after the response.
    .client_request_timeout(std::time::Duration::from_secs(5))
    .client_disconnect_timeout(std::time::Duration::from_secs(1))
    .listen(listener)?
    .run();
    Ok(server)
}

/// One line per request: path without query string (a query could carry a secret).
fn access_log() -> Logger {
    Logger::new("%a %{method}xi %U %s %b %Dms")
        .custom_request_replace("method", |req| req.method().to_string())
        .exclude("/health/live")
}
