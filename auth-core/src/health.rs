//! Readiness of a service with a database (feature `server`): each dependency and its state.
//!
//! Ready means the database answers and the keys tokens are verified with are loaded
//! (admin-service fetches them from token-service, which may start later). Redis is
//! reported but does not make a service unready: without it, revocation checks fall back
//! to the database. Every state is an enum that renders as the lowercase word of its name.

use std::time::Duration;

use serde::Serialize;

use crate::revocation::{Revocations, SharedCacheState};
use crate::store::{self, Store};

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /health/live`: the process answers.
#[derive(Debug, Serialize)]
pub struct Liveness {
    pub status: Live,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Live {
    Ok,
}

impl Liveness {
    pub const OK: Self = Self { status: Live::Ok };
}

/// `GET /health/ready`: the verdict, and each dependency's state.
#[derive(Debug, Serialize)]
pub struct Readiness {
    pub status: Ready,
    pub checks: Checks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ready {
    Ready,
    Unavailable,
}

#[derive(Debug, Serialize)]
pub struct Checks {
    pub database: Database,
    /// Disabled without `REDIS_URL`.
    pub redis: SharedCacheState,
    pub keys: Keys,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Database {
    Up,
    Down,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Keys {
    Loaded,
    /// The token service's JWKS has not been fetched yet.
    Waiting,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.status == Ready::Ready
    }
}

/// Checks the database and the shared cache, each within two seconds, and reports whether
/// the verification keys are loaded.
pub async fn readiness(store: &Store, revocations: &Revocations, keys_loaded: bool) -> Readiness {
    let (database, redis) = tokio::join!(
        tokio::time::timeout(CHECK_TIMEOUT, store.run(store::ping)),
        tokio::time::timeout(CHECK_TIMEOUT, revocations.shared_state()),
    );
    let database = if matches!(database, Ok(Ok(()))) {
        Database::Up
    } else {
        Database::Down
    };
    Readiness {
        status: if database == Database::Up && keys_loaded {
            Ready::Ready
        } else {
            Ready::Unavailable
        },
        checks: Checks {
            database,
            redis: redis.unwrap_or(SharedCacheState::Down),
            keys: if keys_loaded {
                Keys::Loaded
            } else {
                Keys::Waiting
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_render_as_before() {
        let readiness = Readiness {
            status: Ready::Unavailable,
            checks: Checks {
                database: Database::Down,
                redis: SharedCacheState::Disabled,
                keys: Keys::Waiting,
            },
        };
        assert_eq!(
            serde_json::to_value(&readiness).unwrap(),
            serde_json::json!({
                "status": "unavailable",
                "checks": {"database": "down", "redis": "disabled", "keys": "waiting"},
            })
        );
        let ready = Readiness {
            status: Ready::Ready,
            checks: Checks {
                database: Database::Up,
                redis: SharedCacheState::Up,
                keys: Keys::Loaded,
            },
        };
        assert_eq!(
            serde_json::to_value(&ready).unwrap(),
            serde_json::json!({
                "status": "ready",
                "checks": {"database": "up", "redis": "up", "keys": "loaded"},
            })
        );
        assert_eq!(
            serde_json::to_value(Liveness::OK).unwrap(),
            serde_json::json!({"status": "ok"})
        );
        assert_eq!(
            serde_json::to_value(SharedCacheState::Down).unwrap(),
            serde_json::json!("down")
        );
    }
}
