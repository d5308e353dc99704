//! A token source for services that call others (feature `client`).
//!
//! [`TokenSource::token`] returns a cached access token, fetching a new one with the
//! client-credentials grant when there is none or the cached one is within
//! [`REFRESH_MARGIN`] (or a tenth of its lifetime) of expiring. One fetch at a time per
//! source: however many callers wait, they all get the result of that one request.
//!
//! A source authenticates with one [`Credential`]: a client secret (`client_secret_basic`
//! or `client_secret_post`), a private key signing a fresh RFC 7523 assertion for each
//! request (`private_key_jwt`, see [`PrivateKey`]), or a token file that a platform keeps
//! fresh, such as a Kubernetes projected service-account token (workload identity). Build
//! one with [`TokenSource::builder`], or from the environment with [`TokenSource::from_env`]:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `OAUTH_TOKEN_URL` | the token endpoint, e.g. `http://token-service:8080/api/v1/oauth/token` \[required\] |
//! | `OAUTH_CLIENT_ID` | the client id \[required, except with `OAUTH_CLIENT_TOKEN_FILE`: then sent only when set\] |
//! | `OAUTH_CLIENT_ID_FILE` | or: a file holding the client id, read at start (`authctl apply --ids-dir` writes them) |
//! | `OAUTH_CLIENT_SECRET` | the client secret, sent as `client_secret_basic` |
//! | `OAUTH_CLIENT_KEY_FILE` | a PEM private key (Ed25519, P-256 or RSA ≥ 2048 bits) signing `private_key_jwt` assertions |
//! | `OAUTH_CLIENT_TOKEN_FILE` | a token file read before each request and sent as the assertion |
//! | `OAUTH_CLIENT_KEY_ID` | the assertions' `kid` \[the key's RFC 7638 thumbprint\]; only with `OAUTH_CLIENT_KEY_FILE` |
//! | `OAUTH_ISSUER` | with `OAUTH_CLIENT_KEY_FILE`: the assertions' `aud`, the token service's issuer URL \[`OAUTH_TOKEN_URL`\] |
//! | `OAUTH_CLIENT_SCOPE` | space-separated scopes to ask for \[the client's own\] |
//! | `OAUTH_CLIENT_RESOURCE` | audiences to ask for (RFC 8707 `resource`), separated by spaces or commas \[the default audience\] |
//!
//! Exactly one of `OAUTH_CLIENT_SECRET`, `OAUTH_CLIENT_KEY_FILE` and
//! `OAUTH_CLIENT_TOKEN_FILE` must be set. Secrets, keys and assertions never appear in a log
//! line, an error or a `Debug` output.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use crate::ids::ClientId;
use crate::secret::ClientSecret;
use crate::time::Timestamp;
use crate::token::KeyError;

mod builder;
mod credential;
mod env;
mod private_key;
#[cfg(test)]
mod tests;

pub use builder::TokenSourceBuilder;
use credential::Auth;
pub use credential::{Credential, JWT_BEARER_ASSERTION_TYPE, MAX_TOKEN_FILE_BYTES};
pub use private_key::{ASSERTION_LIFETIME_SECS, PrivateKey};

/// Refresh when less than this is left (or a tenth of the lifetime, whichever is less).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// The token endpoint's path under token-service's base URL.
pub const TOKEN_PATH: &str = "/api/v1/oauth/token";
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a token source could not be built or could not get a token. No variant carries a
/// secret, a key, an assertion or a token file's content.
#[derive(Debug, thiserror::Error)]
pub enum TokenSourceError {
    #[error("the token request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The token service refused (its `error` code; never the credential).
    #[error("the token service refused: {status} {error}")]
    Refused { status: u16, error: String },
    /// The token endpoint URL is not an absolute http(s) URL.
    #[error("the token endpoint URL is not an absolute http(s) URL: {0}")]
    InvalidUrl(String),
    /// A `resource` is not an absolute URI without a fragment (RFC 8707 §2).
    #[error("a resource must be an absolute URI without a fragment: {0:?}")]
    InvalidResource(String),
    /// The source was built without a credential, or without the client id it needs.
    #[error("{0}")]
    Incomplete(&'static str),
    #[error("the private key: {0}")]
    Key(#[from] KeyError),
    #[error("the private key file {}: {source}", path.display())]
    KeyFile { path: PathBuf, source: KeyError },
    #[error("the token file {}: {reason}", path.display())]
    TokenFile { path: PathBuf, reason: String },
    #[error("cannot sign the client assertion")]
    Sign,
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
    auth: Auth,
    scope: Option<String>,
    resources: Vec<String>,
    http: reqwest::Client,
    cached: Mutex<Option<AccessToken>>,
    fetches: AtomicU64,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("token_url", &self.token_url)
            .field("client_id", &self.auth.client_id())
            .field("auth", &self.auth)
            .field("scope", &self.scope)
            .field("resources", &self.resources)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// A source using `client_secret_basic`. `token_service_url` is token-service's base
    /// URL (the token endpoint is [`TOKEN_PATH`] under it); `scope` optionally narrows the
    /// token. [`TokenSource::builder`] offers the other credentials and options.
    pub fn new(
        token_service_url: &str,
        client_id: ClientId,
        secret: ClientSecret,
        scope: Option<String>,
    ) -> Result<Self, TokenSourceError> {
        let mut builder = Self::builder(format!(
            "{}{TOKEN_PATH}",
            token_service_url.trim_end_matches('/')
        ))
        .client_id(client_id)
        .client_secret(secret);
        if let Some(scope) = scope {
            builder = builder.scope(scope);
        }
        builder.build()
    }

    /// A builder for a source posting to `token_url`, the token endpoint's full URL (which
    /// is also the `aud` of `private_key_jwt` assertions unless
    /// [`assertion_audience`](TokenSourceBuilder::assertion_audience) says otherwise):
    ///
    /// ```no_run
    /// # fn main() -> Result<(), auth_core::client::TokenSourceError> {
    /// use auth_core::client::TokenSource;
    /// use auth_core::ids::ClientId;
    /// # let id = ClientId::parse("orders").unwrap();
    /// let tokens = TokenSource::builder("http://token-service:8080/api/v1/oauth/token")
    ///     .client_id(id)
    ///     .private_key_file("/run/secrets/client-key.pem")?
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn builder(token_url: impl Into<String>) -> TokenSourceBuilder {
        TokenSourceBuilder::new(token_url.into())
    }

    /// The token endpoint this source posts to.
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// How many tokens this source has fetched (for tests and metrics).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
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
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let mut form: Vec<(&'static str, String)> =
            vec![("grant_type", "client_credentials".to_owned())];
        if let Some(scope) = &self.scope {
            form.push(("scope", scope.clone()));
        }
        for resource in &self.resources {
            form.push(("resource", resource.clone()));
        }
        tracing::debug!(method = self.auth.method(), "fetching an access token");
        let started = Instant::now();
        let request = with_trace_context(self.http.post(&self.token_url));
        let request = self.auth.apply(request, &mut form, Timestamp::now())?;
        let response = request.form(&form).send().await?;
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
