//! Single use of `private_key_jwt` assertions across every replica (RFC 7523 §3, item 7).
//!
//! The first use of a (client, `jti`) is recorded until the assertion expires: in Redis
//! (`SET … NX EXAT`: one command, O(1)) when it is configured, else in the database (an
//! insert into a keyed table). When Redis is configured but does not answer, the use cannot
//! be checked against the other replicas' records (they are in Redis): the assertion is
//! refused with 503 rather than risk accepting a replay; secrets and platform tokens keep
//! working meanwhile.

use std::time::Duration;

use auth_core::ids::ClientId;
use auth_core::shared_redis::{LazyConnection, RedisSettings};
use auth_core::store::{Store, StoreError, federation};
use auth_core::time::Timestamp;
use sha2::{Digest as _, Sha256};

const REDIS_TIMEOUT: Duration = Duration::from_millis(300);

/// Where assertion uses are recorded.
pub struct UsedAssertions {
    redis: Option<(LazyConnection, String)>,
    store: Store,
}

impl UsedAssertions {
    pub fn new(redis: Option<&RedisSettings>, store: Store) -> Self {
        let redis = redis.map(|settings| {
            (
                LazyConnection::new(settings.clone(), REDIS_TIMEOUT),
                format!("{}:jti", settings.key_prefix()),
            )
        });
        Self { redis, store }
    }

    /// Records the use of `jti` by `client_id`, kept until `expires_at` (seconds);
    /// `false` when it was used before; [`Unrecorded`] when Redis is configured and did not
    /// answer.
    pub async fn first_use(
        &self,
        client_id: &ClientId,
        jti: &str,
        expires_at: i64,
        now: Timestamp,
    ) -> Result<bool, Unrecorded> {
        // A fixed-size key whatever the jti: the client id and the jti's digest.
        let mut hasher = Sha256::new();
        hasher.update(client_id.as_str().as_bytes());
        hasher.update([0]);
        hasher.update(jti.as_bytes());
        let id = format!("{}:{}", client_id.as_str(), hex(&hasher.finalize()[..16]));
        // Kept a minute past `exp`: the skew an expired assertion is still accepted within.
        let keep_until = expires_at.saturating_add(super::jws::SKEW_SECS);
        if let Some((conn, prefix)) = &self.redis {
            return redis_first_use(conn, &format!("{prefix}:{id}"), keep_until)
                .await
                .ok_or(Unrecorded::Redis);
        }
        self.store
            .run(move |conn| {
                federation::use_assertion(conn, &id, Timestamp::from_secs(keep_until), now)
            })
            .await
            .map_err(Unrecorded::Store)
    }
}

/// Why a use could not be recorded (the assertion is then refused with 503).
#[derive(Debug, thiserror::Error)]
pub enum Unrecorded {
    #[error("Redis did not answer")]
    Redis,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `Some(true)` for a first use, `Some(false)` for a replay, `None` when Redis did not
/// answer.
async fn redis_first_use(lazy: &LazyConnection, key: &str, keep_until: i64) -> Option<bool> {
    let mut conn = lazy.get().await?;
    let mut command = redis::cmd("SET");
    command
        .arg(key)
        .arg(1)
        .arg("NX")
        .arg("EXAT")
        .arg(keep_until);
    let set = command.query_async::<Option<String>>(&mut conn);
    match tokio::time::timeout(REDIS_TIMEOUT, set).await {
        Ok(Ok(answer)) => Some(answer.is_some()),
        Ok(Err(error)) => {
            tracing::warn!(%error, "recording an assertion in Redis failed; refusing it (503)");
            lazy.failed();
            None
        }
        Err(_) => {
            tracing::warn!("recording an assertion in Redis timed out; refusing it (503)");
            lazy.failed();
            None
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}
