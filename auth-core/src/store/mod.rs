//! The store: diesel schema, models and small synchronous queries, behind an r2d2 pool.
//!
//! PostgreSQL in production, SQLite as the embedded default, one set of queries for both
//! (see [`connection::DbConnection`]). Queries are plain blocking functions taking a
//! connection; [`Store::run`] runs a closure of them off the async workers.

pub mod audit;
pub mod clients;
pub mod connection;
pub mod federation;
pub mod keyset;
pub mod migrate;
pub mod registry;
pub mod schema;
#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

pub use connection::{DatabaseUrl, DbConnection, DbPool, ManagedConnection, PooledDbConnection};

use crate::blocking;

/// Where a page of a listing starts: past a number of rows (fidesops' page numbers: fine
/// for shallow pages, but the database still walks every skipped row), or just past a
/// known row, its key in the listing's order (keyset pagination: an index seek, so the
/// last page costs what the first does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start<K> {
    Offset(i64),
    After(K),
}

impl<K> Start<K> {
    pub fn as_ref(&self) -> Start<&K> {
        match self {
            Self::Offset(offset) => Start::Offset(*offset),
            Self::After(key) => Start::After(key),
        }
    }

    /// The same start, its key converted by `f`.
    pub fn map<U>(self, f: impl FnOnce(K) -> U) -> Start<U> {
        match self {
            Self::Offset(offset) => Start::Offset(offset),
            Self::After(key) => Start::After(f(key)),
        }
    }
}

/// PostgreSQL's estimate of the rows of a table, or the entries of an index, scaled to the
/// relation's current size as its planner does (`reltuples / relpages` × pages now): a
/// catalog read, where `COUNT(*)` of a million rows takes a tenth of a second of CPU.
/// `None` on SQLite, which keeps no such statistic, and before the relation was first
/// vacuumed or analyzed.
pub fn estimated_rows(conn: &mut DbConnection, relation: &str) -> Result<Option<i64>, StoreError> {
    use diesel::RunQueryDsl as _;
    use diesel::sql_types::{BigInt, Nullable, Text};

    #[derive(diesel::QueryableByName)]
    struct Estimate {
        #[diesel(sql_type = Nullable<BigInt>)]
        estimate: Option<i64>,
    }
    let DbConnection::Postgresql(pg) = conn else {
        return Ok(None);
    };
    let found: Vec<Estimate> = diesel::sql_query(
        "SELECT CASE WHEN reltuples < 0 THEN NULL \
                     WHEN relpages = 0 THEN reltuples::int8 \
                     ELSE (reltuples::float8 / relpages * (pg_relation_size(oid) \
                           / current_setting('block_size')::int8))::int8 END AS estimate \
         FROM pg_class WHERE oid = to_regclass($1)",
    )
    .bind::<Text, _>(relation)
    .load(pg)?;
    Ok(found.into_iter().next().and_then(|row| row.estimate))
}

/// How long a request waits for a pooled connection before the store counts as unavailable.
pub const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had: the database is down or the pool exhausted.
    #[error("the database is unavailable")]
    Unavailable(#[source] diesel::r2d2::PoolError),
    /// No turn at the pool within [`CHECKOUT_TIMEOUT`] (see [`Store::run`]): every
    /// connection stayed busy, the database slow or down.
    #[error("the database is unavailable: every connection stayed busy")]
    Busy,
    #[error("database query failed")]
    Query(#[from] diesel::result::Error),
    /// A row holds a value the domain types refuse (a scope or id edited by hand).
    #[error("the database holds an invalid {0}")]
    Corrupt(&'static str),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("the blocking task failed")]
    Blocking,
    /// One failure answered to several callers (a query that served a batch of them).
    #[error(transparent)]
    Shared(std::sync::Arc<StoreError>),
}

impl StoreError {
    /// True when retrying later may succeed (the database is down or restarting).
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::Error as E;
        match self {
            Self::Unavailable(_) | Self::Busy => true,
            Self::Query(E::DatabaseError(
                diesel::result::DatabaseErrorKind::ClosedConnection
                | diesel::result::DatabaseErrorKind::UnableToSendCommand,
                _,
            )) => true,
            Self::Query(E::DatabaseError(diesel::result::DatabaseErrorKind::Unknown, info)) => {
                // libpq reports a dropped server as an unknown error with this text.
                let message = info.message();
                message.contains("server closed the connection")
                    || message.contains("terminating connection")
                    || message.contains("no connection to the server")
            }
            Self::Query(E::BrokenTransactionManager) => true,
            Self::Shared(error) => error.is_unavailable(),
            _ => false,
        }
    }
}

impl From<blocking::Cancelled> for StoreError {
    fn from(_: blocking::Cancelled) -> Self {
        Self::Blocking
    }
}

/// A handle on the connection pool; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: DbPool,
    url: DatabaseUrl,
    /// One turn per pooled connection, taken by [`Store::run`] before a blocking thread.
    turns: std::sync::Arc<Semaphore>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// A pool of at most `max_size` connections; connects lazily.
    pub fn new(url: &DatabaseUrl, max_size: u32) -> Self {
        Self {
            pool: connection::build_pool(url, max_size, CHECKOUT_TIMEOUT),
            url: url.clone(),
            turns: std::sync::Arc::new(Semaphore::new(usize::try_from(max_size).unwrap_or(1))),
        }
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Checks out a connection. Blocking: call it inside [`Store::run`] or [`blocking::run`].
    pub fn conn(&self) -> Result<PooledDbConnection, StoreError> {
        self.pool.get().map_err(StoreError::Unavailable)
    }

    /// Runs `query` with a pooled connection on the blocking pool, in the caller's span.
    ///
    /// Callers first wait their turn here, one turn per connection, in arrival order
    /// (tokio's semaphore is fair), and only then take a blocking thread and a connection.
    /// Left to r2d2's checkout instead, every waiter holds a blocking thread of its own,
    /// and a newcomer can take a connection just returned before those already waiting:
    /// with 64 concurrent listing pages on 10 connections, p99 was 70 to 90 ms (some pages
    /// waited over half a second) where it is 25 to 30 ms with turns. The wait for a turn
    /// and the checkout share one [`CHECKOUT_TIMEOUT`], so a database that is down is still
    /// a prompt error.
    pub async fn run<T, F>(&self, query: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let deadline = Instant::now() + CHECKOUT_TIMEOUT;
        let turn = tokio::time::timeout(CHECKOUT_TIMEOUT, self.turns.clone().acquire_owned())
            .await
            .map_err(|_| StoreError::Busy)?
            .map_err(|_| StoreError::Busy)?;
        let store = self.clone();
        blocking::run(move || {
            let _turn = turn;
            store.with_conn_waiting(deadline.saturating_duration_since(Instant::now()), query)
        })
        .await?
    }

    /// Runs `query` with a pooled connection on this thread. Blocking: for threads that may
    /// block (the blocking pool through [`Store::run`], the bcrypt threads).
    pub fn with_conn<T>(
        &self,
        query: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with_conn_waiting(CHECKOUT_TIMEOUT, query)
    }

    /// [`Store::with_conn`], waiting at most `wait` for a connection.
    fn with_conn_waiting<T>(
        &self,
        wait: Duration,
        query: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _span = tracing::info_span!("db.query").entered();
        let mut conn = self
            .pool
            .get_timeout(wait)
            .map_err(StoreError::Unavailable)?;
        let result = query(&mut conn);
        conn.record(&result);
        result
    }

    /// Pool statistics: (connections open, connections idle).
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }
}

/// `SELECT 1`, for readiness checks.
pub fn ping(conn: &mut DbConnection) -> Result<(), StoreError> {
    use diesel::r2d2::R2D2Connection as _;
    conn.ping().map_err(StoreError::Query)
}

/// Runs `work` in one transaction: all of it commits, or none of it does.
pub fn transaction<T, F>(conn: &mut DbConnection, work: F) -> Result<T, StoreError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, StoreError>,
{
    use diesel::Connection as _;
    conn.transaction(work)
}
