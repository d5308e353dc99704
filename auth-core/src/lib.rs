//! auth-core: the domain of the authorization service, free of any web framework.
//!
//! Scopes, client ids and secrets, token signing and verification, revocation, and typed
//! configuration. Features:
//! - `server` (default): the database store, client authentication and the services'
//!   settings, used by `token-service` and `admin-service`;
//! - `actix`: an extractor that lets any actix-web service verify bearer tokens and require
//!   scopes (resource-server side);
//! - `client`: a token source for services that call others with client credentials;
//! - `testing`: isolated databases for integration tests.

pub mod blocking;
pub mod config;
pub mod ids;
pub mod metrics;
pub mod pubsub;
pub mod revocation;
pub mod scopes;
pub mod secret;
pub mod shared_redis;
pub mod time;
pub mod token;
pub mod uri;

#[cfg(feature = "server")]
pub mod changes;
#[cfg(feature = "client")]
pub mod client;
#[cfg(all(feature = "server", feature = "actix"))]
pub mod foundation;
#[cfg(feature = "server")]
pub mod health;
#[cfg(feature = "actix")]
pub mod http;
#[cfg(feature = "server")]
pub mod keyring;
#[cfg(feature = "server")]
pub mod limits;
#[cfg(feature = "openapi")]
pub mod openapi;
#[cfg(feature = "actix")]
pub mod request_telemetry;
#[cfg(feature = "actix")]
pub mod resource;
#[cfg(all(feature = "server", feature = "actix"))]
pub mod service;
#[cfg(feature = "server")]
pub mod settings;
#[cfg(feature = "server")]
pub mod store;
#[cfg(feature = "telemetry")]
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
