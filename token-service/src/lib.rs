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

pub use config::Config;
pub use state::AppState;

/// Serves the token endpoints on `listener` until the returned server is stopped.
pub fn run(state: AppState, listener: TcpListener) -> std::io::Result<Server> {
    auth_core::service::serve(state, listener)
}
