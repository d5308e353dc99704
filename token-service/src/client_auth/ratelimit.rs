//! Brute-force protection: failed client authentications counted per client id and per
//! source address in a fixed window; past the limit, further attempts that need a secret
//! check are refused until the window ends.
//!
//! The counters are `auth_core::limits::window`'s, shared by every replica through Redis
//! when it is configured, with the blocked keys announced so a check costs no round trip.
//! A secret that verified before (found in the verified-credentials cache) is never
//! limited, so an attacker hammering a client id cannot lock out a client that is already
//! in use; a cold client waits at most until the window ends. See SECURITY.md.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::config::{ConfigError, Env, integer_in};
use auth_core::limits::window::{Blocked, Counted, WindowCounters};
use auth_core::shared_redis::RedisSettings;

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

/// Counts failures and says whether a client id or an address is over its limit.
#[derive(Debug)]
pub struct FailureLimiter {
    limits: Limits,
    counters: Arc<WindowCounters>,
}

impl FailureLimiter {
    /// Counted with every replica through `redis` if given; then the limiter starts
    /// following its channel (a task: needs a tokio runtime).
    pub fn new(limits: Limits, redis: Option<&RedisSettings>) -> Arc<Self> {
        Arc::new(Self {
            limits,
            counters: WindowCounters::new(limits.window, redis, "rl"),
        })
    }

    /// True while checks are answered from announcements (the channel is followed).
    pub fn following(&self) -> bool {
        self.counters.following()
    }

    /// How long a refused attempt waits for its answer.
    pub fn failure_delay(&self) -> Duration {
        self.limits.failure_delay
    }

    fn keys(&self, client_id: &str, address: Option<IpAddr>) -> Vec<Counted> {
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
        self.counters
            .check(&self.keys(client_id, address), now)
            .await
    }

    /// `Err(Blocked)` when the address is over its limit at `now`.
    pub async fn check_address(
        &self,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), Blocked> {
        let Some(address) = address else {
            return Ok(());
        };
        let keys = [(format!("addr:{address}"), self.limits.per_address)];
        self.counters.check(&keys, now).await
    }

    /// Counts a failure at `now` against the address only (assertions: a signature cannot
    /// be guessed, and counting against the client would let anyone lock it out).
    pub async fn record_address_failure(&self, address: Option<IpAddr>, now: Instant) {
        if let Some(address) = address {
            let keys = [(format!("addr:{address}"), self.limits.per_address)];
            let _ = self.counters.record(&keys, now).await;
        }
    }

    /// Counts a failed authentication at `now` against the client id and the address.
    pub async fn record_failure(&self, client_id: &str, address: Option<IpAddr>, now: Instant) {
        // Past the limit or not, the failure is answered the same; later checks refuse.
        let _ = self
            .counters
            .record(&self.keys(client_id, address), now)
            .await;
    }
}

#[cfg(test)]
mod tests;
