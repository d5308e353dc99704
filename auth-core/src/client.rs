//! A token source for services that call others (feature `client`).
//!
//! [`TokenSource::token`] returns a cached access token, fetching a new one with client
//! credentials when there is none or the cached one is within [`REFRESH_MARGIN`] (or a tenth
//! of its lifetime) of expiring. One fetch at a time per source: however many callers wait,
//! they all get the result of that one request.

use std::fmt;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use crate::ids::ClientId;
use crate::secret::ClientSecret;

/// Refresh when less than this is left (or a tenth of the lifetime, whichever is less).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum TokenSourceError {
    #[error("the token request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The token service refused (its `error` code; never the secret).
    #[error("the token service refused: {status} {error}")]
    Refused { status: u16, error: String },
}

/// An access token and when to stop using it.
#[derive(Clone)]
pub struct AccessToken {
    pub value: String,
    pub scope: String,
    refresh_at: Instant,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &"[redacted]")
            .field("scope", &self.scope)
            .finish()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
    #[serde(default)]
    scope: String,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
}

/// Client-credentials tokens for one client, cached and refreshed before expiry.
pub struct TokenSource {
    token_url: String,
    client_id: ClientId,
    secret: ClientSecret,
    scope: Option<String>,
    http: reqwest::Client,
    cached: Mutex<Option<AccessToken>>,
    fetches: std::sync::atomic::AtomicU64,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// `token_service_url` is the base URL; `scope` optionally narrows the token.
    pub fn new(
        token_service_url: &str,
        client_id: ClientId,
        secret: ClientSecret,
        scope: Option<String>,
    ) -> Result<Self, TokenSourceError> {
        Ok(Self {
            token_url: format!(
                "{}/api/v1/oauth/token",
                token_service_url.trim_end_matches('/')
            ),
            client_id,
            secret,
            scope,
            http: reqwest::Client::builder().timeout(FETCH_TIMEOUT).build()?,
            cached: Mutex::new(None),
            fetches: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// How many tokens this source has fetched (for tests and metrics).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A valid token: the cached one, or a fresh one if it is missing or about to expire.
    pub async fn token(&self) -> Result<AccessToken, TokenSourceError> {
        // Holding the lock across the fetch is the single flight: waiters queue behind it
        // and find the fresh token when their turn comes.
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(token.clone());
        }
        let token = self.fetch().await?;
        *cached = Some(token.clone());
        Ok(token)
    }

    /// Forgets the cached token (after a 401 from the callee, say).
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    async fn fetch(&self) -> Result<AccessToken, TokenSourceError> {
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &self.scope {
            form.push(("scope", scope));
        }
        let started = Instant::now();
        let request = self.http.post(&self.token_url);
        let response = with_trace_context(request)
            .basic_auth(
                form_encode(self.client_id.as_str()),
                Some(form_encode(self.secret.expose())),
            )
            .form(&form)
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            let error = response
                .json::<ErrorResponse>()
                .await
                .map_or_else(|_| "unknown".to_owned(), |e| e.error);
            return Err(TokenSourceError::Refused {
                status: status.as_u16(),
                error,
            });
        }
        let body: TokenResponse = response.json().await?;
        let lifetime = Duration::from_secs(body.expires_in);
        let margin = REFRESH_MARGIN.min(lifetime / 10);
        Ok(AccessToken {
            value: body.access_token,
            scope: body.scope,
            refresh_at: started + lifetime.saturating_sub(margin),
        })
    }
}

/// Adds the current span's W3C trace context (`traceparent`) to an outgoing request, so the
/// callee's spans join the caller's trace. Without a configured propagator it adds nothing.
pub fn with_trace_context(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let mut headers = reqwest::header::HeaderMap::new();
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut HeaderInjector(&mut headers));
    });
    request.headers(headers)
}

struct HeaderInjector<'a>(&'a mut reqwest::header::HeaderMap);

impl opentelemetry::propagation::Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            reqwest::header::HeaderName::from_bytes(key.as_bytes()),
            reqwest::header::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// RFC 6749 §2.3.1: Basic credentials are form-urlencoded first.
fn form_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
