//! System tests: token-service, admin-service and example-service as real processes on one
//! PostgreSQL database and one Redis, as they run in production.

#![allow(clippy::unwrap_used)]

mod cluster;
mod faults;
mod propagation;
mod token_source;
