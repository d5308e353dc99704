//! token-service integration tests: real HTTP against a spawned server, on PostgreSQL and
//! on SQLite, each test with its own database.

#![allow(clippy::unwrap_used)]

mod assertion_algorithms;
mod assertion_replay;
mod assertions;
mod brute_force;
mod client_limits;
mod cold_lookups;
mod credentials_cache;
mod discovery;
mod limits;
mod logs;
mod methods;
mod openapi;
mod pg_restart;
mod redis_tls;
mod revocation;
mod secrets;
mod startup;
mod support;
mod telemetry;
mod token;
mod token_requests;
mod workload;
mod workload_issuers;
