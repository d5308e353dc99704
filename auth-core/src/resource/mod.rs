//! Bearer-token verification for actix-web services (feature `actix`): the one verifier
//! that resource services, admin-service and token-service's introspection all use.
//!
//! Register a [`ResourceServer`] as app data and take [`Authenticated`] in a handler: the
//! bearer token is verified against public keys ([`Keys`]: the token service's JWKS, or
//! keys this process already holds) and checked for revocation (Redis behind a local cache
//! that pub/sub keeps current, the database where there is one; fail closed when nothing
//! can answer). Each route then calls [`Authenticated::require`] for the scope it needs.
//! Errors answer 401 with `WWW-Authenticate: Bearer error="invalid_token"`, 403
//! `insufficient_scope` naming the scope, or 503 when revocation cannot be checked.

mod jwks;
mod verified;

use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use futures_util::future::LocalBoxFuture;
pub use jwks::{JwksError, JwksVerifier, MIN_REFETCH};
use serde_json::json;

use crate::config::{ConfigError, Env};
use crate::revocation::{RevocationConfig, Revocations, SharedError};
use crate::shared_redis::RedisSettings;
use crate::time::Timestamp;
use crate::token::{TokenVerifier, VerifiedToken, VerifyError};

/// How a resource server reaches the token service and the revocation cache.
///
/// | variable | meaning |
/// | --- | --- |
/// | `TOKEN_SERVICE_URL` | base URL of token-service (its JWKS is under `/.well-known/jwks.json`) \[required\] |
/// | `OAUTH_ISSUER` | expected `iss` \[`TOKEN_SERVICE_URL`\] |
/// | `OAUTH_AUDIENCE` | this service's audience: tokens must carry it in `aud` \[`OAUTH_ISSUER`\] |
/// | `OAUTH_ACCESS_TOKEN_EXPIRE_MINUTES` | longest token lifetime \[11520\] |
/// | `REDIS_URL` | the shared revocation cache, `redis://` or `rediss://` (TLS) \[required unless fail-open\] |
/// | `REDIS_KEY_PREFIX`, `REDIS_CA_FILE`, `REDIS_CLIENT_CERT_FILE`, `REDIS_CLIENT_KEY_FILE` | its namespace, and TLS files (`shared_redis`) \[`authsvc`, none\] |
/// | `REVOCATION_FAIL_OPEN` | `true` accepts tokens when revocation cannot be checked \[false\] |
#[derive(Debug, Clone)]
pub struct ResourceServerConfig {
    pub token_service_url: String,
    pub issuer: String,
    pub audience: String,
    pub revocation: RevocationConfig,
}

impl ResourceServerConfig {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let url = env
            .required("TOKEN_SERVICE_URL")?
            .trim()
            .trim_end_matches('/')
            .to_owned();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ConfigError::new(
                "TOKEN_SERVICE_URL",
                "expected an http:// or https:// URL",
            ));
        }
        let issuer = env.get("OAUTH_ISSUER").map_or_else(
            || url.clone(),
            |i| i.trim().trim_end_matches('/').to_owned(),
        );
        let audience = env.parse_or(
            "OAUTH_AUDIENCE",
            issuer.clone(),
            crate::config::parse_audience,
        )?;
        let minutes: i64 = env.parse_or(
            "OAUTH_ACCESS_TOKEN_EXPIRE_MINUTES",
            11_520,
            crate::config::integer_in(1..=525_600),
        )?;
        let fail_open = env.parse_or("REVOCATION_FAIL_OPEN", false, |v| match v {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err("expected true or false".to_owned()),
        })?;
        let redis = RedisSettings::from_env(env)?;
        if redis.is_none() && !fail_open {
            return Err(ConfigError::new(
                "REDIS_URL",
                "is required to check revocation (or set REVOCATION_FAIL_OPEN=true)",
            ));
        }
        Ok(Self {
            token_service_url: url,
            issuer,
            audience,
            revocation: RevocationConfig {
                redis,
                token_lifetime_secs: minutes * 60,
                fail_open,
            },
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("TOKEN_SERVICE_URL: {0}")]
    Jwks(#[from] JwksError),
    #[error("REDIS_URL: {0}")]
    Redis(#[from] SharedError),
}

/// Where a verifier's public keys come from.
#[derive(Debug)]
pub enum Keys {
    /// The token service's JWKS, fetched and refreshed (resource services, admin-service).
    Jwks(JwksVerifier),
    /// Keys this process already holds (token-service verifying its own tokens).
    Fixed(TokenVerifier),
}

impl Keys {
    async fn verify(&self, token: &str, now: Timestamp) -> Result<VerifiedToken, VerifyError> {
        match self {
            Self::Jwks(jwks) => jwks.verify(token, now).await,
            Self::Fixed(verifier) => verifier.verify(token, now),
        }
    }

    /// False while a JWKS has not been fetched yet (readiness stays down meanwhile).
    pub fn is_loaded(&self) -> bool {
        match self {
            Self::Jwks(jwks) => jwks.is_loaded(),
            Self::Fixed(_) => true,
        }
    }
}

impl From<JwksVerifier> for Keys {
    fn from(jwks: JwksVerifier) -> Self {
        Self::Jwks(jwks)
    }
}

impl From<TokenVerifier> for Keys {
    fn from(verifier: TokenVerifier) -> Self {
        Self::Fixed(verifier)
    }
}

/// Verification state shared by every request of a resource server.
#[derive(Clone)]
pub struct ResourceServer {
    verifier: Arc<Keys>,
    verified: Arc<verified::VerifiedTokens>,
    revocations: Revocations,
}

impl std::fmt::Debug for ResourceServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceServer")
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

impl ResourceServer {
    /// Starts fetching the JWKS (in the background, retried until the token service
    /// answers) and following revocations. Call inside the runtime.
    pub async fn start(
        config: &ResourceServerConfig,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Result<Self, StartError> {
        let url = format!("{}/.well-known/jwks.json", config.token_service_url);
        let verifier = JwksVerifier::start(url, config.issuer.clone(), config.audience.clone())?;
        let revocations = Revocations::new(&config.revocation, metrics)?;
        revocations.start();
        Ok(Self::from_parts(verifier, revocations))
    }

    /// A resource server from keys and a revocation checker already set up (admin-service
    /// and token-service, which check revocation against their database too; tests;
    /// benchmarks).
    pub fn from_parts(keys: impl Into<Keys>, revocations: Revocations) -> Self {
        Self {
            verifier: Arc::new(keys.into()),
            verified: Arc::default(),
            revocations,
        }
    }

    /// Checks a token's signature and claims only (no revocation, no cache): for the token
    /// an operator hands in to revoke it.
    pub async fn verify(&self, token: &str, now: Timestamp) -> Result<VerifiedToken, VerifyError> {
        self.verifier.verify(token, now).await
    }

    /// Where the keys come from, and whether they are loaded yet.
    pub fn keys(&self) -> &Keys {
        &self.verifier
    }

    pub fn revocations(&self) -> &Revocations {
        &self.revocations
    }

    /// Verifies a bearer token (or finds it verified before) and checks it is not revoked.
    pub async fn authenticate(&self, token: &str) -> Result<Arc<VerifiedToken>, AuthError> {
        let now = Timestamp::now();
        let key = verified::VerifiedTokens::key(token);
        let verified = match self.verified.get(&key, std::time::Instant::now()) {
            Some(known) if known.expires_at > now => known,
            _ => {
                let fresh = Arc::new(self.verifier.verify(token, now).await.map_err(|reason| {
                    tracing::debug!(%reason, "bearer token refused");
                    AuthError::InvalidToken
                })?);
                let left = fresh.expires_at.as_micros().saturating_sub(now.as_micros());
                let left = std::time::Duration::from_micros(u64::try_from(left).unwrap_or(0));
                self.verified
                    .insert(key, Arc::clone(&fresh), left, std::time::Instant::now());
                fresh
            }
        };
        match self.revocations.status(&verified).await {
            Ok(status) if status.is_active() => Ok(verified),
            Ok(status) => {
                tracing::debug!(?status, client_id = %verified.client_id, "revoked bearer token refused");
                Err(AuthError::InvalidToken)
            }
            Err(error) => {
                tracing::warn!(%error, "revocation cannot be checked; refusing the token");
                Err(AuthError::Unavailable)
            }
        }
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header at all: the challenge carries no error (RFC 6750 §3.1).
    #[error("this endpoint needs a bearer token")]
    MissingToken,
    #[error("the access token is missing, malformed, expired or revoked")]
    InvalidToken,
    #[error("this endpoint requires the scope {0}")]
    InsufficientScope(String),
    #[error("the token cannot be checked right now, retry later")]
    Unavailable,
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MissingToken | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (code, challenge) = match self {
            Self::MissingToken => ("invalid_token", Some("Bearer".to_owned())),
            Self::InvalidToken => (
                "invalid_token",
                Some("Bearer error=\"invalid_token\"".to_owned()),
            ),
            Self::InsufficientScope(scope) => (
                "insufficient_scope",
                Some(format!(
                    "Bearer error=\"insufficient_scope\", scope=\"{scope}\""
                )),
            ),
            Self::Unavailable => ("temporarily_unavailable", None),
        };
        let mut response = HttpResponse::build(self.status_code());
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response.insert_header((header::WWW_AUTHENTICATE, value));
        }
        if matches!(self, Self::Unavailable) {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
        }
        response.json(json!({ "error": code, "error_description": self.to_string() }))
    }
}

/// The verified caller of a request.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub token: Arc<VerifiedToken>,
}

impl Authenticated {
    /// Refuses with 403 unless the token carries `scope`.
    pub fn require(&self, scope: &str) -> Result<(), AuthError> {
        if self.token.scopes.iter().any(|s| s.as_str() == scope) {
            Ok(())
        } else {
            Err(AuthError::InsufficientScope(scope.to_owned()))
        }
    }
}

/// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1): [`AuthError::MissingToken`]
/// without the header, [`AuthError::InvalidToken`] for anything but one well-formed value.
pub fn bearer_token(headers: &header::HeaderMap) -> Result<String, AuthError> {
    let mut values = headers.get_all(header::AUTHORIZATION);
    let value = values.next().ok_or(AuthError::MissingToken)?;
    if values.next().is_some() {
        return Err(AuthError::InvalidToken);
    }
    let (scheme, token) = value
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        .ok_or(AuthError::InvalidToken)?;
    let token = token.trim();
    // RFC 6750 §2.1's b64token, byte by byte (a `str::contains` per character cost about
    // 6 % of admin-service's CPU).
    let b64token = |b: u8| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
    };
    if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.bytes().all(b64token) {
        Ok(token.to_owned())
    } else {
        Err(AuthError::InvalidToken)
    }
}

impl FromRequest for Authenticated {
    type Error = AuthError;
    type Future = LocalBoxFuture<'static, Result<Self, AuthError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let server = req.app_data::<web::Data<ResourceServer>>().cloned();
        let token = bearer_token(req.headers());
        Box::pin(async move {
            let server = server.ok_or(AuthError::Unavailable)?;
            let token = token?;
            Ok(Self {
                token: server.authenticate(&token).await?,
            })
        })
    }
}
