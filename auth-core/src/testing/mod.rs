//! Test support (feature `testing`): an isolated database per test, on PostgreSQL or SQLite;
//! real processes (`process`); a Redis server of a test's own, plain or TLS (`redis_server`),
//! a Sentinel group (`sentinel`) or a three-master Cluster (`redis_cluster`);
//! HTTP helpers both services' tests share (`http`); a Kubernetes-like token issuer with
//! discovery and JWKS, for workload-identity tests (`issuer`).
//!
//! PostgreSQL tests each get a fresh database, migrated, and dropped when the test ends.
//! `TEST_DATABASE_URL` names the server's maintenance database (default
//! `postgres://postgres@127.0.0.1:5432/test`). When a service a test needs (PostgreSQL,
//! Redis, nginx, …) cannot be reached the test fails with a message saying how to start it:
//! a test that did not run must never show as passed. `TEST_SKIP_UNAVAILABLE=1` turns such
//! failures into skips (each printed) for people who want to run what they can; under `CI`
//! nothing is ever skipped.

use std::path::PathBuf;

use diesel::RunQueryDsl as _;

use crate::ids::random_token;
use crate::store::connection::ConnectionManager;
use crate::store::{DatabaseUrl, migrate};

pub mod certificates;
pub mod http;
pub mod https_files;
pub mod issuer;
pub mod postgres;
pub mod process;
pub mod redis_cluster;
mod redis_node;
pub mod redis_server;
pub mod sentinel;

/// TLS off: libpq would otherwise initialise OpenSSL, whose exit handlers can race the
/// pool threads of a test process that is ending.
pub const DEFAULT_TEST_DATABASE_URL: &str =
    "postgres://postgres@127.0.0.1:5432/test?sslmode=disable";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

fn flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// True unless `TEST_SKIP_UNAVAILABLE` asks to skip tests whose services are unreachable
/// (never under `CI`).
pub fn strict() -> bool {
    flag("CI") || !flag("TEST_SKIP_UNAVAILABLE")
}

/// Fails the test, naming what is missing and how to provide it; skips (returns `None`)
/// instead when [`strict`] is off.
pub fn unavailable<T>(what: &str, why: impl std::fmt::Display) -> Option<T> {
    assert!(
        !strict(),
        "{what} is required but unreachable: {why}. Start it (README, \"Test it\"), or set \
         TEST_SKIP_UNAVAILABLE=1 to skip the tests that need it"
    );
    eprintln!("skipping: {what} unreachable ({why}); TEST_SKIP_UNAVAILABLE is set");
    None
}

/// The shared Redis (`TEST_REDIS_URL`, default `redis://127.0.0.1:6379`) if it answers;
/// `None` (skip) outside CI when it does not, a failure under CI.
pub fn redis_url() -> Option<String> {
    let url =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let ping = redis::Client::open(url.as_str())
        .and_then(|client| client.get_connection_with_timeout(std::time::Duration::from_secs(1)))
        .and_then(|mut conn| redis::cmd("PING").query::<String>(&mut conn));
    match ping {
        Ok(_) => Some(url),
        Err(error) => unavailable("Redis (TEST_REDIS_URL)", error),
    }
}

/// Defines each named test case once per backend, `postgres::name` and `sqlite::name`,
/// each called with the `$app` type's `spawn(backend)` (a test whose backend is
/// unreachable fails, or is skipped under `TEST_SKIP_UNAVAILABLE`; see `testing::unavailable`).
/// The calling crate needs `actix-web` (its test attribute).
#[macro_export]
macro_rules! on_both_backends {
    ($app:ty; $($case:ident),* $(,)?) => {
        mod postgres {
            $(
                #[actix_web::test]
                async fn $case() {
                    if let Some(app) = <$app>::spawn($crate::testing::Backend::Postgres).await {
                        super::$case(app).await;
                    }
                }
            )*
        }
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $case() {
                    if let Some(app) = <$app>::spawn($crate::testing::Backend::Sqlite).await {
                        super::$case(app).await;
                    }
                }
            )*
        }
    };
}

/// Writes a freshly generated Ed25519 signing key (PKCS#8 PEM) into `dir`, for a service
/// under test's `OAUTH_SIGNING_KEY_FILE`; returns its path.
pub fn signing_key_file(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("signing-key.pem");
    let (_, pem) = crate::token::SigningKey::generate_ed25519().expect("an Ed25519 key");
    std::fs::write(&path, pem).expect("write the signing key");
    path
}

/// A fresh key prefix, so tests sharing one Redis never see each other's keys.
pub fn redis_prefix() -> String {
    format!("test{}", random_token(9).replace(['-', '_'], "x"))
}

/// A migrated database that disappears when dropped.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    cleanup: Cleanup,
}

enum Cleanup {
    Postgres { admin_url: String, name: String },
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned())
}

/// The URL of database `name` on the same server as `admin`.
fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = admin
        .split_once('?')
        .map_or((admin, None), |(b, q)| (b, Some(q)));
    let (server, _) = base.rsplit_once('/').unwrap_or((base, ""));
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

impl TestDatabase {
    /// A fresh, migrated database; `None` when PostgreSQL is unreachable outside CI.
    pub fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Postgres => Self::postgres(),
            Backend::Sqlite => Some(Self::sqlite()),
        }
    }

    fn postgres() -> Option<Self> {
        let admin_url = admin_url();
        let admin = DatabaseUrl::parse(&admin_url).expect("TEST_DATABASE_URL must be postgres://");
        let mut conn = match ConnectionManager::new(admin).establish() {
            Ok(conn) => conn,
            Err(error) => return unavailable("PostgreSQL (TEST_DATABASE_URL)", error),
        };
        let name = format!(
            "auth_test_{}",
            random_token(9).to_ascii_lowercase().replace('-', "_")
        );
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .expect("create the test database");
        let url = DatabaseUrl::parse(&with_database(&admin_url, &name)).expect("test database URL");
        let db = Self {
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        };
        db.migrate();
        Some(db)
    }

    fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path: PathBuf = dir.path().join("auth.sqlite");
        let db = Self {
            url: DatabaseUrl::Sqlite(path),
            cleanup: Cleanup::Sqlite(dir),
        };
        db.migrate();
        db
    }

    fn migrate(&self) {
        let mut conn = ConnectionManager::new(self.url.clone())
            .establish()
            .expect("connect to the test database");
        migrate::run_migrations(&mut conn).expect("migrate the test database");
    }

    /// `DATABASE_URL` for a service under test.
    pub fn url_string(&self) -> String {
        match &self.url {
            DatabaseUrl::Postgres(url) => url.clone(),
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let Ok(admin) = DatabaseUrl::parse(admin_url) else {
                return;
            };
            if let Ok(mut conn) = ConnectionManager::new(admin).establish() {
                let _ =
                    diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .execute(&mut conn);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_swapped_keeping_the_query() {
        assert_eq!(
            with_database("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
