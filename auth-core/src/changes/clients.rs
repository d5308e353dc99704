//! The doors of client changes: create, delete, replace scopes, rotate the secret, set
//! limits, and revoke every token (of a client, or of the root client).

use super::policy::{self, Actor, Grant};
use super::{ChangeError, Changes, if_live, once_more_if_raced, refusable};
use crate::ids::ClientId;
use crate::limits::ClientLimits;
use crate::revocation::{Cutoff, db};
use crate::scopes::Scope;
use crate::secret::{ClientSecret, SecretHash};
use crate::store::audit::{self, NewAuditEvent};
use crate::store::federation::{self, Identity, Keys};
use crate::store::{self, clients as rows};
use crate::time::Timestamp;

/// What a new client is made of, besides its generated id and secret.
#[derive(Debug, Clone, Default)]
pub struct ClientDetails {
    pub name: Option<String>,
    pub description: Option<String>,
    /// Registered scopes (the caller checked them against the registry).
    pub scopes: Vec<Scope>,
    /// Further audiences its tokens may name (absolute URIs, checked by the caller).
    pub audiences: Vec<String>,
    /// Its public keys for `private_key_jwt` (checked by the caller).
    pub keys: Keys,
    /// The workload identities that authenticate it.
    pub identities: Vec<Identity>,
}

impl ClientDetails {
    /// A client with keys or identities and no other credential gets no secret.
    pub fn is_secret_less(&self) -> bool {
        !self.keys.is_none() || !self.identities.is_empty()
    }
}

/// A new secret, shown once, and until when the previous one still works.
#[derive(Debug)]
pub struct RotatedSecret {
    pub secret: ClientSecret,
    pub previous_until: Option<Timestamp>,
}

/// Refuses what `actor` may not hand over.
pub(super) fn allow(actor: Actor<'_>, grant: Grant<'_>) -> Result<(), ChangeError> {
    let unheld = policy::unheld(actor, grant);
    if unheld.is_empty() {
        Ok(())
    } else {
        Err(ChangeError::Escalation(unheld))
    }
}

impl Changes {
    /// Creates client `id`, if `actor` holds every scope it gets; `event` is recorded with
    /// it. Returns its secret, generated here, or `None` for a client created with keys or
    /// identities, which is secret-less (until a rotation gives it a secret). Identities of
    /// unknown issuers, or bound to another client already, are refused and nothing is
    /// created.
    pub async fn create_client(
        &self,
        actor: Actor<'_>,
        id: &ClientId,
        details: ClientDetails,
        now: Timestamp,
        event: NewAuditEvent,
    ) -> Result<Option<ClientSecret>, ChangeError> {
        allow(actor, Grant::NewClient(&details.scopes))?;
        let secret = (!details.is_secret_less()).then(ClientSecret::generate);
        let hash = secret.as_ref().map(SecretHash::of);
        let issuers: Vec<String> = details
            .identities
            .iter()
            .map(|identity| identity.issuer.clone())
            .collect();
        let target = id.clone();
        self.store
            .run(move |conn| {
                once_more_if_raced(conn, |conn| {
                    refusable(conn, |conn| {
                        insert_client(conn, &target, hash.as_ref(), &details, now, &event)
                    })
                })
            })
            .await??;
        // A new binding may be more specific than another client's pattern.
        self.announce_bound_through(id, issuers).await?;
        Ok(secret)
    }

    /// Deletes a client: its scopes and secrets go, and every token of it is refused from
    /// then on.
    pub async fn delete_client(
        &self,
        id: &ClientId,
        now: Timestamp,
        event: NewAuditEvent,
    ) -> Result<(), ChangeError> {
        self.write_audited(id, event, move |conn, id| {
            if !rows::soft_delete(conn, id, now)? {
                return Ok(None);
            }
            // Its subjects are free to be bound to another client.
            federation::remove_identities(conn, id)?;
            Ok(Some(()))
        })
        .await?;
        self.cut_off_until_now(id, rows::raise_cutoff).await?;
        self.revocations
            .publish_cutoff(id.as_str(), Cutoff::Deleted)
            .await;
        Ok(())
    }

    /// Replaces a client's scopes with `wanted` (registered scopes), if `actor` holds every
    /// scope this adds. Removing any revokes the client's older tokens. Returns the scopes
    /// removed.
    pub async fn replace_scopes(
        &self,
        actor: Actor<'_>,
        id: &ClientId,
        wanted: Vec<Scope>,
        now: Timestamp,
        event: NewAuditEvent,
    ) -> Result<Vec<Scope>, ChangeError> {
        let current = self.live_scopes(id).await?;
        allow(
            actor,
            Grant::Replace {
                current: &current,
                wanted: &wanted,
            },
        )?;
        let removed = self
            .write_audited(id, event, move |conn, id| {
                if_live(conn, id, |conn| {
                    rows::replace_scopes(conn, id, &wanted, now)
                })
            })
            .await?;
        if removed.is_empty() {
            // Nothing to revoke, but caches of this client's scopes must drop them.
            self.revocations.publish_client_changed(id.as_str()).await;
        } else {
            self.cut_off_until_now(id, rows::raise_cutoff).await?;
        }
        Ok(removed)
    }

    /// Gives a client a new secret, if `actor` holds every scope of the client (the secret
    /// carries all of its power). The previous secret keeps working until `previous_until`
    /// when given; the client's older tokens are revoked.
    pub async fn rotate_secret(
        &self,
        actor: Actor<'_>,
        id: &ClientId,
        previous_until: Option<Timestamp>,
        now: Timestamp,
        event: NewAuditEvent,
    ) -> Result<RotatedSecret, ChangeError> {
        let held = self.live_scopes(id).await?;
        allow(actor, Grant::TakeOver(&held))?;
        let secret = ClientSecret::generate();
        let hash = SecretHash::of(&secret);
        self.write_audited(id, event, move |conn, id| {
            if_live(conn, id, |conn| {
                rows::rotate_secret(conn, id, &hash, previous_until, now)
            })
        })
        .await?;
        self.cut_off_until_now(id, rows::raise_cutoff).await?;
        Ok(RotatedSecret {
            secret,
            previous_until,
        })
    }

    /// Sets a client's own limits; every replica drops what it cached of the client, so
    /// its next request counts against them.
    pub async fn set_limits(
        &self,
        id: &ClientId,
        limits: ClientLimits,
        now: Timestamp,
        event: NewAuditEvent,
    ) -> Result<(), ChangeError> {
        self.write_audited(id, event, move |conn, id| {
            Ok(rows::set_limits(conn, id, limits, now)?.then_some(()))
        })
        .await?;
        self.revocations.publish_client_changed(id.as_str()).await;
        Ok(())
    }

    /// Revokes every token the client holds now; tokens issued afterwards work.
    pub async fn revoke_client_tokens(
        &self,
        id: &ClientId,
        now: Timestamp,
        event: NewAuditEvent,
    ) -> Result<(), ChangeError> {
        self.write_audited(id, event, move |conn, id| {
            if_live(conn, id, |conn| rows::raise_cutoff(conn, id, now))
        })
        .await?;
        Ok(self.cut_off_until_now(id, rows::raise_cutoff).await?)
    }

    /// Revokes every token of the root client `root` issued until now (the procedure for
    /// a leaked root secret). The root has no client row: its cut-off has a table of its
    /// own, raised again after the commit like any client's.
    pub async fn revoke_root_tokens(
        &self,
        root: &ClientId,
        now: Timestamp,
        event: NewAuditEvent,
    ) -> Result<(), ChangeError> {
        self.write_audited(root, event, move |conn, root| {
            db::raise_root_cutoff(conn, root, now).map(Some)
        })
        .await?;
        Ok(self.cut_off_until_now(root, db::raise_root_cutoff).await?)
    }
}

/// Writes a new client with its scopes, audiences, keys and identities, and its `event`;
/// refuses identities that cannot be bound.
fn insert_client(
    conn: &mut store::DbConnection,
    id: &ClientId,
    hash: Option<&SecretHash>,
    details: &ClientDetails,
    now: Timestamp,
    event: &NewAuditEvent,
) -> Result<Result<(), ChangeError>, store::StoreError> {
    let row = rows::NewClient {
        id: id.as_str(),
        secret_hash: hash.map_or(rows::NO_SECRET_HASH, SecretHash::as_str),
        name: details.name.as_deref(),
        description: details.description.as_deref(),
        created_at: now.as_micros(),
        updated_at: now.as_micros(),
        tokens_valid_after: now.as_micros(),
    };
    rows::insert(conn, &row, &details.scopes)?;
    if let Some(audiences) = federation::audiences_column(&details.audiences) {
        federation::set_audiences(conn, id, Some(&audiences), now)?;
    }
    if !details.keys.is_none() {
        let (jwks, jwks_uri) = details.keys.to_columns();
        federation::set_keys(conn, id, jwks.as_deref(), jwks_uri.as_deref(), now)?;
    }
    if !details.identities.is_empty()
        && let Err(refusal) = federation::replace_identities(conn, id, &details.identities)?
    {
        return Ok(Err(ChangeError::Identities(refusal)));
    }
    audit::insert(conn, event)?;
    Ok(Ok(()))
}
