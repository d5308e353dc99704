//! The settings both services share, from the environment (feature `server`). None is a
//! secret: what only token-service reads (the root secret, the signing keys, the
//! brute-force limits) is in its own configuration, so admin-service never holds them.
//!
//! Each binary adds its own listen address and variables. Every variable is validated
//! where it is read and an error names it. Variables (defaults in brackets):
//!
//! | variable | meaning |
//! | --- | --- |
//! | `DATABASE_URL` | `postgres://…` or `sqlite://PATH` \[`sqlite://./data/auth.sqlite`\] |
//! | `DATABASE_POOL_SIZE` | connections per process, 1–200 \[10\] |
//! | `OAUTH_ROOT_CLIENT_ID` | the root client's id; never stored \[required\] |
//! | `OAUTH_ACCESS_TOKEN_EXPIRE_MINUTES` | token lifetime, 1–525600 \[11520\] |
//! | `OAUTH_ISSUER` | `iss` and metadata issuer, an http(s) URL \[`http://` + `TOKEN_SERVICE_ADDR`\] |
//! | `OAUTH_AUDIENCE` | the `aud` of every token, required by every verifier \[the issuer URL\] |
//! | `TOKEN_SERVICE_ADDR` | token-service listen address \[`127.0.0.1:8080`\] |
//! | `ADMIN_SERVICE_ADDR` | admin-service listen address \[`127.0.0.1:8081`\] |
//! | `LOG_FORMAT` | `text` or `json` \[`text`\] |
//! | `REDIS_URL`, `REDIS_KEY_PREFIX`, `REDIS_CA_FILE`, `REDIS_CLIENT_CERT_FILE`, `REDIS_CLIENT_KEY_FILE` | shared revocation cache, invalidation channel and counters, over TLS with `rediss://` (`shared_redis`) \[unset: database only\] |
//! | `HTTP_WORKERS` | HTTP worker threads, 1–256 \[two per CPU available to the process\] |
//! | `CLIENT_TOKENS_PER_MINUTE`, `CLIENT_REVOCATIONS_PER_MINUTE` | per-client limits' defaults, 0 for none (`limits`) \[0, 120\] |

use std::net::SocketAddr;

use secrecy::SecretString;

use crate::config::{ConfigError, Env, LogFormat, integer_in, parse_audience};
use crate::ids::ClientId;
use crate::shared_redis::RedisSettings;
use crate::store::DatabaseUrl;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/auth.sqlite";
pub const DEFAULT_TOKEN_SERVICE_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_ADMIN_SERVICE_ADDR: &str = "127.0.0.1:8081";
const MIN_ROOT_SECRET_LEN: usize = 16;

/// The root client: full power, credentials only in the environment.
#[derive(Clone)]
pub struct RootClient {
    pub id: ClientId,
    pub secret: SecretString,
}

impl RootClient {
    /// The root client's credentials: `OAUTH_ROOT_CLIENT_SECRET` (16 to 71 bytes) for `id`.
    /// Only the service that authenticates clients reads it.
    pub fn from_env(env: &Env<'_>, id: ClientId) -> Result<Self, ConfigError> {
        let secret = env.required("OAUTH_ROOT_CLIENT_SECRET")?;
        if secret.len() < MIN_ROOT_SECRET_LEN {
            return Err(ConfigError::new(
                "OAUTH_ROOT_CLIENT_SECRET",
                format!("must be at least {MIN_ROOT_SECRET_LEN} bytes"),
            ));
        }
        if secret.len() > crate::secret::MAX_SECRET_LEN {
            return Err(ConfigError::new(
                "OAUTH_ROOT_CLIENT_SECRET",
                format!("must be at most {} bytes", crate::secret::MAX_SECRET_LEN),
            ));
        }
        Ok(Self {
            id,
            secret: SecretString::from(secret),
        })
    }
}

impl std::fmt::Debug for RootClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootClient")
            .field("id", &self.id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// Settings both services share.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub database_url: DatabaseUrl,
    pub database_pool_size: u32,
    /// The root client's id (its secret is token-service's alone).
    pub root_id: ClientId,
    pub token_lifetime_secs: i64,
    pub issuer: String,
    /// The `aud` of every token (RFC 9068 §2.2), and the audience admin-service requires.
    pub audience: String,
    pub token_service_addr: SocketAddr,
    pub admin_service_addr: SocketAddr,
    pub log_format: LogFormat,
    /// Shared revocation cache, invalidation channel and counters; `None`: database only.
    pub redis: Option<RedisSettings>,
    /// HTTP worker threads (each serves its connections on one thread).
    pub http_workers: usize,
    /// The per-client limits of clients without their own.
    pub client_limits: crate::limits::DefaultLimits,
}

impl AuthSettings {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let database_url = env.parse_or(
            "DATABASE_URL",
            DatabaseUrl::parse(DEFAULT_DATABASE_URL)
                .map_err(|e| ConfigError::new("DATABASE_URL", e.to_string()))?,
            |v| DatabaseUrl::parse(v).map_err(|e| e.to_string()),
        )?;
        let database_pool_size = env.parse_or("DATABASE_POOL_SIZE", 10, integer_in(1..=200))?;

        let root_id = env.required("OAUTH_ROOT_CLIENT_ID")?;
        let root_id = ClientId::parse(root_id.trim())
            .map_err(|e| ConfigError::new("OAUTH_ROOT_CLIENT_ID", e.to_string()))?;

        let minutes: i64 = env.parse_or(
            "OAUTH_ACCESS_TOKEN_EXPIRE_MINUTES",
            11_520,
            integer_in(1..=525_600),
        )?;
        let token_service_addr =
            env.socket_addr("TOKEN_SERVICE_ADDR", DEFAULT_TOKEN_SERVICE_ADDR)?;
        let admin_service_addr =
            env.socket_addr("ADMIN_SERVICE_ADDR", DEFAULT_ADMIN_SERVICE_ADDR)?;
        let issuer = env.parse_or(
            "OAUTH_ISSUER",
            format!("http://{token_service_addr}"),
            parse_issuer,
        )?;
        let audience = env.parse_or("OAUTH_AUDIENCE", issuer.clone(), parse_audience)?;
        let log_format = LogFormat::from_env(env)?;
        let redis = RedisSettings::from_env(env)?;

        Ok(Self {
            database_url,
            database_pool_size,
            root_id,
            token_lifetime_secs: minutes * 60,
            issuer,
            audience,
            token_service_addr,
            admin_service_addr,
            log_format,
            redis,
            http_workers: env.parse_or(
                "HTTP_WORKERS",
                default_http_workers(),
                integer_in(1..=256),
            )?,
            client_limits: crate::limits::DefaultLimits::from_env(env)?,
        })
    }
}

/// Two HTTP workers per CPU: a worker serves its connections on one thread, so when another
/// process on the machine preempts it, a spare worker keeps the CPU busy meanwhile (on a
/// 2-core machine shared with a load generator, 4 workers issue about 25 % more tokens per
/// second than 2; docs/BENCHMARKS.md).
pub fn default_http_workers() -> usize {
    2 * std::thread::available_parallelism().map_or(1, usize::from)
}

impl AuthSettings {
    /// How this service reaches the shared revocation cache; services have a database, so
    /// they never fail open.
    pub fn revocation_config(&self) -> crate::revocation::RevocationConfig {
        crate::revocation::RevocationConfig {
            redis: self.redis.clone(),
            token_lifetime_secs: self.token_lifetime_secs,
            fail_open: false,
        }
    }
}

/// An issuer is an http(s) URL without query or fragment (RFC 8414 §2); a trailing `/` is dropped.
fn parse_issuer(value: &str) -> Result<String, String> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !value.contains(['?', '#', ' ']) => {
            Ok(value.trim_end_matches('/').to_owned())
        }
        _ => Err(format!(
            "expected an http:// or https:// URL without query or fragment, got {value:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret as _;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn settings(pairs: &[(&str, &str)]) -> Result<AuthSettings, ConfigError> {
        let vars = env(pairs);
        AuthSettings::from_env(&Env::from_fn(|name| vars.get(name).cloned()))
    }

    const ROOT: [(&str, &str); 2] = [
        ("OAUTH_ROOT_CLIENT_ID", "root"),
        ("OAUTH_ROOT_CLIENT_SECRET", "a-long-root-secret"),
    ];

    #[test]
    fn defaults_follow_the_design() {
        let s = settings(&ROOT).unwrap();
        assert_eq!(
            s.database_url,
            DatabaseUrl::Sqlite("./data/auth.sqlite".into())
        );
        assert_eq!(s.token_lifetime_secs, 11_520 * 60);
        assert_eq!(s.issuer, "http://127.0.0.1:8080");
        assert_eq!(
            s.audience, s.issuer,
            "the default audience is the issuer URL"
        );
        assert_eq!(s.admin_service_addr.port(), 8081);
        assert_eq!(s.http_workers, default_http_workers());
        assert!(s.http_workers >= 2);
        assert_eq!(s.root_id.as_str(), "root");
        // The shared settings never read the root secret: admin-service does not need it.
        let without_secret = settings(&ROOT[..1]).unwrap();
        assert_eq!(without_secret.root_id.as_str(), "root");
    }

    fn root(pairs: &[(&str, &str)]) -> Result<RootClient, ConfigError> {
        let vars = env(pairs);
        let id = ClientId::parse("root").unwrap();
        RootClient::from_env(&Env::from_fn(|name| vars.get(name).cloned()), id)
    }

    #[test]
    fn the_root_secret_is_checked_and_never_echoed() {
        let client = root(&ROOT).unwrap();
        assert_eq!(client.secret.expose_secret(), "a-long-root-secret");
        assert!(!format!("{client:?}").contains("a-long-root-secret"));
        let err = root(&ROOT[..1]).unwrap_err();
        assert_eq!(err.variable, "OAUTH_ROOT_CLIENT_SECRET");
        assert!(err.to_string().starts_with("OAUTH_ROOT_CLIENT_SECRET:"));
        for bad in ["short-secret", &"x".repeat(72)] {
            let err = root(&[("OAUTH_ROOT_CLIENT_SECRET", bad)]).unwrap_err();
            assert_eq!(err.variable, "OAUTH_ROOT_CLIENT_SECRET");
            assert!(!err.to_string().contains(bad));
        }
        let err = settings(&[ROOT[1]]).unwrap_err();
        assert_eq!(err.variable, "OAUTH_ROOT_CLIENT_ID");
    }

    #[test]
    fn invalid_values_name_their_variable_without_echoing_secrets() {
        let cases = [
            ("OAUTH_ACCESS_TOKEN_EXPIRE_MINUTES", "0"),
            ("OAUTH_ACCESS_TOKEN_EXPIRE_MINUTES", "ten"),
            ("OAUTH_AUDIENCE", "two words"),
            ("DATABASE_URL", "mysql://x"),
            ("DATABASE_POOL_SIZE", "0"),
            ("TOKEN_SERVICE_ADDR", "localhost"),
            ("OAUTH_ISSUER", "auth.example.com"),
            ("OAUTH_ROOT_CLIENT_ID", "a/b"),
            ("LOG_FORMAT", "xml"),
            ("REDIS_URL", "localhost:6379"),
            ("REDIS_KEY_PREFIX", "a b"),
            ("CLIENT_REVOCATIONS_PER_MINUTE", "many"),
            ("HTTP_WORKERS", "0"),
            ("HTTP_WORKERS", "many"),
        ];
        for (name, value) in cases {
            let mut pairs = ROOT.to_vec();
            pairs.retain(|(k, _)| *k != name);
            pairs.push((name, value));
            assert_eq!(
                settings(&pairs).unwrap_err().variable,
                name,
                "{name}={value}"
            );
        }
    }

    #[test]
    fn issuer_trailing_slash_is_dropped() {
        let mut pairs = ROOT.to_vec();
        pairs.push(("OAUTH_ISSUER", "https://auth.example.com/"));
        assert_eq!(settings(&pairs).unwrap().issuer, "https://auth.example.com");
    }
}
