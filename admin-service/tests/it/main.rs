//! admin-service integration tests: real HTTP against a spawned admin-service and a
//! token-service sharing one database, one signing key and one environment. Each test has
//! its own database (PostgreSQL; the flows marked `on_both_backends!` also on SQLite).

#![allow(clippy::unwrap_used)]

mod audit;
mod audit_filters;
mod authentication;
mod authorization;
mod bad_bodies;
mod bad_input;
mod client_limits;
mod client_search;
mod console;
mod custom_scopes;
mod endpoints;
mod escalation;
mod federation;
mod federation_changes;
mod federation_clients;
mod import_fidesops;
mod invalidation;
mod listing;
mod methods;
mod openapi;
mod operator_flow;
mod races;
mod root_cutoff;
mod rotation;
mod support;
