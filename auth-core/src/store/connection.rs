//! Database connections: one enum over PostgreSQL and SQLite, pooled with r2d2.
//!
//! The backend is chosen from the URL's scheme, never by trial: diesel's derived
//! `establish` tries each backend in turn, which would turn an unreachable PostgreSQL URL
//! into an SQLite file of that name. SQLite connections get foreign keys, WAL and a busy
//! timeout, so the two services can share the embedded file.
//!
//! A pooled connection is checked with a `SELECT 1` when it is checked out only if no query
//! succeeded on it within [`RECENTLY_USED`]; a query that fails because the server went away
//! marks it broken, and the pool replaces it. Pinging on every checkout cost a round trip
//! per query: 4–11 % of PostgreSQL's CPU on the cold-token path, where every query is a
//! batch of client lookups.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection as _;
use diesel::pg::PgConnection;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection, R2D2Connection as _};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection as _, ConnectionError};

/// A connection to whichever backend `DATABASE_URL` names.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// Where the database is. `Display` hides any password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected postgres://…, postgresql://… or sqlite://PATH")]
pub struct InvalidDatabaseUrl;

impl DatabaseUrl {
    pub fn parse(value: &str) -> Result<Self, InvalidDatabaseUrl> {
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            return Ok(Self::Postgres(value.to_owned()));
        }
        match value.strip_prefix("sqlite://") {
            Some(path) if !path.is_empty() => Ok(Self::Sqlite(PathBuf::from(path))),
            _ => Err(InvalidDatabaseUrl),
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgresql",
            Self::Sqlite(_) => "sqlite",
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
                let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
                let host = host.split_once('?').map_or(host, |(host, _)| host);
                write!(f, "{scheme}://{host}")
            }
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A connection used successfully this recently is handed out without a `SELECT 1` first.
pub const RECENTLY_USED: Duration = Duration::from_secs(1);

/// A pooled connection: the connection, when a query on it last succeeded, and whether a
/// query found the server gone (the pool then drops it instead of handing it out again).
pub struct ManagedConnection {
    conn: DbConnection,
    last_ok: Option<Instant>,
    broken: bool,
}

impl ManagedConnection {
    /// Records how a query on this connection ended (see [`Store::run`](super::Store::run)).
    pub(super) fn record<T>(&mut self, result: &Result<T, super::StoreError>) {
        match result {
            Ok(_) => self.last_ok = Some(Instant::now()),
            Err(error) if error.is_unavailable() => self.broken = true,
            Err(_) => {}
        }
    }

    fn recently_used(&self) -> bool {
        self.last_ok.is_some_and(|at| at.elapsed() < RECENTLY_USED)
    }
}

impl Deref for ManagedConnection {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl DerefMut for ManagedConnection {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

/// An r2d2 manager that opens the backend named by the URL.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }

    /// Opens one connection outside any pool (migrations, tests).
    pub fn establish(&self) -> Result<DbConnection, ConnectionError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                PgConnection::establish(url).map(DbConnection::Postgresql)
            }
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
                }
                let path = path.to_str().ok_or_else(|| {
                    ConnectionError::InvalidConnectionUrl("the SQLite path is not UTF-8".into())
                })?;
                let mut conn = SqliteConnection::establish(path)?;
                conn.batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                     PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
                )
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = ManagedConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<ManagedConnection, Self::Error> {
        let conn = self
            .establish()
            .map_err(diesel::r2d2::Error::ConnectionError)?;
        Ok(ManagedConnection {
            conn,
            last_ok: Some(Instant::now()),
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut ManagedConnection) -> Result<(), Self::Error> {
        if conn.recently_used() {
            return Ok(());
        }
        conn.conn.ping().map_err(diesel::r2d2::Error::QueryError)?;
        conn.last_ok = Some(Instant::now());
        Ok(())
    }

    fn has_broken(&self, conn: &mut ManagedConnection) -> bool {
        conn.broken || conn.conn.is_broken()
    }
}

/// The backend of [`DbConnection`], for queries built at run time (boxed): one type for
/// both databases, each rendering its own SQL.
pub type Db = <DbConnection as diesel::Connection>::Backend;

pub type DbPool = Pool<ConnectionManager>;
pub type PooledDbConnection = PooledConnection<ConnectionManager>;

/// Builds a pool without connecting: a database that is down at start-up makes requests
/// answer 503 until it is back, instead of stopping the process.
pub fn build_pool(url: &DatabaseUrl, max_size: u32, checkout_timeout: Duration) -> DbPool {
    Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(checkout_timeout)
        // diesel cannot tell a PostgreSQL connection the server dropped: a `SELECT 1` on
        // checkout of a connection idle for a while, and the broken mark a failed query
        // leaves, replace it, so a database restart costs a few 503s, not a stuck pool.
        .test_on_check_out(true)
        .build_unchecked(ConnectionManager::new(url.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend_and_display_without_password() {
        let pg = DatabaseUrl::parse("postgres://user:s3cret@db:5432/auth?sslmode=require").unwrap();
        assert_eq!(pg.backend(), "postgresql");
        assert_eq!(pg.to_string(), "postgres://db:5432/auth");
        assert!(!format!("{pg:?}").contains("s3cret"));
        let lite = DatabaseUrl::parse("sqlite://./data/auth.sqlite").unwrap();
        assert_eq!(lite, DatabaseUrl::Sqlite("./data/auth.sqlite".into()));
        for bad in ["", "mysql://x", "sqlite://", "./file.db"] {
            assert_eq!(DatabaseUrl::parse(bad), Err(InvalidDatabaseUrl), "{bad}");
        }
    }
}
