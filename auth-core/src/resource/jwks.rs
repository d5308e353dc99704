//! Verification from the token service's published keys (JWKS), fetched and cached.
//!
//! An unknown `kid` triggers a refetch (a key rotation reaches verifiers without a restart),
//! at most once per [`MIN_REFETCH`], so a flood of forged `kid`s cannot turn into a flood of
//! requests to the token service.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::time::Timestamp;
use crate::token::{JwkInput, TokenVerifier, VerifiedToken, VerifyError, VerifyingKey};

/// The shortest interval between two fetches of the key set.
pub const MIN_REFETCH: Duration = Duration::from_secs(10);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("fetching the JWKS failed: {0}")]
    Fetch(#[from] reqwest::Error),
    #[error("the JWKS holds no usable signing key")]
    NoKeys,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<JwkInput>,
}

struct State {
    verifier: Arc<TokenVerifier>,
    fetched_at: Instant,
}

/// A [`TokenVerifier`] kept in step with a JWKS URL.
pub struct JwksVerifier {
    url: String,
    issuer: String,
    audience: String,
    http: reqwest::Client,
    state: RwLock<State>,
    refetching: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for JwksVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksVerifier")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl JwksVerifier {
    /// A verifier with known keys, refetching from `url` when a `kid` is unknown.
    pub fn with_keys(
        url: String,
        verifier: TokenVerifier,
        issuer: String,
        audience: String,
    ) -> Result<Self, JwksError> {
        Ok(Self {
            url,
            issuer,
            audience,
            http: reqwest::Client::builder().timeout(FETCH_TIMEOUT).build()?,
            state: RwLock::new(State {
                verifier: Arc::new(verifier),
                fetched_at: Instant::now(),
            }),
            refetching: tokio::sync::Mutex::new(()),
        })
    }

    /// Fetches the key set once; fails if it cannot be had.
    pub async fn fetch(url: String, issuer: String, audience: String) -> Result<Self, JwksError> {
        let http = reqwest::Client::builder().timeout(FETCH_TIMEOUT).build()?;
        let verifier = fetch_verifier(&http, &url, &issuer, &audience).await?;
        Ok(Self {
            url,
            issuer,
            audience,
            http,
            state: RwLock::new(State {
                verifier: Arc::new(verifier),
                fetched_at: Instant::now(),
            }),
            refetching: tokio::sync::Mutex::new(()),
        })
    }

    fn current(&self) -> (Arc<TokenVerifier>, Instant) {
        let state = self
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (Arc::clone(&state.verifier), state.fetched_at)
    }

    /// Verifies `token`; an unknown `kid` refetches the key set (rate-limited) and retries once.
    pub async fn verify(&self, token: &str, now: Timestamp) -> Result<VerifiedToken, VerifyError> {
        let (verifier, fetched_at) = self.current();
        match verifier.verify(token, now) {
            Err(VerifyError::UnknownKey) if fetched_at.elapsed() >= MIN_REFETCH => {
                self.refetch(fetched_at).await;
                self.current().0.verify(token, now)
            }
            other => other,
        }
    }

    async fn refetch(&self, seen: Instant) {
        let _one_at_a_time = self.refetching.lock().await;
        if self.current().1 != seen {
            return;
        }
        let result = fetch_verifier(&self.http, &self.url, &self.issuer, &self.audience).await;
        let mut state = self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.fetched_at = Instant::now();
        match result {
            Ok(verifier) => state.verifier = Arc::new(verifier),
            Err(error) => {
                tracing::warn!(%error, "refetching the JWKS failed; keeping the known keys")
            }
        }
    }
}

async fn fetch_verifier(
    http: &reqwest::Client,
    url: &str,
    issuer: &str,
    audience: &str,
) -> Result<TokenVerifier, JwksError> {
    let set: JwkSet = http
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let keys: Vec<VerifyingKey> = set
        .keys
        .iter()
        .filter_map(|jwk| VerifyingKey::from_jwk(jwk).ok())
        .collect();
    if keys.is_empty() {
        return Err(JwksError::NoKeys);
    }
    Ok(TokenVerifier::new(
        keys,
        issuer.to_owned(),
        audience.to_owned(),
    ))
}
