//! Brute-force protection: failed client authentications counted per client id and per
//! source address in a fixed window; past the limit, further attempts that need a secret
//! check are refused until the window ends.
//!
//! Counters live in Redis when it is configured (so every replica sees every failure) and
//! in process memory otherwise, or while Redis is unreachable. A secret that verified
//! before (found in the verified-credentials cache) is never limited, so an attacker
//! hammering a client id cannot lock out a client that is already in use; a cold client
//! waits at most until the window ends. See SECURITY.md.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use auth_core::config::{ConfigError, Env, integer_in};

/// Limits, from the environment:
///
/// | variable | meaning | default |
/// | --- | --- | --- |
/// | `AUTH_FAILURES_PER_CLIENT` | failed authentications per client id per window | 10 |
/// | `AUTH_FAILURES_PER_ADDRESS` | failed authentications per source address per window | 30 |
/// | `AUTH_FAILURE_WINDOW_SECS` | the window | 60 |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_client: u32,
    pub per_address: u32,
    pub window: Duration,
}

impl Limits {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            per_client: env.parse_or("AUTH_FAILURES_PER_CLIENT", 10, integer_in(1..=100_000))?,
            per_address: env.parse_or(
                "AUTH_FAILURES_PER_ADDRESS",
                30,
                integer_in(1..=1_000_000),
            )?,
            window: Duration::from_secs(env.parse_or(
                "AUTH_FAILURE_WINDOW_SECS",
                60,
                integer_in(1..=86_400),
            )?),
        })
    }
}

/// Refused: retry after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked {
    pub retry_after: Duration,
}

#[derive(Default)]
struct LocalCounters {
    /// key → (failures, window end)
    counts: HashMap<String, (u32, Instant)>,
}

/// Counts failures and says whether a key is over its limit.
pub struct FailureLimiter {
    limits: Limits,
    redis: Option<(redis::Client, String)>,
    conn: Mutex<Option<redis::aio::ConnectionManager>>,
    local: Mutex<LocalCounters>,
}

impl std::fmt::Debug for FailureLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailureLimiter")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

const REDIS_TIMEOUT: Duration = Duration::from_millis(300);
const LOCAL_CAPACITY: usize = 100_000;

impl FailureLimiter {
    /// `redis`: URL and key prefix of the shared counters, if any.
    pub fn new(
        limits: Limits,
        redis: Option<(&str, &str)>,
    ) -> Result<Arc<Self>, auth_core::revocation::SharedError> {
        let redis = match redis {
            Some((url, prefix)) => Some((redis::Client::open(url)?, prefix.to_owned())),
            None => None,
        };
        Ok(Arc::new(Self {
            limits,
            redis,
            conn: Mutex::new(None),
            local: Mutex::default(),
        }))
    }

    fn keys(&self, client_id: &str, address: Option<IpAddr>) -> Vec<(String, u32)> {
        let mut keys = vec![(format!("client:{client_id}"), self.limits.per_client)];
        if let Some(address) = address {
            keys.push((format!("addr:{address}"), self.limits.per_address));
        }
        keys
    }

    /// `Err(Blocked)` when the client id or the address is over its limit at `now` (the
    /// shared counters' windows are Redis' own).
    pub async fn check(
        &self,
        client_id: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), Blocked> {
        let keys = self.keys(client_id, address);
        let counts = match self.shared_counts(&keys).await {
            Some(counts) => counts,
            None => self.local_counts(&keys, now),
        };
        let blocked = keys
            .iter()
            .zip(counts)
            .filter(|((_, limit), (count, _))| count >= limit)
            .map(|(_, (_, left))| left)
            .max();
        match blocked {
            Some(left) => Err(Blocked {
                retry_after: left.max(Duration::from_secs(1)),
            }),
            None => Ok(()),
        }
    }

    /// Counts a failed authentication at `now` against the client id and the address.
    pub async fn record_failure(&self, client_id: &str, address: Option<IpAddr>, now: Instant) {
        let keys = self.keys(client_id, address);
        if !self.shared_record(&keys).await {
            self.local_record(&keys, now);
        }
    }

    async fn connection(&self) -> Option<(redis::aio::ConnectionManager, &str)> {
        let (client, prefix) = self.redis.as_ref()?;
        if let Some(conn) = self
            .conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            return Some((conn, prefix));
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let conn = tokio::time::timeout(
            REDIS_TIMEOUT,
            client.get_connection_manager_with_config(config),
        )
        .await
        .ok()?
        .ok()?;
        *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = Some(conn.clone());
        Some((conn, prefix))
    }

    /// (failures, time left in the window) per key, from Redis; `None` if unreachable.
    async fn shared_counts(&self, keys: &[(String, u32)]) -> Option<Vec<(u32, Duration)>> {
        let (mut conn, prefix) = self.connection().await?;
        let mut pipe = redis::pipe();
        for (key, _) in keys {
            let key = format!("{prefix}:rl:{key}");
            pipe.get(&key).pttl(&key);
        }
        let answer: Vec<(Option<u32>, i64)> =
            tokio::time::timeout(REDIS_TIMEOUT, pipe.query_async(&mut conn))
                .await
                .ok()?
                .ok()?;
        Some(
            answer
                .into_iter()
                .map(|(count, ttl)| {
                    (
                        count.unwrap_or(0),
                        Duration::from_millis(u64::try_from(ttl).unwrap_or(0)),
                    )
                })
                .collect(),
        )
    }

    async fn shared_record(&self, keys: &[(String, u32)]) -> bool {
        let Some((mut conn, prefix)) = self.connection().await else {
            return false;
        };
        let window_ms = i64::try_from(self.limits.window.as_millis()).unwrap_or(60_000);
        let mut pipe = redis::pipe();
        for (key, _) in keys {
            let key = format!("{prefix}:rl:{key}");
            // The window starts with the first failure: INCR, then set the expiry only if none.
            pipe.incr(&key, 1).ignore();
            pipe.cmd("PEXPIRE")
                .arg(&key)
                .arg(window_ms)
                .arg("NX")
                .ignore();
        }
        matches!(
            tokio::time::timeout(REDIS_TIMEOUT, pipe.query_async::<()>(&mut conn)).await,
            Ok(Ok(()))
        )
    }

    fn local_counts(&self, keys: &[(String, u32)], now: Instant) -> Vec<(u32, Duration)> {
        let local = self.local.lock().unwrap_or_else(PoisonError::into_inner);
        keys.iter()
            .map(|(key, _)| match local.counts.get(key) {
                Some((count, end)) if *end > now => (*count, *end - now),
                _ => (0, Duration::ZERO),
            })
            .collect()
    }

    fn local_record(&self, keys: &[(String, u32)], now: Instant) {
        let mut local = self.local.lock().unwrap_or_else(PoisonError::into_inner);
        if local.counts.len() >= LOCAL_CAPACITY {
            local.counts.retain(|_, (_, end)| *end > now);
        }
        for (key, _) in keys {
            let entry = local
                .counts
                .entry(key.clone())
                .or_insert((0, now + self.limits.window));
            if entry.1 <= now {
                *entry = (0, now + self.limits.window);
            }
            entry.0 = entry.0.saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_client: u32, per_address: u32) -> Limits {
        Limits {
            per_client,
            per_address,
            window: Duration::from_secs(60),
        }
    }

    #[tokio::test]
    async fn local_limits_block_past_the_count_and_name_the_wait() {
        let limiter = FailureLimiter::new(limits(3, 100), None).unwrap();
        let address: IpAddr = "192.0.2.1".parse().unwrap();
        let start = Instant::now();
        for second in 0..3 {
            let now = start + Duration::from_secs(second);
            assert!(limiter.check("victim", Some(address), now).await.is_ok());
            limiter.record_failure("victim", Some(address), now).await;
        }
        let now = start + Duration::from_secs(10);
        let blocked = limiter
            .check("victim", Some(address), now)
            .await
            .unwrap_err();
        // The window started with the first failure: 50 s of it are left.
        assert_eq!(blocked.retry_after, Duration::from_secs(50));
        assert!(
            limiter
                .check("someone-else", Some(address), now)
                .await
                .is_ok(),
            "per client id"
        );
    }

    #[tokio::test]
    async fn the_window_ends_and_a_new_one_starts_with_the_next_failure() {
        let limiter = FailureLimiter::new(limits(2, 100), None).unwrap();
        let start = Instant::now();
        let at = |seconds: u64| start + Duration::from_secs(seconds);
        limiter.record_failure("victim", None, at(0)).await;
        limiter.record_failure("victim", None, at(1)).await;
        assert!(limiter.check("victim", None, at(59)).await.is_err());
        let last = limiter.check("victim", None, at(59)).await.unwrap_err();
        assert_eq!(last.retry_after, Duration::from_secs(1), "at least 1 s");
        assert!(
            limiter.check("victim", None, at(60)).await.is_ok(),
            "the window has ended"
        );
        // A failure after the window opens a new one, counted from zero.
        limiter.record_failure("victim", None, at(61)).await;
        assert!(limiter.check("victim", None, at(62)).await.is_ok());
        limiter.record_failure("victim", None, at(62)).await;
        let blocked = limiter.check("victim", None, at(63)).await.unwrap_err();
        assert_eq!(blocked.retry_after, Duration::from_secs(58));
    }

    #[tokio::test]
    async fn addresses_are_limited_across_client_ids() {
        let limiter = FailureLimiter::new(limits(100, 2), None).unwrap();
        let address: IpAddr = "2001:db8::1".parse().unwrap();
        let now = Instant::now();
        limiter.record_failure("a", Some(address), now).await;
        limiter.record_failure("b", Some(address), now).await;
        assert!(limiter.check("c", Some(address), now).await.is_err());
        assert!(
            limiter
                .check("c", Some("2001:db8::2".parse().unwrap()), now)
                .await
                .is_ok()
        );
    }
}
