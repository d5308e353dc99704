//! `Store::run`: turns bounded by the checkout timeout, and pooled connections the server dropped.

use std::time::Duration;

use super::{CHECKOUT_TIMEOUT, DatabaseUrl, Store, StoreError};

/// A store of `connections` on a fresh SQLite file (nothing is queried: the closures only
/// hold their connection).
fn store(dir: &tempfile::TempDir, connections: u32) -> Store {
    let url =
        DatabaseUrl::parse(&format!("sqlite://{}", dir.path().join("db").display())).expect("url");
    Store::new(&url, connections)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_turn_within_the_checkout_timeout_is_unavailable() {
    let dir = tempfile::tempdir().expect("dir");
    let store = store(&dir, 1);
    let holder = store.clone();
    let held = tokio::spawn(async move {
        holder
            .run(|_| {
                std::thread::sleep(CHECKOUT_TIMEOUT + Duration::from_millis(500));
                Ok(())
            })
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = store.run(|_| Ok(())).await;
    assert!(matches!(refused, Err(StoreError::Busy)), "{refused:?}");
    assert!(refused.is_err_and(|e| e.is_unavailable()));
    held.await.expect("task").expect("run");
}

/// The server-side process id of the connection a query runs on.
fn backend_pid(conn: &mut super::DbConnection) -> Result<i32, StoreError> {
    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    use diesel::RunQueryDsl as _;
    let rows: Vec<Pid> = diesel::sql_query("SELECT pg_backend_pid() AS pid").load(conn)?;
    Ok(rows[0].pid)
}

/// Ends backend `pid` from another connection, as a server restart would.
fn terminate(store: &Store, pid: i32) {
    use diesel::RunQueryDsl as _;
    let mut other = super::connection::ConnectionManager::new(store.url().clone())
        .establish()
        .expect("a second connection");
    diesel::sql_query(format!("SELECT pg_terminate_backend({pid})"))
        .execute(&mut other)
        .expect("terminate");
}

/// A connection used a moment ago is handed out without a `SELECT 1`; if the server ended it
/// meanwhile, the one query on it fails as unavailable and the pool replaces it. One idle
/// for longer than `RECENTLY_USED` is checked first and replaced without a failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_fails_once_when_recently_used_and_never_when_idle() {
    let Some(db) = crate::testing::TestDatabase::create(crate::testing::Backend::Postgres) else {
        return;
    };
    let store = Store::new(&db.url, 1);
    let first = store.run(backend_pid).await.expect("a first query");
    terminate(&store, first);
    let failed = store.run(backend_pid).await;
    assert!(
        failed.as_ref().is_err_and(StoreError::is_unavailable),
        "the recently used connection is not checked: {failed:?}"
    );
    let second = store.run(backend_pid).await.expect("a new connection");
    assert_ne!(second, first, "the broken connection was replaced");

    terminate(&store, second);
    tokio::time::sleep(super::connection::RECENTLY_USED + Duration::from_millis(200)).await;
    let third = store
        .run(backend_pid)
        .await
        .expect("checked and replaced at checkout");
    assert_ne!(third, second);
    let again = store.run(backend_pid).await.expect("the same connection");
    assert_eq!(again, third, "a healthy connection is kept");
}
