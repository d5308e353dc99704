//! Verification from the token service's published keys (JWKS), fetched and cached.
//!
//! An unknown `kid` triggers a refetch (a key rotation reaches verifiers without a restart),
//! at most once per [`MIN_REFETCH`], so a flood of forged `kid`s cannot turn into a flood of
//! requests to the token service. A verifier may start before the token service does
//! ([`JwksVerifier::start`]): it refuses every token until the first fetch succeeds,
//! retrying with backoff meanwhile, instead of exiting (a crash loop after a cluster restart).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::time::Timestamp;
use crate::token::{JwkInput, TokenVerifier, VerifiedToken, VerifyError, VerifyingKey};

/// The shortest interval between two fetches of the key set.
pub const MIN_REFETCH: Duration = Duration::from_secs(10);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The first and the longest wait between two attempts of the first fetch.
const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(10);

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
    state: Arc<RwLock<State>>,
    /// True once a key set has been fetched (or given).
    loaded: Arc<AtomicBool>,
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
            state: Arc::new(RwLock::new(State {
                verifier: Arc::new(verifier),
                fetched_at: Instant::now(),
            })),
            loaded: Arc::new(AtomicBool::new(true)),
            refetching: tokio::sync::Mutex::new(()),
        })
    }

    /// Fetches the key set once; fails if it cannot be had.
    pub async fn fetch(url: String, issuer: String, audience: String) -> Result<Self, JwksError> {
        let empty = TokenVerifier::new([], issuer.clone(), audience.clone());
        let verifier = Self::with_keys(url, empty, issuer, audience)?;
        let fetched = fetch_verifier(
            &verifier.http,
            &verifier.url,
            &verifier.issuer,
            &verifier.audience,
        )
        .await?;
        verifier.install(fetched);
        Ok(verifier)
    }

    /// A verifier that fetches its key set in the background: at once, then with backoff
    /// (0.25 s doubling up to 10 s) until the token service answers. Until then every token
    /// is refused as signed by an unknown key, and [`Self::is_loaded`] is false. Call inside
    /// the runtime.
    pub fn start(url: String, issuer: String, audience: String) -> Result<Self, JwksError> {
        let empty = TokenVerifier::new([], issuer.clone(), audience.clone());
        let verifier = Self::with_keys(url, empty, issuer, audience)?;
        verifier.loaded.store(false, Ordering::Release);
        let (http, url) = (verifier.http.clone(), verifier.url.clone());
        let (issuer, audience) = (verifier.issuer.clone(), verifier.audience.clone());
        let (state, loaded) = (Arc::clone(&verifier.state), Arc::clone(&verifier.loaded));
        tokio::spawn(async move {
            let mut wait = RETRY_FIRST;
            for attempt in 1u32.. {
                match fetch_verifier(&http, &url, &issuer, &audience).await {
                    Ok(fetched) => {
                        install(&state, &loaded, fetched);
                        if attempt > 1 {
                            tracing::info!(%url, attempt, "JWKS fetched; tokens are verified from now on");
                        }
                        return;
                    }
                    Err(error) => {
                        // The first failure and then every tenth, not one line per attempt.
                        if attempt % 10 == 1 {
                            tracing::warn!(%url, %error, attempt, "the JWKS cannot be fetched yet; retrying, tokens are refused meanwhile");
                        }
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(RETRY_MAX);
                    }
                }
            }
        });
        Ok(verifier)
    }

    /// True once a key set is known (always, for [`Self::with_keys`] and [`Self::fetch`]).
    pub fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    fn install(&self, fetched: TokenVerifier) {
        install(&self.state, &self.loaded, fetched);
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
        match fetch_verifier(&self.http, &self.url, &self.issuer, &self.audience).await {
            Ok(fetched) => self.install(fetched),
            Err(error) => {
                self.state
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .fetched_at = Instant::now();
                tracing::warn!(%error, "refetching the JWKS failed; keeping the known keys");
            }
        }
    }
}

/// Makes `fetched` the current key set.
fn install(state: &RwLock<State>, loaded: &AtomicBool, fetched: TokenVerifier) {
    let mut state = state
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    state.verifier = Arc::new(fetched);
    state.fetched_at = Instant::now();
    loaded.store(true, Ordering::Release);
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
