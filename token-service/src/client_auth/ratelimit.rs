//! Brute-force protection: failed client authentications counted per client id and per
//! source address in a fixed window; past the limit, further attempts that need a secret
//! check are refused until the window ends.
//!
//! Counters live in Redis when it is configured (so every replica sees every failure) and
//! in process memory otherwise, or while Redis is unreachable. A secret that verified
//! before (found in the verified-credentials cache) is never limited, so an attacker
//! hammering a client id cannot lock out a client that is already in use; a cold client
//! waits at most until the window ends. See SECURITY.md.
//!
//! Checking costs no round trip while this process follows the limiter's channel: the
//! replica whose failure takes a counter to its limit learns so from the increment itself,
//! blocks the key locally for the rest of the window and announces it on the channel, so
//! every replica blocks it too. A replica that missed an announcement (it was reconnecting)
//! learns of the block from its own next failure for that key. While not following the
//! channel, each check reads the shared counters, as every check did before.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use auth_core::config::{ConfigError, Env, integer_in};
use auth_core::pubsub::{self, Event};

/// Limits, from the environment:
///
/// | variable | meaning | default |
/// | --- | --- | --- |
/// | `AUTH_FAILURES_PER_CLIENT` | failed authentications per client id per window | 10 |
/// | `AUTH_FAILURES_PER_ADDRESS` | failed authentications per source address per window | 30 |
/// | `AUTH_FAILURE_WINDOW_SECS` | the window | 60 |
/// | `AUTH_FAILURE_DELAY_MS` | how long a refused attempt (401 or 429) waits for its answer | 200 |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_client: u32,
    pub per_address: u32,
    pub window: Duration,
    /// The tarpit: a refused attempt is answered this much later, so each connection of
    /// an attacker sends at most one guess per delay, at the cost of a timer, not of CPU.
    pub failure_delay: Duration,
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
            failure_delay: Duration::from_millis(env.parse_or(
                "AUTH_FAILURE_DELAY_MS",
                200,
                integer_in(0..=10_000),
            )?),
        })
    }
}

/// Refused: retry after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked {
    pub retry_after: Duration,
}

/// Keys over their limit, each with the end of its window.
#[derive(Default)]
struct Blocks {
    until: HashMap<String, Instant>,
}

impl Blocks {
    fn insert(&mut self, key: &str, until: Instant, now: Instant) {
        if self.until.len() >= LOCAL_CAPACITY {
            self.until.retain(|_, end| *end > now);
            if self.until.len() >= LOCAL_CAPACITY {
                // Forgotten blocks come back with each key's next failure.
                self.until.clear();
            }
        }
        let end = self.until.entry(key.to_owned()).or_insert(until);
        *end = (*end).max(until);
    }

    fn left(&self, key: &str, now: Instant) -> Option<Duration> {
        self.until
            .get(key)
            .filter(|end| **end > now)
            .map(|end| *end - now)
    }
}

/// Shared counters: the Redis client, the key prefix and the channel's name.
struct Shared {
    client: redis::Client,
    prefix: String,
    channel: String,
}

/// Counts failures and says whether a key is over its limit.
pub struct FailureLimiter {
    limits: Limits,
    shared: Option<Shared>,
    conn: Mutex<Option<redis::aio::ConnectionManager>>,
    /// Whether this process follows the channel (then `blocks` is complete).
    following: AtomicBool,
    blocks: Mutex<Blocks>,
    /// Counters of failures that could not be counted in Redis.
    local: Mutex<HashMap<String, (u32, Instant)>>,
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
    /// `redis`: URL and key prefix of the shared counters, if any; with them, the limiter
    /// starts following its channel (a task: needs a tokio runtime).
    pub fn new(
        limits: Limits,
        redis: Option<(&str, &str)>,
    ) -> Result<Arc<Self>, auth_core::revocation::SharedError> {
        let shared = match redis {
            Some((url, prefix)) => Some(Shared {
                client: redis::Client::open(url)?,
                prefix: prefix.to_owned(),
                channel: format!("{prefix}:rl:blocked"),
            }),
            None => None,
        };
        let limiter = Arc::new(Self {
            limits,
            shared,
            conn: Mutex::new(None),
            following: AtomicBool::new(false),
            blocks: Mutex::default(),
            local: Mutex::default(),
        });
        if let Some(shared) = &limiter.shared {
            let weak = Arc::downgrade(&limiter);
            let (client, channel) = (shared.client.clone(), shared.channel.clone());
            tokio::spawn(pubsub::follow(client, channel, move |event| {
                if let Some(limiter) = weak.upgrade() {
                    limiter.on_event(event, Instant::now());
                }
            }));
        }
        Ok(limiter)
    }

    /// True while checks are answered from announcements (the channel is followed).
    pub fn following(&self) -> bool {
        self.following.load(Ordering::Acquire)
    }

    fn on_event(&self, event: Event, now: Instant) {
        match event {
            Event::Subscribed => self.following.store(true, Ordering::Release),
            Event::Lost => self.following.store(false, Ordering::Release),
            Event::Message(payload) => {
                // "MILLISECONDS KEY": the key is blocked for that much longer.
                let parsed =
                    payload
                        .as_deref()
                        .and_then(|p| p.split_once(' '))
                        .and_then(|(ms, key)| {
                            Some((Duration::from_millis(ms.parse().ok()?), key.to_owned()))
                        });
                if let Some((left, key)) = parsed {
                    self.lock_blocks().insert(&key, now + left, now);
                }
            }
        }
    }

    /// How long a refused attempt waits for its answer.
    pub fn failure_delay(&self) -> Duration {
        self.limits.failure_delay
    }

    fn lock_blocks(&self) -> std::sync::MutexGuard<'_, Blocks> {
        self.blocks.lock().unwrap_or_else(PoisonError::into_inner)
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
        let mut left = self.local_left(&keys, now);
        if self.shared.is_some() && !self.following() {
            left = left.max(self.shared_left(&keys).await);
        }
        match left {
            Some(left) => Err(Blocked {
                retry_after: left.max(Duration::from_secs(1)),
            }),
            None => Ok(()),
        }
    }

    /// Counts a failed authentication at `now` against the client id and the address.
    pub async fn record_failure(&self, client_id: &str, address: Option<IpAddr>, now: Instant) {
        let keys = self.keys(client_id, address);
        if !self.shared_record(&keys, now).await {
            self.local_record(&keys, now);
        }
    }

    async fn connection(&self) -> Option<(redis::aio::ConnectionManager, &Shared)> {
        let shared = self.shared.as_ref()?;
        if let Some(conn) = self
            .conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            return Some((conn, shared));
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let conn = tokio::time::timeout(
            REDIS_TIMEOUT,
            shared.client.get_connection_manager_with_config(config),
        )
        .await
        .ok()?
        .ok()?;
        *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = Some(conn.clone());
        Some((conn, shared))
    }

    /// The longest time left of a key over its limit, from Redis; `None` if none is (or
    /// Redis is unreachable).
    async fn shared_left(&self, keys: &[(String, u32)]) -> Option<Duration> {
        let (mut conn, shared) = self.connection().await?;
        let mut pipe = redis::pipe();
        for (key, _) in keys {
            let key = format!("{}:rl:{key}", shared.prefix);
            pipe.get(&key).pttl(&key);
        }
        let answer: Vec<(Option<u32>, i64)> =
            tokio::time::timeout(REDIS_TIMEOUT, pipe.query_async(&mut conn))
                .await
                .ok()?
                .ok()?;
        keys.iter()
            .zip(answer)
            .filter(|((_, limit), (count, _))| count.unwrap_or(0) >= *limit)
            .map(|(_, (_, ttl))| Duration::from_millis(u64::try_from(ttl).unwrap_or(0)))
            .max()
    }

    /// Counts the failure in Redis; a key it takes to its limit is blocked here and
    /// announced to the other replicas. False if Redis could not count it.
    async fn shared_record(&self, keys: &[(String, u32)], now: Instant) -> bool {
        let Some((mut conn, shared)) = self.connection().await else {
            return false;
        };
        let window_ms = i64::try_from(self.limits.window.as_millis()).unwrap_or(60_000);
        let mut pipe = redis::pipe();
        for (key, _) in keys {
            let key = format!("{}:rl:{key}", shared.prefix);
            // The window starts with the first failure: INCR, then set the expiry only if none.
            pipe.incr(&key, 1);
            pipe.cmd("PEXPIRE")
                .arg(&key)
                .arg(window_ms)
                .arg("NX")
                .ignore();
            pipe.pttl(&key);
        }
        let counted: Vec<(u32, i64)> =
            match tokio::time::timeout(REDIS_TIMEOUT, pipe.query_async(&mut conn)).await {
                Ok(Ok(counted)) => counted,
                _ => return false,
            };
        let mut announce = redis::pipe();
        for ((key, limit), (count, ttl)) in keys.iter().zip(counted) {
            if count >= *limit && ttl > 0 {
                let left = Duration::from_millis(u64::try_from(ttl).unwrap_or(0));
                self.lock_blocks().insert(key, now + left, now);
                announce
                    .publish(&shared.channel, format!("{ttl} {key}"))
                    .ignore();
            }
        }
        if !announce.is_empty() {
            // Lost announcements only cost the other replicas one more failure each.
            let _ =
                tokio::time::timeout(REDIS_TIMEOUT, announce.query_async::<()>(&mut conn)).await;
        }
        true
    }

    /// The longest time left of a key over its limit here: blocked by an announcement or
    /// by this process' own counters.
    fn local_left(&self, keys: &[(String, u32)], now: Instant) -> Option<Duration> {
        let blocks = self.lock_blocks();
        let local = self.local.lock().unwrap_or_else(PoisonError::into_inner);
        keys.iter()
            .filter_map(|(key, limit)| {
                let counted = local
                    .get(key)
                    .filter(|(count, end)| count >= limit && *end > now)
                    .map(|(_, end)| *end - now);
                counted.max(blocks.left(key, now))
            })
            .max()
    }

    fn local_record(&self, keys: &[(String, u32)], now: Instant) {
        let mut local = self.local.lock().unwrap_or_else(PoisonError::into_inner);
        if local.len() >= LOCAL_CAPACITY {
            local.retain(|_, (_, end)| *end > now);
        }
        for (key, _) in keys {
            let entry = local
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
mod tests;
