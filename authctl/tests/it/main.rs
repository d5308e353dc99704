//! End-to-end tests: token-service and admin-service run as real processes on a fresh
//! PostgreSQL database each, and the built `authctl` runs against them as a subprocess,
//! exactly as an operator runs it. `scripts/test` builds the service binaries first.

#![allow(clippy::unwrap_used)]

mod apply;
mod apply_more;
mod bad_files;
mod commands;
mod support;
