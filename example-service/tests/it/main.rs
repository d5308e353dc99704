//! System tests: token-service, admin-service and example-service as real processes on one
//! PostgreSQL database and one Redis, as they run in production; the compose gateway
//! (nginx) in front of them; README command one (`scripts/run`); graceful shutdown.

#![allow(clippy::unwrap_used)]

mod cluster;
mod faults;
mod gateway;
mod http;
mod least_privilege;
mod propagation;
mod run_command;
mod shutdown;
mod token_source;
mod workload_identity;
