//! The doors of workload identity: trusted issuers (register, delete) and a client's keys
//! and identities (replace).
//!
//! Keys and identities hand over a client's whole power to whoever holds the key or runs
//! the workload, so, as for a new secret, the caller needs every scope the client holds
//! ([`Grant::TakeOver`]). A replacement that drops something trusted before (a key, the
//! `jwks_uri`, an identity) revokes the client's older tokens: a cut-off raised in the
//! change's transaction and once more after the commit, then announced. Setting them the
//! first time, or only adding to them, revokes nothing, but is still announced, so every
//! cache of the client (token-service's parsed keys among them) drops it. Deleting an
//! issuer revokes the older tokens of every client bound through it.

use super::clients::allow;
use super::policy::{Actor, Grant};
use super::{ChangeError, Changes, once_more_if_raced, refusable};
use crate::ids::ClientId;
use crate::store::audit::{self, NewAuditEvent};
use crate::store::federation::{self, Identity, Keys, TrustedIssuer};
use crate::store::{self, StoreError, clients as rows};
use crate::time::Timestamp;

impl Changes {
    /// Registers a trusted issuer, with `event`; [`ChangeError::IssuerExists`] when one with
    /// the same `iss` value is registered already.
    pub async fn create_issuer(
        &self,
        issuer: TrustedIssuer,
        event: NewAuditEvent,
    ) -> Result<(), ChangeError> {
        let created = self
            .store
            .run(move |conn| {
                once_more_if_raced(conn, |conn| {
                    store::transaction(conn, |conn| {
                        let created = federation::insert_issuer(conn, &issuer)?;
                        if created {
                            audit::insert(conn, &event)?;
                        }
                        Ok(created)
                    })
                })
            })
            .await?;
        if created {
            Ok(())
        } else {
            Err(ChangeError::IssuerExists)
        }
    }

    /// Deletes trusted issuer `id` and every binding through it, and revokes the tokens the
    /// clients bound through it hold now. Returns those clients.
    pub async fn delete_issuer(
        &self,
        id: &str,
        now: Timestamp,
        event: NewAuditEvent,
    ) -> Result<Vec<ClientId>, ChangeError> {
        let issuer = id.to_owned();
        let bound = self
            .store
            .run(move |conn| {
                store::transaction(conn, |conn| {
                    let Some(bound) = federation::delete_issuer(conn, &issuer)? else {
                        return Ok(None);
                    };
                    for client in &bound {
                        rows::raise_cutoff(conn, client, now)?;
                    }
                    audit::insert(conn, &event)?;
                    Ok(Some(bound))
                })
            })
            .await?
            .ok_or(ChangeError::IssuerNotFound)?;
        for client in &bound {
            self.cut_off_until_now(client, rows::raise_cutoff).await?;
        }
        Ok(bound)
    }

    /// Replaces a client's public keys (none, inline, or a `jwks_uri`), if `actor` holds
    /// every scope of the client. Returns whether the client's older tokens were revoked
    /// (a key or the URL it had is gone).
    pub async fn set_client_keys(
        &self,
        actor: Actor<'_>,
        id: &ClientId,
        keys: Keys,
        now: Timestamp,
        event: NewAuditEvent,
    ) -> Result<bool, ChangeError> {
        let held = self.live_scopes(id).await?;
        allow(actor, Grant::TakeOver(&held))?;
        let revoked = self
            .write_audited(id, event, move |conn, id| {
                let Some(client) = rows::find(conn, id)? else {
                    return Ok(None);
                };
                let before =
                    Keys::from_columns(client.jwks.as_deref(), client.jwks_uri.as_deref())?;
                let (jwks, jwks_uri) = keys.to_columns();
                federation::set_keys(conn, id, jwks.as_deref(), jwks_uri.as_deref(), now)?;
                let revokes = keys.drops_from(&before);
                if revokes {
                    rows::raise_cutoff(conn, id, now)?;
                }
                Ok(Some(revokes))
            })
            .await?;
        self.announce(id, revoked).await?;
        Ok(revoked)
    }

    /// Replaces the workload identities bound to a client, if `actor` holds every scope of
    /// the client. Identities of unknown issuers, or bound to another client, are refused
    /// ([`ChangeError::Identities`]) and nothing changes. Returns whether the client's older
    /// tokens were revoked (an identity it had is gone).
    pub async fn set_client_identities(
        &self,
        actor: Actor<'_>,
        id: &ClientId,
        mut wanted: Vec<Identity>,
        now: Timestamp,
        event: NewAuditEvent,
    ) -> Result<bool, ChangeError> {
        let held = self.live_scopes(id).await?;
        allow(actor, Grant::TakeOver(&held))?;
        let mut seen = Vec::with_capacity(wanted.len());
        wanted.retain(|identity| {
            let new = !seen.contains(identity);
            if new {
                seen.push(identity.clone());
            }
            new
        });
        let target = id.clone();
        let (revoked, concerned) = self
            .store
            .run(move |conn| {
                once_more_if_raced(conn, |conn| {
                    refusable(conn, |conn| {
                        replace_identities(conn, &target, &wanted, now, &event)
                    })
                })
            })
            .await??;
        self.announce(id, revoked).await?;
        let issuers: Vec<String> = concerned.into_iter().map(|i| i.issuer).collect();
        self.announce_bound_through(id, issuers).await?;
        Ok(revoked)
    }

    /// After a change of `id`'s bindings through `issuers`: every other client bound
    /// through them is announced too, so a verifier that remembered a workload resolved to
    /// one of them resolves it again (a more specific binding may win now, DESIGN: "the
    /// most specific binding wins").
    pub(super) async fn announce_bound_through(
        &self,
        id: &ClientId,
        issuers: Vec<String>,
    ) -> Result<(), StoreError> {
        if issuers.is_empty() {
            return Ok(());
        }
        let others = self
            .store
            .run(move |conn| {
                let issuers: Vec<&str> = issuers.iter().map(String::as_str).collect();
                federation::clients_bound_through(conn, &issuers)
            })
            .await?;
        for other in others.iter().filter(|other| *other != id) {
            self.revocations
                .publish_client_changed(other.as_str())
                .await;
        }
        Ok(())
    }

    /// After a change to a client's credentials has committed: its older tokens revoked
    /// when `revoked`, else only the change announced.
    async fn announce(&self, id: &ClientId, revoked: bool) -> Result<(), StoreError> {
        if revoked {
            self.cut_off_until_now(id, rows::raise_cutoff).await
        } else {
            self.revocations.publish_client_changed(id.as_str()).await;
            Ok(())
        }
    }
}

/// Binds `wanted` to live client `id` instead of what it had, raising its cut-off when an
/// identity is gone, and records `event`; refuses a missing client or unbindable identities.
/// Answers whether it revoked, and every identity concerned (before and after).
fn replace_identities(
    conn: &mut store::DbConnection,
    id: &ClientId,
    wanted: &[Identity],
    now: Timestamp,
    event: &NewAuditEvent,
) -> Result<Result<(bool, Vec<Identity>), ChangeError>, StoreError> {
    if rows::find(conn, id)?.is_none() {
        return Ok(Err(ChangeError::NotFound));
    }
    let before = match federation::replace_identities(conn, id, wanted)? {
        Ok(before) => before,
        Err(refusal) => return Ok(Err(ChangeError::Identities(refusal))),
    };
    let revokes = before.iter().any(|identity| !wanted.contains(identity));
    if revokes {
        rows::raise_cutoff(conn, id, now)?;
    }
    audit::insert(conn, event)?;
    let mut concerned = before;
    concerned.extend(wanted.iter().cloned());
    Ok(Ok((revokes, concerned)))
}
