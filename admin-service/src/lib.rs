//! admin-service: the separately deployed service that manages clients, scopes and the
//! audit trail. Every endpoint but health and the console's files (`console`) needs a
//! bearer token with the endpoint's scope.
//!
//! `main` loads [`Config`], builds [`AppState`], binds a listener and calls [`run`];
//! tests do the same with their own configuration.

pub mod audit;
pub mod auth;
pub mod body;
pub mod config;
pub mod console;
pub mod error;
pub mod federation;
pub mod import_fidesops;
pub mod listing;
pub mod routes;
pub mod schema;
pub mod state;
pub mod views;

use std::net::TcpListener;

use actix_web::dev::Server;

pub use config::Config;
pub use state::AppState;

/// Serves the admin endpoints on `listener` until the returned server is stopped.
pub fn run(state: AppState, listener: TcpListener) -> std::io::Result<Server> {
    auth_core::service::serve(state, listener)
}
