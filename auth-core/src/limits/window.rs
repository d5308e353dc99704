//! Fixed-window counters every replica shares: the one mechanism behind the brute-force
//! limits (failed client authentications) and the per-client limits (tokens issued and
//! revoked per minute).
//!
//! A counter lives in Redis when it is configured (so every replica counts against the
//! same limit) and in process memory otherwise, or while Redis is unreachable. Its window
//! starts with its first event. A key past its limit is blocked until its window ends.
//!
//! Checking a blocked key costs no round trip while this process follows the counters'
//! channel: the replica whose event takes a counter to its limit learns so from the
//! increment itself, blocks the key locally for the rest of the window and announces it on
//! the channel, so every replica blocks it too. A replica that missed an announcement (it
//! was reconnecting) learns of the block from its own next event for that key. While not
//! following the channel, each check reads the shared counters.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::pubsub::{self, Event};
use crate::shared_redis::{LazyConnection, RedisConnection, RedisSettings};

/// Refused: retry after this long (at least a second, as `Retry-After` counts seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked {
    pub retry_after: Duration,
}

impl Blocked {
    fn after(left: Duration) -> Self {
        Self {
            retry_after: left.max(Duration::from_secs(1)),
        }
    }

    /// `Retry-After` in whole seconds, rounded up.
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_millis().div_ceil(1000) as u64
    }
}

/// A key to count and the limit it is held to.
pub type Counted = (String, u32);

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
                // Forgotten blocks come back with each key's next event.
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
    settings: RedisSettings,
    conn: LazyConnection,
    prefix: String,
    channel: String,
}

/// Counts events per key in fixed windows and says whether a key is over its limit.
pub struct WindowCounters {
    window: Duration,
    shared: Option<Shared>,
    /// Whether this process follows the channel (then `blocks` is complete).
    following: AtomicBool,
    blocks: Mutex<Blocks>,
    /// Counters of events that could not be counted in Redis.
    local: Mutex<HashMap<String, (u32, Instant)>>,
}

impl std::fmt::Debug for WindowCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowCounters")
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

const REDIS_TIMEOUT: Duration = Duration::from_millis(300);
const LOCAL_CAPACITY: usize = 100_000;

impl WindowCounters {
    /// Counters with windows of `window`, shared through `redis` if given; `name` tells
    /// these counters' keys and channel from others' (`PREFIX:NAME:KEY`,
    /// `PREFIX:NAME:blocked`). With Redis, the counters start following their channel (a
    /// task: needs a tokio runtime).
    pub fn new(window: Duration, redis: Option<&RedisSettings>, name: &str) -> Arc<Self> {
        let shared = redis.map(|redis| Shared {
            conn: LazyConnection::new(redis.clone(), REDIS_TIMEOUT),
            settings: redis.clone(),
            prefix: format!("{}:{name}", redis.key_prefix()),
            channel: format!("{}:{name}:blocked", redis.key_prefix()),
        });
        let counters = Arc::new(Self {
            window,
            shared,
            following: AtomicBool::new(false),
            blocks: Mutex::default(),
            local: Mutex::default(),
        });
        if let Some(shared) = &counters.shared {
            let weak = Arc::downgrade(&counters);
            let (settings, channel) = (shared.settings.clone(), shared.channel.clone());
            tokio::spawn(pubsub::follow(settings, channel, move |event| {
                if let Some(counters) = weak.upgrade() {
                    counters.on_event(event, Instant::now());
                }
            }));
        }
        counters
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

    fn lock_blocks(&self) -> std::sync::MutexGuard<'_, Blocks> {
        self.blocks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `Err(Blocked)` when a key has reached its limit in its window at `now` (the shared
    /// counters' windows are Redis' own).
    pub async fn check(&self, keys: &[Counted], now: Instant) -> Result<(), Blocked> {
        let mut left = self.local_left(keys, now);
        if self.shared.is_some() && !self.following() {
            left = left.max(self.shared_left(keys).await);
        }
        match left {
            Some(left) => Err(Blocked::after(left)),
            None => Ok(()),
        }
    }

    /// Counts an event at `now` against every key; `Err(Blocked)` when that took a key
    /// past its limit (this event is the limit's first excess). A key that reaches its
    /// limit is blocked for the rest of its window.
    pub async fn record(&self, keys: &[Counted], now: Instant) -> Result<(), Blocked> {
        let counted = match self.shared_record(keys, now).await {
            Some(counted) => counted,
            None => self.local_record(keys, now),
        };
        let over = keys
            .iter()
            .zip(counted)
            .filter(|((_, limit), (count, _))| count > limit)
            .map(|(_, (_, left))| left)
            .max();
        match over {
            Some(left) => Err(Blocked::after(left)),
            None => Ok(()),
        }
    }

    /// Runs one pipeline per key (`build` writes it for the key's Redis name), all at once
    /// on the shared connection, and reads each one's answer; `None` if Redis could not
    /// answer them all in time. One pipeline per key, not one for all: on a Cluster, keys
    /// of one pipeline must share a slot.
    async fn per_key<T: redis::FromRedisValue>(
        &self,
        keys: &[Counted],
        build: impl Fn(&mut redis::Pipeline, &str),
    ) -> Option<(Vec<T>, RedisConnection, &Shared)> {
        let shared = self.shared.as_ref()?;
        let conn = shared.conn.get().await?;
        let pipes: Vec<redis::Pipeline> = keys
            .iter()
            .map(|(key, _)| {
                let mut pipe = redis::pipe();
                build(&mut pipe, &format!("{}:{key}", shared.prefix));
                pipe
            })
            .collect();
        let answers = futures_util::future::try_join_all(pipes.iter().map(|pipe| {
            let mut conn = conn.clone();
            async move { pipe.query_async::<T>(&mut conn).await }
        }));
        match tokio::time::timeout(REDIS_TIMEOUT, answers).await {
            Ok(Ok(answers)) => Some((answers, conn, shared)),
            _ => {
                shared.conn.failed();
                None
            }
        }
    }

    /// The longest time left of a key over its limit, from Redis; `None` if none is (or
    /// Redis is unreachable).
    async fn shared_left(&self, keys: &[Counted]) -> Option<Duration> {
        let (answer, _, _) = self
            .per_key::<(Option<u32>, i64)>(keys, |pipe, key| {
                pipe.get(key).pttl(key);
            })
            .await?;
        keys.iter()
            .zip(answer)
            .filter(|((_, limit), (count, _))| count.unwrap_or(0) >= *limit)
            .map(|(_, (_, ttl))| millis(ttl))
            .max()
    }

    /// Counts the event in Redis; a key it takes to its limit is blocked here and
    /// announced to the other replicas. Each key's count and its window's time left, or
    /// `None` if Redis could not count it.
    async fn shared_record(&self, keys: &[Counted], now: Instant) -> Option<Vec<(u32, Duration)>> {
        let window_ms = i64::try_from(self.window.as_millis()).unwrap_or(60_000);
        let (counted, mut conn, shared) = self
            .per_key::<(u32, i64)>(keys, |pipe, key| {
                // The window starts with the first event: INCR, then set the expiry only
                // if none.
                pipe.incr(key, 1);
                pipe.cmd("PEXPIRE")
                    .arg(key)
                    .arg(window_ms)
                    .arg("NX")
                    .ignore();
                pipe.pttl(key);
            })
            .await?;
        let mut announce = redis::pipe();
        for ((key, limit), (count, ttl)) in keys.iter().zip(&counted) {
            if count >= limit && *ttl > 0 {
                self.lock_blocks().insert(key, now + millis(*ttl), now);
                announce
                    .cmd(shared.settings.publish_command())
                    .arg(&shared.channel)
                    .arg(format!("{ttl} {key}"))
                    .ignore();
            }
        }
        if !announce.is_empty() {
            // Lost announcements only cost the other replicas one more event each.
            let _ =
                tokio::time::timeout(REDIS_TIMEOUT, announce.query_async::<()>(&mut conn)).await;
        }
        Some(
            counted
                .into_iter()
                .map(|(count, ttl)| (count, millis(ttl)))
                .collect(),
        )
    }

    /// The longest time left of a key over its limit here: blocked by an announcement or
    /// by this process' own counters.
    fn local_left(&self, keys: &[Counted], now: Instant) -> Option<Duration> {
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

    /// Counts the event in this process; each key's count and its window's time left.
    fn local_record(&self, keys: &[Counted], now: Instant) -> Vec<(u32, Duration)> {
        let mut local = self.local.lock().unwrap_or_else(PoisonError::into_inner);
        if local.len() >= LOCAL_CAPACITY {
            local.retain(|_, (_, end)| *end > now);
        }
        keys.iter()
            .map(|(key, _)| {
                let entry = local.entry(key.clone()).or_insert((0, now + self.window));
                if entry.1 <= now {
                    *entry = (0, now + self.window);
                }
                entry.0 = entry.0.saturating_add(1);
                (entry.0, entry.1 - now)
            })
            .collect()
    }
}

/// A PTTL answer as a duration (negative answers, "no such key" or "no expiry", as zero).
fn millis(ttl: i64) -> Duration {
    Duration::from_millis(u64::try_from(ttl).unwrap_or(0))
}

#[cfg(test)]
mod tests;
