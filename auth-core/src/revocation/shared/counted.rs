//! The shared cache's public face: each command, with its failures counted by operation
//! (the commands themselves are in the parent module).

use super::{Announce, Change, SharedAnswer, SharedCache, SharedError};

/// The public face of the commands above: each failure is counted by operation.
impl SharedCache {
    /// `None` when the cache is not complete (flushed, restarted, not yet built).
    #[tracing::instrument(name = "redis.lookup", skip_all)]
    pub(crate) async fn lookup(
        &self,
        jti: &str,
        client_id: &str,
    ) -> Result<Option<SharedAnswer>, SharedError> {
        let result = self.lookup_inner(jti, client_id).await;
        self.count_error(&result, "lookup");
        result
    }

    /// Records a revoked token expiring at `expires_at` (seconds); true if it was news.
    #[tracing::instrument(name = "redis.revoke_token", skip_all)]
    pub(crate) async fn token_revoked(
        &self,
        jti: &str,
        expires_at: i64,
        announce: Announce,
    ) -> Result<bool, SharedError> {
        let result = self
            .change(Change::Token { jti, expires_at }, announce)
            .await;
        self.count_error(&result, "revoke_token");
        result
    }

    /// Announces a client change that revokes nothing.
    #[tracing::instrument(name = "redis.client_changed", skip_all)]
    pub(crate) async fn client_changed(&self, client_id: &str) -> Result<(), SharedError> {
        let result = self
            .change(Change::Client { client_id }, Announce::Always)
            .await
            .map(drop);
        self.count_error(&result, "client_changed");
        result
    }

    /// Raises a client's cut-off, keeping it for `keep_ms`; true if it rose.
    #[tracing::instrument(name = "redis.raise_cutoff", skip_all)]
    pub(crate) async fn cutoff_raised(
        &self,
        client_id: &str,
        cutoff: i64,
        keep_ms: i64,
        announce: Announce,
    ) -> Result<bool, SharedError> {
        let change = Change::Cutoff {
            client_id,
            cutoff,
            keep_ms,
        };
        let result = self.change(change, announce).await;
        self.count_error(&result, "raise_cutoff");
        result
    }

    fn count_error<T>(&self, result: &Result<T, SharedError>, operation: &'static str) {
        if result.is_err() {
            self.metrics.redis_error(operation);
            self.forget_connection();
        }
    }
}
