//! Revocation in the database, the source of truth (feature `server`).

use diesel::prelude::*;

use super::{Cutoff, TokenStatus, decide};
use crate::ids::{ClientId, TokenId};
use crate::store::schema::{clients, revoked_tokens, root_cutoffs};
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
        .filter(revoked_tokens::jti.eq(token.claims.jti.as_str()))
        .count()
        .get_result(conn)?;
    if revoked > 0 {
        return Ok(TokenStatus::RevokedToken);
    }
    let cutoff = if token.client_id == *root {
        let valid_after: Option<i64> = root_cutoffs::table
            .find(root.as_str())
            .select(root_cutoffs::tokens_valid_after)
            .first(conn)
            .optional()?;
        valid_after.map_or(Cutoff::NONE, |at| {
            Cutoff::Before(Timestamp::from_micros(at))
        })
    } else {
        match crate::store::clients::cutoff(conn, token.client_id.as_str())? {
            // A client that never existed is as good as deleted.
            None | Some((_, true)) => Cutoff::Deleted,
            Some((valid_after, false)) => Cutoff::Before(Timestamp::from_micros(valid_after)),
        }
    };
    Ok(decide(false, cutoff, token.issued_at))
}

/// Records a revoked token until it would have expired; true if this call recorded it.
/// Revoking twice is not an error.
pub fn insert_revoked(
    conn: &mut DbConnection,
    jti: &TokenId,
    client_id: &ClientId,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let exists: i64 = revoked_tokens::table
        .filter(revoked_tokens::jti.eq(jti.as_str()))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(false);
    }
    let inserted = diesel::insert_into(revoked_tokens::table)
        .values((
            revoked_tokens::jti.eq(jti.as_str()),
            revoked_tokens::client_id.eq(client_id.as_str()),
            revoked_tokens::revoked_at.eq(now.as_micros()),
            revoked_tokens::expires_at.eq(expires_at.as_micros()),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Raises the root client's cut-off to `at` (never lowers it): every root token issued
/// before `at` is revoked. The root has no client row, so its cut-off has a table of its own.
pub fn raise_root_cutoff(
    conn: &mut DbConnection,
    root: &ClientId,
    at: Timestamp,
) -> Result<(), StoreError> {
    let row = || root_cutoffs::table.find(root.as_str());
    let exists: i64 = row().count().get_result(conn)?;
    if exists == 0 {
        diesel::insert_into(root_cutoffs::table)
            .values((
                root_cutoffs::client_id.eq(root.as_str()),
                root_cutoffs::tokens_valid_after.eq(at.as_micros()),
            ))
            .execute(conn)?;
        return Ok(());
    }
    diesel::update(row().filter(root_cutoffs::tokens_valid_after.lt(at.as_micros())))
        .set(root_cutoffs::tokens_valid_after.eq(at.as_micros()))
        .execute(conn)?;
    Ok(())
}

/// Revocations for the shared cache: revoked tokens `(jti, token expiry in seconds)` and client
/// cut-offs `(client_id, cutoff)`.
#[derive(Debug, Default)]
pub struct RevocationSet {
    pub tokens: Vec<(String, i64)>,
    pub cutoffs: Vec<(String, Cutoff)>,
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
    let still_accepted = now.plus_secs(-super::EXPIRY_MARGIN_SECS).as_micros();
    let tokens: Vec<(String, i64)> = revoked_tokens::table
        .filter(revoked_tokens::expires_at.gt(still_accepted))
        .filter(revoked_tokens::revoked_at.ge(since.as_micros()))
        .select((revoked_tokens::jti, revoked_tokens::expires_at))
        .load(conn)?;
    // A cut-off at the client's creation revokes nothing (no token predates the client):
    // only raised cut-offs and deletions are carried to Redis and every verifier's copy.
    let rows: Vec<(String, i64, Option<i64>)> = clients::table
        .filter(clients::tokens_valid_after.ge(since.as_micros()))
        .filter(
            clients::tokens_valid_after
                .gt(clients::created_at)
                .or(clients::deleted_at.is_not_null()),
        )
        .select((
            clients::id,
            clients::tokens_valid_after,
            clients::deleted_at,
        ))
        .load(conn)?;
    let root_rows: Vec<(String, i64)> = root_cutoffs::table
        .filter(root_cutoffs::tokens_valid_after.ge(since.as_micros()))
        .select((root_cutoffs::client_id, root_cutoffs::tokens_valid_after))
        .load(conn)?;
    Ok(RevocationSet {
        tokens: tokens
            .into_iter()
            .map(|(jti, expires)| (jti, Timestamp::from_micros(expires).as_secs()))
            .collect(),
        cutoffs: rows
            .into_iter()
            .map(|(id, after, deleted)| (id, after, deleted.is_some()))
            .chain(root_rows.into_iter().map(|(id, after)| (id, after, false)))
            .map(|(id, after, deleted)| {
                let cutoff = if deleted {
                    Cutoff::Deleted
                } else {
                    Cutoff::Before(Timestamp::from_micros(after))
                };
                (id, cutoff)
            })
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
    let margin = super::EXPIRY_MARGIN_SECS;
    let expired = now.plus_secs(-margin).as_micros();
    let tokens =
        diesel::delete(revoked_tokens::table.filter(revoked_tokens::expires_at.le(expired)))
            .execute(conn)?;
    let horizon = now.plus_secs(-lifetime_secs - margin).as_micros();
    let deleted =
        diesel::delete(clients::table.filter(clients::deleted_at.lt(horizon))).execute(conn)?;
    Ok(tokens + deleted)
}
