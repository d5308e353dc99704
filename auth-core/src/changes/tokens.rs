//! The door of single-token revocation: admin-service's `POST /api/v1/oauth/revocation`
//! and token-service's RFC 7009 endpoint both go through it.

use super::Changes;
use crate::ids::{ClientId, TokenId};
use crate::revocation::db;
use crate::store::audit::{self, NewAuditEvent};
use crate::store::{self, StoreError};
use crate::time::Timestamp;

/// One token to revoke.
#[derive(Debug, Clone)]
pub struct TokenRevocation {
    pub jti: TokenId,
    pub client_id: ClientId,
    /// When the token expires anyway: the record is kept until then.
    pub expires_at: Timestamp,
}

impl Changes {
    /// Revokes one token: recorded (with `event`, when the change is audited) until it
    /// expires, then announced to every verifier. Revoking twice is not an error.
    pub async fn revoke_token(
        &self,
        token: &TokenRevocation,
        now: Timestamp,
        event: Option<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        let record = token.clone();
        let first = self
            .store
            .run(move |conn| {
                let insert = |conn: &mut store::DbConnection| {
                    db::insert_revoked(conn, &record.jti, &record.client_id, record.expires_at, now)
                };
                match event {
                    Some(event) => store::transaction(conn, |conn| {
                        let first = insert(conn)?;
                        audit::insert(conn, &event)?;
                        Ok(first)
                    }),
                    None => insert(conn),
                }
            })
            .await?;
        self.revocations
            .publish_token_revoked(&token.jti, token.expires_at, first)
            .await;
        Ok(())
    }
}
