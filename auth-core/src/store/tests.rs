//! `Store::run`'s turns: bounded by the checkout timeout.

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
