//! Per-client limits (feature `server`): tokens issued and tokens revoked per client per
//! minute, counted by every replica against the same limit (DESIGN, "Per-client limits").
//!
//! The revocation limit is what keeps the shared revocation state bounded: each revoked
//! token is held by every verifier until it expires, so no authenticated client may add
//! them without bound. It is on by default; the issuance limit defaults to off (services
//! that ask many tokens are normal). Each limit has a default from the environment and may
//! be set per client through the admin API; the root client is never limited (its callers
//! skip the check). The counting itself is [`window`], which the brute-force limits use too.

pub mod window;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{ConfigError, Env, integer_in};
use crate::metrics::{LimitLabel, Metrics};
use crate::shared_redis::RedisSettings;
use window::{Blocked, WindowCounters};

/// The largest limit that may be set; 0 means no limit.
pub const MAX_PER_MINUTE: u32 = 10_000_000;

/// What is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// Tokens issued to the client.
    Tokens,
    /// Tokens the client revokes (its own through RFC 7009, or any through the admin API).
    Revocations,
}

impl Limited {
    /// The metric label, and the counter's key prefix.
    pub fn label(self) -> &'static str {
        match self {
            Self::Tokens => "tokens",
            Self::Revocations => "revocations",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Tokens => "tokens issued",
            Self::Revocations => "tokens revoked",
        }
    }
}

/// A client's own limits, stored with it: per minute, `None` for the default, `Some(0)`
/// for no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClientLimits {
    pub tokens_per_minute: Option<u32>,
    pub revocations_per_minute: Option<u32>,
}

impl ClientLimits {
    fn own(self, limited: Limited) -> Option<u32> {
        match limited {
            Limited::Tokens => self.tokens_per_minute,
            Limited::Revocations => self.revocations_per_minute,
        }
    }

    /// From the stored columns (a negative or oversized value, which the API never
    /// writes, counts as the default).
    pub fn from_columns(tokens: Option<i64>, revocations: Option<i64>) -> Self {
        let per_minute = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
        Self {
            tokens_per_minute: per_minute(tokens),
            revocations_per_minute: per_minute(revocations),
        }
    }
}

/// The defaults, from the environment:
///
/// | variable | meaning | default |
/// | --- | --- | --- |
/// | `CLIENT_TOKENS_PER_MINUTE` | tokens issued per client per minute, 0 for no limit | 0 |
/// | `CLIENT_REVOCATIONS_PER_MINUTE` | tokens revoked per client per minute, 0 for no limit | 120 |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultLimits {
    pub tokens_per_minute: u32,
    pub revocations_per_minute: u32,
}

impl DefaultLimits {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            tokens_per_minute: env.parse_or(
                "CLIENT_TOKENS_PER_MINUTE",
                0,
                integer_in(0..=MAX_PER_MINUTE),
            )?,
            revocations_per_minute: env.parse_or(
                "CLIENT_REVOCATIONS_PER_MINUTE",
                120,
                integer_in(0..=MAX_PER_MINUTE),
            )?,
        })
    }

    fn of(self, limited: Limited) -> u32 {
        match limited {
            Limited::Tokens => self.tokens_per_minute,
            Limited::Revocations => self.revocations_per_minute,
        }
    }
}

/// A client reached one of its limits: the 429 `error_description` and `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitReached {
    pub limited: Limited,
    pub per_minute: u32,
    pub retry_after: Duration,
}

impl LimitReached {
    /// `Retry-After` in whole seconds.
    pub fn retry_after_secs(&self) -> u64 {
        Blocked {
            retry_after: self.retry_after,
        }
        .retry_after_secs()
    }

    /// Names the limit, for `error_description`.
    pub fn description(&self) -> String {
        format!(
            "this client's limit of {} {} per minute is reached; retry after {} s",
            self.per_minute,
            self.limited.describe(),
            self.retry_after_secs()
        )
    }
}

/// Counts what each client does against its limits.
#[derive(Debug, Clone)]
pub struct UsageLimits {
    defaults: DefaultLimits,
    counters: Arc<WindowCounters>,
    metrics: Arc<Metrics>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl UsageLimits {
    /// Counted with every replica through `redis` (without, each process counts alone).
    /// Needs a tokio runtime when `redis` is given.
    pub fn new(
        defaults: DefaultLimits,
        redis: Option<&RedisSettings>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            defaults,
            counters: WindowCounters::new(WINDOW, redis, "usage"),
            metrics,
        }
    }

    /// The limit that applies to a client with `own` limits; `None` for no limit.
    pub fn limit(&self, limited: Limited, own: ClientLimits) -> Option<u32> {
        Some(own.own(limited).unwrap_or(self.defaults.of(limited))).filter(|limit| *limit > 0)
    }

    /// Counts one more of `limited` for `client_id` at `now`, or refuses it when the client
    /// reached its limit in this minute. Never call it for the root client.
    pub async fn take(
        &self,
        limited: Limited,
        client_id: &str,
        own: ClientLimits,
        now: Instant,
    ) -> Result<(), LimitReached> {
        let Some(per_minute) = self.limit(limited, own) else {
            return Ok(());
        };
        // The limit is part of the key: a client whose limit changes starts a new count
        // (and is not held by a block its old limit set).
        let keys = [(
            format!("{}:{per_minute}:{client_id}", limited.label()),
            per_minute,
        )];
        let counted = match self.counters.check(&keys, now).await {
            Ok(()) => self.counters.record(&keys, now).await,
            blocked => blocked,
        };
        counted.map_err(|blocked| {
            self.metrics
                .client_limit_refusals
                .get_or_create(&LimitLabel {
                    limit: limited.label(),
                })
                .inc();
            LimitReached {
                limited,
                per_minute,
                retry_after: blocked.retry_after,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(tokens: u32, revocations: u32) -> UsageLimits {
        let defaults = DefaultLimits {
            tokens_per_minute: tokens,
            revocations_per_minute: revocations,
        };
        UsageLimits::new(defaults, None, Arc::new(Metrics::new()))
    }

    #[tokio::test]
    async fn a_client_meets_its_limit_and_others_do_not() {
        let limits = limits(0, 2);
        let now = Instant::now();
        let own = ClientLimits::default();
        for _ in 0..2 {
            assert!(
                limits
                    .take(Limited::Revocations, "a", own, now)
                    .await
                    .is_ok()
            );
        }
        let reached = limits
            .take(
                Limited::Revocations,
                "a",
                own,
                now + Duration::from_secs(15),
            )
            .await
            .unwrap_err();
        assert_eq!(reached.per_minute, 2);
        assert_eq!(reached.retry_after_secs(), 45);
        assert_eq!(
            reached.description(),
            "this client's limit of 2 tokens revoked per minute is reached; retry after 45 s"
        );
        assert!(
            limits
                .take(Limited::Revocations, "b", own, now)
                .await
                .is_ok()
        );
        for _ in 0..1000 {
            assert!(
                limits.take(Limited::Tokens, "a", own, now).await.is_ok(),
                "the issuance limit is off by default"
            );
        }
        let refused = limits
            .metrics
            .client_limit_refusals
            .get_or_create(&LimitLabel {
                limit: "revocations",
            })
            .get();
        assert_eq!(refused, 1);
    }

    #[tokio::test]
    async fn a_client_s_own_limits_replace_the_defaults() {
        let limits = limits(5, 5);
        let now = Instant::now();
        let own = ClientLimits {
            tokens_per_minute: Some(1),
            revocations_per_minute: Some(0),
        };
        assert!(limits.take(Limited::Tokens, "a", own, now).await.is_ok());
        assert!(limits.take(Limited::Tokens, "a", own, now).await.is_err());
        for _ in 0..10 {
            assert!(
                limits
                    .take(Limited::Revocations, "a", own, now)
                    .await
                    .is_ok(),
                "0: no limit for this client"
            );
        }
        assert_eq!(
            limits.limit(Limited::Tokens, ClientLimits::default()),
            Some(5)
        );
    }

    #[test]
    fn defaults_come_from_the_environment_and_name_a_bad_variable() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            Env::from_fn(move |name| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            })
        };
        let defaults = DefaultLimits::from_env(&env(&[])).unwrap();
        assert_eq!(
            (defaults.tokens_per_minute, defaults.revocations_per_minute),
            (0, 120)
        );
        let error = DefaultLimits::from_env(&env(&[("CLIENT_REVOCATIONS_PER_MINUTE", "-1")]));
        assert_eq!(error.unwrap_err().variable, "CLIENT_REVOCATIONS_PER_MINUTE");
    }

    #[test]
    fn stored_columns_out_of_range_count_as_the_default() {
        let limits = ClientLimits::from_columns(Some(-3), Some(7));
        assert_eq!(limits.tokens_per_minute, None);
        assert_eq!(limits.revocations_per_minute, Some(7));
    }
}
