//! token-service: the public, unauthenticated service that issues access tokens.
//!
//! `main` loads [`Config`], builds [`AppState`], binds a listener and calls [`run`];
//! tests do the same with their own configuration and a port of their own.

pub mod client_auth;
pub mod config;
pub mod error;
pub mod request;
pub mod routes;
pub mod state;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::web;

pub use config::Config;
pub use state::AppState;

/// Serves the token endpoints on `listener` until the returned server is stopped.
pub fn run(state: AppState, listener: TcpListener) -> std::io::Result<Server> {
    let metrics = std::sync::Arc::clone(&state.metrics);
    let workers = state.http_workers;
    auth_core::http::serve(
        web::Data::new(state),
        metrics,
        listener,
        routes::config,
        workers,
    )
}
