//! auth-core: the domain of the authorization service, free of any web framework.
//!
//! Scopes, client ids and secrets, token signing and verification, the database store,
//! and typed configuration. The binaries (`token-service`, `admin-service`) map these to HTTP.

pub mod ids;
pub mod scopes;
pub mod secret;
pub mod time;
pub mod token;
