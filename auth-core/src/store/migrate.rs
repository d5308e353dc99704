//! Embedded migrations, applied by one `migrate` command or job, never by each replica.
//!
//! On PostgreSQL the run holds an advisory lock, so two migrate jobs started together
//! apply each migration once. Services only check that the schema is current at start-up.

use diesel::RunQueryDsl as _;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness as _, embed_migrations};

use super::StoreError;
use super::connection::DbConnection;

const POSTGRES: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// An arbitrary constant that names this service's migration lock.
const MIGRATION_LOCK_KEY: i64 = 0x6f61_7574_685f_6d67;

fn migration_error(error: impl std::fmt::Display) -> StoreError {
    StoreError::Migration(error.to_string())
}

/// Applies every pending migration; returns the versions applied.
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let applied = match conn {
        DbConnection::Postgresql(pg) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(pg)?;
            let result = pg.run_pending_migrations(POSTGRES).map(versions);
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .execute(pg)?;
            result
        }
        DbConnection::Sqlite(lite) => lite.run_pending_migrations(SQLITE).map(versions),
    };
    applied.map_err(migration_error)
}

/// The migrations not yet applied.
pub fn pending_migrations(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    match conn {
        DbConnection::Postgresql(pg) => pg.pending_migrations(POSTGRES).map(names),
        DbConnection::Sqlite(lite) => lite.pending_migrations(SQLITE).map(names),
    }
    .map_err(migration_error)
}

fn names<DB: diesel::backend::Backend>(
    list: Vec<Box<dyn diesel::migration::Migration<DB>>>,
) -> Vec<String> {
    list.iter().map(|m| m.name().to_string()).collect()
}

fn versions(list: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

/// Start-up check: refuses a schema that `admin-service migrate` has not brought up to date.
pub async fn ensure_current(store: &super::Store) -> Result<(), String> {
    let pending = store
        .run(pending_migrations)
        .await
        .map_err(|e| format!("DATABASE_URL ({}): {e}", store.url()))?;
    if pending.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the database schema is not current ({} pending migrations): run `admin-service migrate` first",
            pending.len()
        ))
    }
}
