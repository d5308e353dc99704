//! auth-core: the domain of the authorization service, free of any web framework.
//!
//! Scopes, client ids and secrets, token signing and verification, the database store,
//! and typed configuration. The binaries (`token-service`, `admin-service`) map these to HTTP.

pub mod blocking;
pub mod config;
pub mod credentials;
pub mod ids;
pub mod keyring;
pub mod revocation;
pub mod scopes;
pub mod secret;
pub mod store;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;
pub mod token;
