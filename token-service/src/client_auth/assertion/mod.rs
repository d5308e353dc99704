//! Client authentication by assertion (`client_assertion_type=…jwt-bearer`, RFC 7523 §2.2):
//! `private_key_jwt`, signed by one of the client's registered keys, and workload identity,
//! a token a trusted platform issued to a workload (a Kubernetes projected service-account
//! token, a SPIFFE JWT-SVID, a CI system's OIDC token) bound to a client by its subject.
//!
//! Which one an assertion is follows from its claims: `iss` = `sub` is a client speaking
//! for itself (`private_key_jwt`); anything else must come from a registered issuer. Every
//! refusal is the same 401 to the caller; its [`Refusal`] goes to the log, the assertion
//! never does.
//!
//! What makes the warm path cheap: a client's parsed keys and grants are cached per client
//! version (any change announced for the client drops them, as for secrets), fetched key
//! sets per URL ([`keysets`]), and a platform token that verified once is remembered by its
//! digest until it expires (platforms reuse their tokens for up to an hour), so a repeated
//! one costs a hash, not an RSA verification.

pub mod jws;
pub mod keysets;
pub mod replay;
mod workload;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use auth_core::ids::ClientId;
use auth_core::revocation::{ClientState, ClientVersion};
use auth_core::time::Timestamp;
use auth_core::token::VerifyingKey;

use super::cache::Granted;
use super::{AuthenticateError, AuthenticatedClient, ClientAuthenticator};
use jws::Assertion;
use keysets::KeySets;
use replay::UsedAssertions;
use workload::{CachedIssuer, VerifiedPlatformToken};

/// The one `client_assertion_type` accepted (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A cache past this many entries starts over.
const CACHE_CAPACITY: usize = 20_000;

/// Why an assertion was refused: logged, never told to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the assertion is malformed or oversized")]
    Malformed,
    #[error("the assertion carries its own key or a crit header")]
    EmbeddedKey,
    #[error("the assertion's algorithm is not accepted for its key")]
    Algorithm,
    #[error("the assertion names an unknown key")]
    UnknownKey,
    #[error("the assertion's signature is invalid")]
    BadSignature,
    #[error("the assertion has expired")]
    Expired,
    #[error("the assertion is not valid yet")]
    NotYetValid,
    #[error("the assertion lives longer than 10 minutes")]
    TooLongLived,
    #[error("the assertion is for another audience")]
    WrongAudience,
    #[error("the assertion's issuer is not trusted")]
    UnknownIssuer,
    #[error("no such client, or it has no keys")]
    UnknownClient,
    #[error("the client_id parameter differs from the assertion's subject")]
    ClientIdMismatch,
    #[error("the assertion has no jti")]
    NoJti,
    #[error("the assertion was used before")]
    Replayed,
    #[error("no client is bound to the workload's subject")]
    NoBinding,
}

/// Where a client's or an issuer's keys are.
#[derive(Clone)]
enum Keys {
    Inline(Arc<HashMap<String, VerifyingKey>>),
    Remote(String),
    None,
}

impl Keys {
    fn of(jwks: Option<&str>, jwks_uri: Option<&str>) -> Self {
        if let Some(uri) = jwks_uri {
            return Self::Remote(uri.to_owned());
        }
        let Some(json) = jwks else {
            return Self::None;
        };
        match serde_json::from_str::<serde_json::Value>(json) {
            Ok(document) => {
                let keys = document["keys"].as_array().cloned().unwrap_or_default();
                Self::Inline(Arc::new(keysets::parse_keys(&keys)))
            }
            Err(_) => Self::None,
        }
    }
}

/// A client as assertion authentication needs it, read at `state_at`.
#[derive(Clone)]
struct ClientRecord {
    version: ClientVersion,
    state_at: Timestamp,
    granted: Granted,
    keys: Keys,
}

/// Assertion authentication's own state, besides what [`ClientAuthenticator`] shares.
pub struct Assertions {
    /// What a `private_key_jwt` assertion's `aud` may name: the issuer URL, the token
    /// endpoint URL.
    own_audiences: [String; 2],
    keysets: Arc<KeySets>,
    used: UsedAssertions,
    /// By `iss`: when read, and the registration (`None`: no such issuer).
    issuers: Mutex<HashMap<String, CachedIssuer>>,
    clients: Mutex<HashMap<ClientId, ClientRecord>>,
    platform_tokens: Mutex<HashMap<[u8; 32], VerifiedPlatformToken>>,
}

impl Assertions {
    pub fn new(issuer_url: &str, keysets: KeySets, used: UsedAssertions) -> Self {
        Self {
            own_audiences: [
                issuer_url.to_owned(),
                format!("{issuer_url}/api/v1/oauth/token"),
            ],
            keysets: Arc::new(keysets),
            used,
            issuers: Mutex::default(),
            clients: Mutex::default(),
            platform_tokens: Mutex::default(),
        }
    }
}

fn insert_bounded<K: std::hash::Hash + Eq, V>(map: &Mutex<HashMap<K, V>>, key: K, value: V) {
    let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
    if map.len() >= CACHE_CAPACITY {
        map.clear();
    }
    map.insert(key, value);
}

/// True when state cached at `version`/`state_at` is still the client's current state.
fn current(state: Option<ClientState>, version: ClientVersion, state_at: Timestamp) -> bool {
    state.is_some_and(|state| state.version == version && !state.is_newer_than(state_at))
}

impl ClientAuthenticator {
    /// Authenticates the client an assertion speaks for. `Ok(Err(refusal))`: refused, for
    /// the reason given (the caller answers 401 and logs it).
    pub async fn authenticate_assertion(
        &self,
        client_id: Option<ClientId>,
        assertion: &str,
        address: Option<std::net::IpAddr>,
        now: Timestamp,
    ) -> Result<Result<AuthenticatedClient, Refusal>, AuthenticateError> {
        // Signatures cannot be guessed, so failures count against the address only (an
        // attacker sending bad assertions in a client's name must not lock it out).
        self.limiter
            .check_address(address, Instant::now())
            .await
            .map_err(AuthenticateError::RateLimited)?;
        let result = self.assertion_client(client_id, assertion, now).await;
        if let Ok(Err(refusal)) = &result {
            tracing::info!(reason = %refusal, "client assertion refused");
            self.limiter
                .record_address_failure(address, Instant::now())
                .await;
            tokio::time::sleep(self.limiter.failure_delay()).await;
        }
        result
    }

    async fn assertion_client(
        &self,
        client_id: Option<ClientId>,
        token: &str,
        now: Timestamp,
    ) -> Result<Result<AuthenticatedClient, Refusal>, AuthenticateError> {
        let assertion = match Assertion::parse(token) {
            Ok(assertion) => assertion,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if assertion.claims.iss == assertion.claims.sub {
            self.private_key_jwt(client_id, &assertion, now).await
        } else {
            self.workload(client_id, token, &assertion, now).await
        }
    }

    /// RFC 7523 `private_key_jwt`: the client signs for itself with a registered key.
    async fn private_key_jwt(
        &self,
        client_id: Option<ClientId>,
        assertion: &Assertion<'_>,
        now: Timestamp,
    ) -> Result<Result<AuthenticatedClient, Refusal>, AuthenticateError> {
        let Ok(subject) = ClientId::parse(&assertion.claims.sub) else {
            return Ok(Err(Refusal::UnknownClient));
        };
        if client_id.is_some_and(|id| id != subject) {
            return Ok(Err(Refusal::ClientIdMismatch));
        }
        if subject == *self.root_id() {
            return Ok(Err(Refusal::UnknownClient));
        }
        let Some(record) = self.client_record(&subject, now).await? else {
            return Ok(Err(Refusal::UnknownClient));
        };
        let key = match self
            .key(&record.keys, assertion.kid.as_deref(), false)
            .await
        {
            Ok(key) => key,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let checks = assertion
            .verify_with(&key)
            .await
            .and_then(|()| assertion.check_times(now))
            .and_then(|()| assertion.check_short_lived(now))
            .and_then(|()| {
                if assertion.is_for_any(&self.assertions.own_audiences) {
                    Ok(())
                } else {
                    Err(Refusal::WrongAudience)
                }
            });
        if let Err(refusal) = checks {
            return Ok(Err(refusal));
        }
        let Some(jti) = assertion.claims.jti.as_deref() else {
            return Ok(Err(Refusal::NoJti));
        };
        let first = match self
            .assertions
            .used
            .first_use(&subject, jti, assertion.claims.exp, now)
            .await
        {
            Ok(first) => first,
            Err(replay::Unrecorded::Store(error)) => return Err(error.into()),
            Err(replay::Unrecorded::Redis) => return Err(AuthenticateError::Busy),
        };
        if !first {
            return Ok(Err(Refusal::Replayed));
        }
        Ok(Ok(AuthenticatedClient::granted(
            subject,
            record.granted,
            record.state_at,
        )))
    }

    /// A live client's grants and keys: cached per client version while this process
    /// follows the change channel, else read each time.
    async fn client_record(
        &self,
        id: &ClientId,
        now: Timestamp,
    ) -> Result<Option<ClientRecord>, AuthenticateError> {
        let state = self.revocations.client_state(id.as_str());
        if let Some(record) = self
            .assertions
            .clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .filter(|record| current(state, record.version, record.state_at))
        {
            return Ok(Some(record.clone()));
        }
        let Some((client, scopes)) = self.lookup.find(id.clone()).await? else {
            return Ok(None);
        };
        let record = ClientRecord {
            version: state.map(|state| state.version).unwrap_or_default(),
            state_at: now,
            keys: Keys::of(client.jwks.as_deref(), client.jwks_uri.as_deref()),
            granted: Granted::of(&client, scopes)?,
        };
        if state.is_some() {
            insert_bounded(&self.assertions.clients, id.clone(), record.clone());
        }
        Ok(Some(record))
    }

    /// The key `kid` of a client's keys, or of a trusted issuer's (`of_issuer`: only those
    /// may be fetched with the pod's own credentials).
    async fn key(
        &self,
        keys: &Keys,
        kid: Option<&str>,
        of_issuer: bool,
    ) -> Result<VerifyingKey, Refusal> {
        match keys {
            Keys::Inline(keys) => keysets::pick(keys, kid).ok_or(Refusal::UnknownKey),
            Keys::Remote(url) => self.assertions.keysets.key(url, kid, of_issuer).await,
            Keys::None => Err(Refusal::UnknownClient),
        }
    }
}
