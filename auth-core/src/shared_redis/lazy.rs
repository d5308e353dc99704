//! A connection opened on first use and shared by a part that talks to Redis only now
//! and then.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::{RedisConnection, RedisSettings};

/// A multiplexed connection opened on first use and then shared (it reconnects by itself):
/// a part that talks to Redis only now and then holds one of these, not a connection of
/// its own from start-up. Every command through it is bounded by its timeout.
pub struct LazyConnection {
    settings: RedisSettings,
    timeout: Duration,
    conn: Mutex<Option<RedisConnection>>,
}

impl std::fmt::Debug for LazyConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyConnection")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl LazyConnection {
    pub fn new(settings: RedisSettings, timeout: Duration) -> Self {
        Self {
            settings,
            timeout,
            conn: Mutex::new(None),
        }
    }

    /// How long a command through this connection may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The connection; `None` when Redis cannot be reached within the timeout.
    pub async fn get(&self) -> Option<RedisConnection> {
        if let Some(conn) = self
            .conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            return Some(conn);
        }
        // Boxed: connecting is rare, and its future (Sentinel's discovery) is deep.
        let connect = Box::pin(self.settings.connect(self.timeout));
        let conn = tokio::time::timeout(self.timeout, connect)
            .await
            .ok()?
            .ok()?;
        *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = Some(conn.clone());
        Some(conn)
    }

    /// A command through the connection failed: with Sentinel, the master may have moved,
    /// so the next [`LazyConnection::get`] asks the sentinels again. (One server's and a
    /// Cluster's connections reconnect by themselves.)
    pub fn failed(&self) {
        if self.settings.is_sentinel() {
            *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
    }
}
