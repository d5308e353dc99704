//! Revocation: is a verified token still good? The database is the truth.
//!
//! A token is revoked when its `jti` was revoked, when its client is gone, or when it was
//! issued (to the microsecond) before its client's cut-off: deletion, scope removal, secret
//! rotation and revoke-all all raise that cut-off. Root tokens have no client row; only
//! their `jti` can be revoked.

use diesel::prelude::*;

use crate::ids::ClientId;
use crate::store::schema::revoked_tokens;
use crate::store::{DbConnection, StoreError, clients};
use crate::token::VerifiedToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    /// Revoked by `jti`.
    RevokedToken,
    /// Issued before its client's cut-off.
    RevokedByClientCutoff,
    /// Its client was deleted or never existed.
    UnknownClient,
}

/// Checks a token that already passed signature and claim verification.
pub fn status(
    conn: &mut DbConnection,
    token: &VerifiedToken,
    root: &ClientId,
) -> Result<TokenStatus, StoreError> {
    let revoked: i64 = revoked_tokens::table
        .filter(revoked_tokens::jti.eq(&token.claims.jti))
        .count()
        .get_result(conn)?;
    if revoked > 0 {
        return Ok(TokenStatus::RevokedToken);
    }
    if token.client_id == *root {
        return Ok(TokenStatus::Active);
    }
    Ok(match clients::cutoff(conn, token.client_id.as_str())? {
        None | Some((_, true)) => TokenStatus::UnknownClient,
        Some((valid_after, false)) if token.issued_at.as_micros() < valid_after => {
            TokenStatus::RevokedByClientCutoff
        }
        Some(_) => TokenStatus::Active,
    })
}
