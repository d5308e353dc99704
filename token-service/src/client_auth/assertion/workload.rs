//! Workload identity: a token a trusted platform issued to a workload (a Kubernetes
//! projected service-account token, a SPIFFE JWT-SVID, a CI system's OIDC token), verified
//! with the issuer's keys and resolved to the client its subject is bound to; a token that
//! verified is remembered by its digest until it expires, per client version.

use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use auth_core::ids::ClientId;
use auth_core::revocation::ClientVersion;
use auth_core::store::federation;
use auth_core::time::Timestamp;

use super::jws::{self, Assertion};
use super::{Keys, Refusal, current, insert_bounded};
use crate::client_auth::{AuthenticateError, AuthenticatedClient, ClientAuthenticator};

/// How long an issuer's registration (or its absence) is trusted without asking the
/// database again. Deleting an issuer takes effect at once regardless: it removes the
/// bindings and announces every bound client, whose cached state drops.
const ISSUER_TTL: Duration = Duration::from_secs(10);
/// The longest `iss` the admin API registers.
const MAX_ISSUER_LEN: usize = 512;

/// A trusted issuer as the token path needs it.
pub(super) struct Issuer {
    id: String,
    keys: Keys,
    /// Its tokens' `aud` must contain one of these.
    audiences: Vec<String>,
}

/// An issuer's registration, or its absence, and when it was read.
pub(super) type CachedIssuer = (Instant, Option<Arc<Issuer>>);

/// A platform token that verified, remembered until its `exp`.
pub(super) struct VerifiedPlatformToken {
    client_id: ClientId,
    version: ClientVersion,
    state_at: Timestamp,
    exp: i64,
}

impl ClientAuthenticator {
    /// Workload identity: a token of a trusted issuer whose subject is bound to a client.
    pub(super) async fn workload(
        &self,
        client_id: Option<ClientId>,
        token: &str,
        assertion: &Assertion<'_>,
        now: Timestamp,
    ) -> Result<Result<AuthenticatedClient, Refusal>, AuthenticateError> {
        // The skew lets an assertion pass a minute past its `exp`, but a token issued from
        // it expires with it (`expires_by`): one already expired is no use to anyone.
        if assertion.claims.exp <= now.as_secs() {
            return Ok(Err(Refusal::Expired));
        }
        let digest = jws::digest(token);
        let mut remembered = self.remembered_platform_token(&digest, now);
        loop {
            let from_memory = remembered.is_some();
            let (client, version, state_at) = match remembered.take() {
                Some(known) => known,
                None => match self.verify_platform_token(assertion, now).await? {
                    Ok(found) => found,
                    Err(refusal) => return Ok(Err(refusal)),
                },
            };
            if client_id.as_ref().is_some_and(|id| *id != client) {
                return Ok(Err(Refusal::ClientIdMismatch));
            }
            let Some(record) = self.client_record(&client, now).await? else {
                return Ok(Err(Refusal::NoBinding));
            };
            if from_memory && version.is_some_and(|version| version != record.version) {
                // Remembered before a change of the client: resolve the binding again.
                continue;
            }
            if let Some(version) = version {
                insert_bounded(
                    &self.assertions.platform_tokens,
                    digest,
                    VerifiedPlatformToken {
                        client_id: client.clone(),
                        version,
                        state_at,
                        exp: assertion.claims.exp,
                    },
                );
            }
            let state_at = record.state_at.min(state_at);
            let mut authenticated = AuthenticatedClient::granted(client, record.granted, state_at);
            authenticated.expires_by = Some(assertion.claims.exp);
            return Ok(Ok(authenticated));
        }
    }

    /// A platform token verified before, still unexpired, whose client has not changed.
    fn remembered_platform_token(
        &self,
        digest: &[u8; 32],
        now: Timestamp,
    ) -> Option<(ClientId, Option<ClientVersion>, Timestamp)> {
        let tokens = self
            .assertions
            .platform_tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let known = tokens.get(digest)?;
        let state = self.revocations.client_state(known.client_id.as_str());
        (known.exp > now.as_secs() && current(state, known.version, known.state_at))
            .then(|| (known.client_id.clone(), Some(known.version), known.state_at))
    }

    /// Verifies a platform token and finds the client bound to its subject: the client,
    /// its version when the binding was read (`None` when this process follows no change
    /// channel, and so must not remember), and when.
    async fn verify_platform_token(
        &self,
        assertion: &Assertion<'_>,
        now: Timestamp,
    ) -> Result<Result<(ClientId, Option<ClientVersion>, Timestamp), Refusal>, AuthenticateError>
    {
        let Some(issuer) = self.trusted_issuer(&assertion.claims.iss).await? else {
            return Ok(Err(Refusal::UnknownIssuer));
        };
        let key = match self.key(&issuer.keys, assertion.kid.as_deref(), true).await {
            Ok(key) => key,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let checks = assertion
            .verify_with(&key)
            .await
            .and_then(|()| assertion.check_times(now))
            .and_then(|()| {
                if assertion.is_for_any(&issuer.audiences) {
                    Ok(())
                } else {
                    Err(Refusal::WrongAudience)
                }
            });
        if let Err(refusal) = checks {
            return Ok(Err(refusal));
        }
        let (issuer_id, subject) = (issuer.id.clone(), assertion.claims.sub.clone());
        // Read before the binding: a revoking change meanwhile raises the client's cut-off
        // past it, so the remembered binding is stale at once. (The version below is read
        // just after the binding; a mere announcement arriving in between is missed until
        // the client's next change or the platform token's expiry.)
        let read_at = Timestamp::now();
        let bound = self
            .store
            .run(move |conn| federation::bound_client(conn, &issuer_id, &subject))
            .await?;
        let Some(client) = bound else {
            return Ok(Err(Refusal::NoBinding));
        };
        let version = self
            .revocations
            .client_state(client.as_str())
            .map(|state| state.version);
        Ok(Ok((client, version, read_at)))
    }

    /// The registered issuer whose `iss` is `iss`, from a short-lived cache.
    async fn trusted_issuer(&self, iss: &str) -> Result<Option<Arc<Issuer>>, AuthenticateError> {
        let now = Instant::now();
        if let Some((at, issuer)) = self
            .assertions
            .issuers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(iss)
            && now.duration_since(*at) < ISSUER_TTL
        {
            return Ok(issuer.clone());
        }
        let name = iss.to_owned();
        let row = self
            .store
            .run(move |conn| federation::issuer_named(conn, &name))
            .await?;
        let issuer = row.map(|row| {
            let audiences = row
                .audiences
                .as_deref()
                .and_then(|json| serde_json::from_str::<Vec<String>>(json).ok())
                .filter(|list| !list.is_empty())
                .unwrap_or_else(|| vec![self.assertions.own_audiences[0].clone()]);
            Arc::new(Issuer {
                keys: Keys::of(row.jwks.as_deref(), row.jwks_uri.as_deref()),
                id: row.id,
                audiences,
            })
        });
        // An unknown `iss` is remembered too (a stream of them costs one query each per
        // ten seconds), unless it is longer than any registered one can be.
        if issuer.is_some() || iss.len() <= MAX_ISSUER_LEN {
            insert_bounded(
                &self.assertions.issuers,
                iss.to_owned(),
                (now, issuer.clone()),
            );
        }
        Ok(issuer)
    }
}
