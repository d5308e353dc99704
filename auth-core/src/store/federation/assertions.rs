//! The record of `private_key_jwt` assertions already used, so a replayed assertion is
//! refused.

use diesel::prelude::*;

use crate::store::StoreError;
use crate::store::connection::DbConnection;
use crate::store::schema::used_assertions;
use crate::time::Timestamp;

/// Records the first use of assertion `id` (client id and `jti`), kept until
/// `expires_at`; `false` when it was used before (a replay). Expired records are removed
/// on the way.
pub fn use_assertion(
    conn: &mut DbConnection,
    id: &str,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<bool, StoreError> {
    diesel::delete(used_assertions::table.filter(used_assertions::expires_at.le(now.as_micros())))
        .execute(conn)?;
    let inserted = diesel::insert_into(used_assertions::table)
        .values((
            used_assertions::id.eq(id),
            used_assertions::expires_at.eq(expires_at.as_micros()),
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
