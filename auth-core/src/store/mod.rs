//! The store: diesel schema, models and small synchronous queries, behind an r2d2 pool.
//!
//! PostgreSQL in production, SQLite as the embedded default, one set of queries for both
//! (see [`connection::DbConnection`]). Queries are plain blocking functions taking a
//! connection; [`Store::run`] runs a closure of them off the async workers.

pub mod audit;
pub mod clients;
pub mod connection;
pub mod migrate;
pub mod registry;
pub mod schema;

use std::time::Duration;

pub use connection::{DatabaseUrl, DbConnection, DbPool, PooledDbConnection};

use crate::blocking;

/// How long a request waits for a pooled connection before the store counts as unavailable.
pub const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had: the database is down or the pool exhausted.
    #[error("the database is unavailable")]
    Unavailable(#[source] diesel::r2d2::PoolError),
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
            Self::Unavailable(_) => true,
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
    pub async fn run<T, F>(&self, query: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        blocking::run(move || store.with_conn(query)).await?
    }

    /// Runs `query` with a pooled connection on this thread. Blocking: for threads that may
    /// block (the blocking pool through [`Store::run`], the bcrypt threads).
    pub fn with_conn<T>(
        &self,
        query: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _span = tracing::info_span!("db.query").entered();
        let mut conn = self.pool.get().map_err(StoreError::Unavailable)?;
        query(&mut conn)
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
