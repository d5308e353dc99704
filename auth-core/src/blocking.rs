//! Blocking work (pool checkout, queries, bcrypt) off the async workers, in the caller's span.

/// The blocking task panicked or was cancelled at shutdown.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the blocking task did not complete")]
pub struct Cancelled;

/// Runs `work` on tokio's blocking pool, keeping the current tracing span.
pub async fn run<T, F>(work: F) -> Result<T, Cancelled>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work))
        .await
        .map_err(|_| Cancelled)
}
