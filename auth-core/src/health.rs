//! Readiness of a service with a database (feature `server`): each dependency and its state.
//!
//! Ready means the database answers and the keys tokens are verified with are loaded
//! (admin-service fetches them from token-service, which may start later). Redis is
//! reported but does not make a service unready: without it, revocation checks fall back
//! to the database.

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
    /// `loaded`, or `waiting` while the token service's JWKS has not been fetched yet.
    pub keys: &'static str,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.status == "ready"
    }
}

/// Checks the database and the shared cache, each within two seconds, and reports whether
/// the verification keys are loaded.
pub async fn readiness(store: &Store, revocations: &Revocations, keys_loaded: bool) -> Readiness {
    let (database, redis) = tokio::join!(
        tokio::time::timeout(CHECK_TIMEOUT, store.run(store::ping)),
        tokio::time::timeout(CHECK_TIMEOUT, revocations.shared_state()),
    );
    let database_up = matches!(database, Ok(Ok(())));
    Readiness {
        status: if database_up && keys_loaded {
            "ready"
        } else {
            "unavailable"
        },
        checks: Checks {
            database: if database_up { "up" } else { "down" },
            redis: redis.unwrap_or("down"),
            keys: if keys_loaded { "loaded" } else { "waiting" },
        },
    }
}
