//! Readiness of a service with a database (feature `server`): each dependency and its state.
//!
//! Ready means the database answers. Redis is reported but does not make a service unready:
//! without it, revocation checks fall back to the database.

use std::time::Duration;

use serde::Serialize;

use crate::revocation::Revocations;
use crate::store::{self, Store};

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize)]
pub struct Readiness {
    /// `ready` or `unavailable`.
    pub status: &'static str,
    pub checks: Checks,
}

#[derive(Debug, Serialize)]
pub struct Checks {
    /// `up` or `down`.
    pub database: &'static str,
    /// `up`, `down` or `disabled` (no `REDIS_URL`).
    pub redis: &'static str,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.status == "ready"
    }
}

/// Checks the database and the shared cache, each within two seconds.
pub async fn readiness(store: &Store, revocations: &Revocations) -> Readiness {
    let (database, redis) = tokio::join!(
        tokio::time::timeout(CHECK_TIMEOUT, store.run(store::ping)),
        tokio::time::timeout(CHECK_TIMEOUT, revocations.shared_state()),
    );
    let database_up = matches!(database, Ok(Ok(())));
    Readiness {
        status: if database_up { "ready" } else { "unavailable" },
        checks: Checks {
            database: if database_up { "up" } else { "down" },
            redis: redis.unwrap_or("down"),
        },
    }
}
