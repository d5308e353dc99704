//! One door for each change to a client, a token or a trusted issuer (feature `server`).
//!
//! A change is written to the database with its audit event in one transaction; a change
//! that revokes raises the client's cut-off once more right after the commit (so a token
//! request that read the client just before the commit is covered however late it signs),
//! and every change is announced on the change channel so each verifier and cache learns
//! of it at once. Each change here does all of that, in that order; handlers only parse,
//! authorize, call one of these and render. Whether a caller may hand over the scopes a
//! change hands over is decided by [`policy`], which the doors apply themselves.

mod clients;
mod federation;
pub mod policy;
mod tokens;

pub use clients::{ClientDetails, RotatedSecret};
pub use tokens::TokenRevocation;

use crate::ids::ClientId;
use crate::revocation::{Cutoff, Revocations};
use crate::scopes::Scope;
use crate::store::audit::{self, NewAuditEvent};
use crate::store::federation::BindError;
use crate::store::{self, DbConnection, Store, StoreError, clients as rows};
use crate::time::Timestamp;

/// Why a change was not made.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// No live client with that id.
    #[error("no such client")]
    NotFound,
    /// The caller would hand over scopes it does not hold (see [`policy`]); nothing changed.
    #[error("the caller does not hold every scope the change hands over")]
    Escalation(Vec<Scope>),
    /// No trusted issuer with that id.
    #[error("no such trusted issuer")]
    IssuerNotFound,
    /// A trusted issuer with the same `iss` value is registered already.
    #[error("the issuer is registered already")]
    IssuerExists,
    /// Identities that cannot be bound (unknown issuers, or subjects another client holds);
    /// nothing changed.
    #[error("the identities cannot be bound")]
    Identities(BindError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The doors: the store changes are written to, and the revocation state they announce on.
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct Changes {
    store: Store,
    revocations: Revocations,
}

impl Changes {
    pub fn new(store: Store, revocations: Revocations) -> Self {
        Self { store, revocations }
    }

    /// A live client's scopes, for the policy; [`ChangeError::NotFound`] without one.
    async fn live_scopes(&self, id: &ClientId) -> Result<Vec<Scope>, ChangeError> {
        let id = id.clone();
        self.store
            .run(move |conn| rows::live_scopes(conn, &id))
            .await?
            .ok_or(ChangeError::NotFound)
    }

    /// Runs `write` on client `id` and records `event`, in one transaction. `write` answers
    /// `None` when there is no such live client: then nothing is recorded, and the change
    /// is [`ChangeError::NotFound`].
    async fn write_audited<T, F>(
        &self,
        id: &ClientId,
        event: NewAuditEvent,
        write: F,
    ) -> Result<T, ChangeError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection, &ClientId) -> Result<Option<T>, StoreError> + Send + 'static,
    {
        let target = id.clone();
        self.store
            .run(move |conn| {
                store::transaction(conn, |conn| {
                    let written = write(conn, &target)?;
                    if written.is_some() {
                        audit::insert(conn, &event)?;
                    }
                    Ok(written)
                })
            })
            .await?
            .ok_or(ChangeError::NotFound)
    }

    /// After a change has committed, revokes every token of `id` issued up to this instant
    /// with `raise` (a client's cut-off, or the root's), and tells every verifier.
    async fn cut_off_until_now(&self, id: &ClientId, raise: Raise) -> Result<(), StoreError> {
        let at = Timestamp::now();
        let target = id.clone();
        self.store.run(move |conn| raise(conn, &target, at)).await?;
        self.revocations
            .publish_cutoff(id.as_str(), Cutoff::Before(at))
            .await;
        Ok(())
    }
}

/// Runs `work` in one transaction that a refusal rolls back as a failure would: a change
/// that finds, halfway, that it may not be made leaves nothing behind.
fn refusable<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<Result<T, ChangeError>, StoreError>,
) -> Result<Result<T, ChangeError>, StoreError> {
    use diesel::Connection as _;

    enum Abort {
        Refused(ChangeError),
        Failed(StoreError),
    }
    impl From<diesel::result::Error> for Abort {
        fn from(error: diesel::result::Error) -> Self {
            Self::Failed(error.into())
        }
    }
    let outcome = conn.transaction(|conn| match work(conn) {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(refusal)) => Err(Abort::Refused(refusal)),
        Err(error) => Err(Abort::Failed(error)),
    });
    match outcome {
        Ok(done) => Ok(Ok(done)),
        Err(Abort::Refused(refusal)) => Ok(Err(refusal)),
        Err(Abort::Failed(error)) => Err(error),
    }
}

/// Runs `attempt`, and once more if it lost a race to a concurrent write on a unique key
/// (two clients binding the same subject, two registrations of one issuer): the second
/// attempt sees the winner and is refused as it should be, instead of failing.
fn once_more_if_raced<T>(
    conn: &mut DbConnection,
    attempt: impl Fn(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    match attempt(conn) {
        Err(StoreError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) => attempt(conn),
        other => other,
    }
}

/// Raises a cut-off (never lowers it).
type Raise = fn(&mut DbConnection, &ClientId, Timestamp) -> Result<(), StoreError>;

/// `write(conn)` if `id` is a live client, else `None`.
fn if_live<T>(
    conn: &mut DbConnection,
    id: &ClientId,
    write: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    if rows::find(conn, id)?.is_none() {
        return Ok(None);
    }
    write(conn).map(Some)
}
