//! How every part of every process reaches Redis: one URL (`redis://` or, with TLS,
//! `rediss://`; or a Sentinel group), the namespace of its keys and channels, and for TLS
//! an optional CA bundle and client certificate, as managed Redis services require. The
//! revocation cache, the brute-force limiter and the per-client limits all open their
//! connections here, so a deployment's Redis is configured once.
//!
//! With Sentinel (`redis+sentinel://`), every new connection asks the sentinels for the
//! current master ([`RedisSettings::current_client`]); a connection whose command fails is
//! dropped ([`LazyConnection::failed`]) so the next one finds the master after a failover.
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `REDIS_URL` | `redis://[USER:PASSWORD@]HOST:PORT[/DB]`, or `rediss://…` for TLS; for Sentinel `redis+sentinel://[USER:PASSWORD@]HOST:PORT[,HOST:PORT…]/MASTER_NAME[/DB]` (the credentials are the Redis servers', the sentinels are asked without), `rediss+sentinel://…` for TLS to both | unset: no Redis |
//! | `REDIS_KEY_PREFIX` | namespace of every key and channel | `authsvc` |
//! | `REDIS_CA_FILE` | PEM CA bundle that signs the server's certificate (`rediss://` only) | the system's trust store |
//! | `REDIS_CLIENT_CERT_FILE`, `REDIS_CLIENT_KEY_FILE` | PEM client certificate and key for mutual TLS, both or neither (`rediss://` only) | none |

use std::path::Path;
use std::sync::Arc;

use crate::config::{ConfigError, Env};

mod lazy;
mod sentinel;
#[cfg(test)]
mod tests;

pub use lazy::LazyConnection;
use sentinel::{SentinelTarget, parse_sentinel};

pub const DEFAULT_KEY_PREFIX: &str = "authsvc";

/// PEM files of a TLS connection, read at start-up.
#[derive(Clone, Default)]
struct TlsFiles {
    ca: Option<Vec<u8>>,
    /// Certificate and key.
    client: Option<(Vec<u8>, Vec<u8>)>,
}

/// Where Redis is and how to reach it. Cheap to clone.
#[derive(Clone)]
pub struct RedisSettings {
    url: String,
    key_prefix: String,
    tls: Arc<TlsFiles>,
    sentinel: Option<Arc<SentinelTarget>>,
}

impl std::fmt::Debug for RedisSettings {
    /// Without the URL (it may carry a password) or the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field("tls", &self.is_tls())
            .field("key_prefix", &self.key_prefix)
            .field("custom_ca", &self.tls.ca.is_some())
            .field("client_certificate", &self.tls.client.is_some())
            .field("sentinel", &self.sentinel.is_some())
            .finish()
    }
}

impl RedisSettings {
    /// A plain URL and prefix, without TLS files (tests, tools).
    pub fn new(url: impl Into<String>, key_prefix: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key_prefix: key_prefix.into(),
            tls: Arc::default(),
            sentinel: None,
        }
    }

    /// The settings of the variables above; `None` when `REDIS_URL` is unset. Every error
    /// names its variable; the files are read here, so a wrong path stops the start.
    pub fn from_env(env: &Env<'_>) -> Result<Option<Self>, ConfigError> {
        let key_prefix = env.parse_or(
            "REDIS_KEY_PREFIX",
            DEFAULT_KEY_PREFIX.to_owned(),
            parse_key_prefix,
        )?;
        let Some(url) = env.get("REDIS_URL").map(|url| url.trim().to_owned()) else {
            return Ok(None);
        };
        let tls = url.starts_with("rediss://") || url.starts_with("rediss+sentinel://");
        let sentinel = if let Some(rest) = url
            .strip_prefix("redis+sentinel://")
            .or_else(|| url.strip_prefix("rediss+sentinel://"))
        {
            Some(Arc::new(
                parse_sentinel(rest).map_err(|reason| ConfigError::new("REDIS_URL", reason))?,
            ))
        } else if url.starts_with("rediss://") || url.starts_with("redis://") {
            None
        } else {
            return Err(ConfigError::new(
                "REDIS_URL",
                "expected redis://HOST:PORT[/DB], rediss://HOST:PORT[/DB] for TLS, or \
                 redis+sentinel://HOST:PORT[,HOST:PORT…]/MASTER_NAME[/DB]",
            ));
        };
        if let Err(error) = sentinel
            .is_none()
            .then(|| redis::Client::open(url.as_str()))
            .transpose()
        {
            // The crate's message may quote the URL, password included: say what, not that.
            tracing::debug!(kind = ?error.kind(), "REDIS_URL refused");
            return Err(ConfigError::new(
                "REDIS_URL",
                "is not a valid Redis URL (redis://[USER:PASSWORD@]HOST:PORT[/DB])",
            ));
        }
        let read = |name: &'static str| -> Result<Option<Vec<u8>>, ConfigError> {
            let Some(path) = env.get(name) else {
                return Ok(None);
            };
            if !tls {
                return Err(ConfigError::new(
                    name,
                    "is only used with TLS: set REDIS_URL to rediss://…",
                ));
            }
            read_pem(name, Path::new(path.trim())).map(Some)
        };
        let ca = read("REDIS_CA_FILE")?;
        let client = match (
            read("REDIS_CLIENT_CERT_FILE")?,
            read("REDIS_CLIENT_KEY_FILE")?,
        ) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "REDIS_CLIENT_KEY_FILE",
                    "is required with REDIS_CLIENT_CERT_FILE",
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "REDIS_CLIENT_CERT_FILE",
                    "is required with REDIS_CLIENT_KEY_FILE",
                ));
            }
        };
        Ok(Some(Self {
            url,
            key_prefix,
            tls: Arc::new(TlsFiles { ca, client }),
            sentinel,
        }))
    }

    /// The namespace of every key and channel.
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    pub fn is_tls(&self) -> bool {
        self.url.starts_with("rediss://") || self.url.starts_with("rediss+sentinel://")
    }

    /// Whether the master is found through Sentinel (and may move).
    pub fn is_sentinel(&self) -> bool {
        self.sentinel.is_some()
    }

    /// A client of the current master: for one server, its client (no connection is made
    /// yet); for a Sentinel group, the master the sentinels name now.
    pub async fn current_client(&self) -> redis::RedisResult<redis::Client> {
        match &self.sentinel {
            None => self.client(),
            Some(target) => {
                target
                    .client(self.is_tls().then(|| self.certificates()))?
                    .async_get_client()
                    .await
            }
        }
    }

    /// A client of one of the sentinels that answers (Sentinel only: an error otherwise).
    pub async fn sentinel_node(&self) -> redis::RedisResult<redis::Client> {
        match &self.sentinel {
            Some(target) => {
                target
                    .client(self.is_tls().then(|| self.certificates()))?
                    .async_get_sentinel_client()
                    .await
            }
            None => Err(redis::RedisError::from((
                redis::ErrorKind::InvalidClientConfig,
                "not a Sentinel configuration",
            ))),
        }
    }

    /// [`RedisSettings::current_client`], blocking (tools and tests).
    pub fn client(&self) -> redis::RedisResult<redis::Client> {
        if let Some(target) = &self.sentinel {
            return target
                .client(self.is_tls().then(|| self.certificates()))?
                .get_client();
        }
        if !self.is_tls() {
            return redis::Client::open(self.url.as_str());
        }
        redis::Client::build_with_tls(self.url.as_str(), self.certificates())
    }

    fn certificates(&self) -> redis::TlsCertificates {
        redis::TlsCertificates {
            client_tls: self
                .tls
                .client
                .as_ref()
                .map(|(cert, key)| redis::ClientTlsConfig {
                    client_cert: cert.clone(),
                    client_key: key.clone(),
                }),
            root_cert: self.tls.ca.clone(),
        }
    }
}

/// A file that must hold PEM data.
fn read_pem(name: &'static str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    let bytes = std::fs::read(path).map_err(|error| {
        ConfigError::new(name, format!("cannot read {}: {error}", path.display()))
    })?;
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(ConfigError::new(
            name,
            format!("{} is not a PEM file", path.display()),
        ));
    }
    Ok(bytes)
}

/// A key prefix: 1 to 64 letters, digits, `-`, `_` or `.`.
pub fn parse_key_prefix(value: &str) -> Result<String, String> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(value.to_owned())
    } else {
        Err("expected 1 to 64 letters, digits, '-', '_' or '.'".to_owned())
    }
}
