//! Revocation in the database, the source of truth (feature `server`).

use diesel::prelude::*;

use super::{DELETED, TokenStatus};
use crate::ids::ClientId;
use crate::store::schema::{clients, revoked_tokens};
use crate::store::{DbConnection, StoreError};
use crate::time::Timestamp;
use crate::token::VerifiedToken;

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
    Ok(
        match crate::store::clients::cutoff(conn, token.client_id.as_str())? {
            None | Some((_, true)) => TokenStatus::UnknownClient,
            Some((valid_after, false)) if token.issued_at.as_micros() < valid_after => {
                TokenStatus::RevokedByClientCutoff
            }
            Some(_) => TokenStatus::Active,
        },
    )
}

/// Records a revoked token until it would have expired. Revoking twice is not an error.
pub fn insert_revoked(
    conn: &mut DbConnection,
    jti: &str,
    client_id: &str,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<(), StoreError> {
    let exists: i64 = revoked_tokens::table
        .filter(revoked_tokens::jti.eq(jti))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(());
    }
    let inserted = diesel::insert_into(revoked_tokens::table)
        .values((
            revoked_tokens::jti.eq(jti),
            revoked_tokens::client_id.eq(client_id),
            revoked_tokens::revoked_at.eq(now.as_micros()),
            revoked_tokens::expires_at.eq(expires_at.as_micros()),
        ))
        .execute(conn);
    match inserted {
        Ok(_)
        | Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Revocations for the shared cache: revoked tokens `(jti, expires_at_secs)` and client
/// cut-offs `(client_id, cutoff)` (`DELETED` for deleted clients).
#[derive(Debug, Default)]
pub struct RevocationSet {
    pub tokens: Vec<(String, i64)>,
    pub cutoffs: Vec<(String, i64)>,
}

/// Everything that still matters at `now`: tokens not yet expired, cut-offs that could still
/// cover an unexpired token.
pub fn all_active(
    conn: &mut DbConnection,
    now: Timestamp,
    lifetime_secs: i64,
) -> Result<RevocationSet, StoreError> {
    changed_since(conn, now, now.plus_secs(-lifetime_secs))
}

/// What changed at or after `since` (the syncer re-applies these; applying is idempotent).
pub fn changed_since(
    conn: &mut DbConnection,
    now: Timestamp,
    since: Timestamp,
) -> Result<RevocationSet, StoreError> {
    let tokens: Vec<(String, i64)> = revoked_tokens::table
        .filter(revoked_tokens::expires_at.gt(now.as_micros()))
        .filter(revoked_tokens::revoked_at.ge(since.as_micros()))
        .select((revoked_tokens::jti, revoked_tokens::expires_at))
        .load(conn)?;
    let rows: Vec<(String, i64, Option<i64>)> = clients::table
        .filter(clients::tokens_valid_after.ge(since.as_micros()))
        .select((
            clients::id,
            clients::tokens_valid_after,
            clients::deleted_at,
        ))
        .load(conn)?;
    Ok(RevocationSet {
        tokens: tokens
            .into_iter()
            .map(|(jti, expires)| (jti, Timestamp::from_micros(expires).as_secs() + 1))
            .collect(),
        cutoffs: rows
            .into_iter()
            .map(|(id, after, deleted)| (id, if deleted.is_some() { DELETED } else { after }))
            .collect(),
    })
}

/// Deletes what no longer matters: expired revoked tokens, and deleted clients whose every
/// token has expired. Returns the number of rows removed.
pub fn purge(
    conn: &mut DbConnection,
    now: Timestamp,
    lifetime_secs: i64,
) -> Result<usize, StoreError> {
    let tokens = diesel::delete(
        revoked_tokens::table.filter(revoked_tokens::expires_at.le(now.as_micros())),
    )
    .execute(conn)?;
    let horizon = now.plus_secs(-lifetime_secs - 60).as_micros();
    let deleted =
        diesel::delete(clients::table.filter(clients::deleted_at.lt(horizon))).execute(conn)?;
    Ok(tokens + deleted)
}
