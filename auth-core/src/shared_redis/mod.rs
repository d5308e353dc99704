//! How every part of every process reaches Redis: one URL (`redis://` or, with TLS,
//! `rediss://`; or a Sentinel group), the namespace of its keys and channels, and for TLS
//! an optional CA bundle and client certificate, as managed Redis services require. The
//! revocation cache, the brute-force limiter and the per-client limits all open their
//! connections here, so a deployment's Redis is configured once.
//!
//! With Sentinel (`redis+sentinel://`), every new connection asks the sentinels for the
//! current master ([`RedisSettings::current_client`]); a connection whose command fails is
//! dropped ([`LazyConnection::failed`]) so the next one finds the master after a failover.
//! With a Cluster (`redis+cluster://`), connections follow the slot map by themselves; keys
//! used together share a hash tag ([`RedisSettings::key_group`]) and pub/sub uses sharded
//! channels ([`RedisSettings::publish_command`]), see [`cluster`].
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `REDIS_URL` | `redis://[USER:PASSWORD@]HOST:PORT[/DB]`, or `rediss://…` for TLS; for Sentinel `redis+sentinel://[USER:PASSWORD@]HOST:PORT[,HOST:PORT…]/MASTER_NAME[/DB]` (the credentials are the Redis servers', the sentinels are asked without), `rediss+sentinel://…` for TLS to both; for a Cluster `redis+cluster://[USER:PASSWORD@]HOST:PORT[,HOST:PORT…]` (some of its nodes), `rediss+cluster://…` for TLS | unset: no Redis |
//! | `REDIS_KEY_PREFIX` | namespace of every key and channel | `authsvc` |
//! | `REDIS_CA_FILE` | PEM CA bundle that signs the server's certificate (`rediss://` only) | the system's trust store |
//! | `REDIS_CLIENT_CERT_FILE`, `REDIS_CLIENT_KEY_FILE` | PEM client certificate and key for mutual TLS, both or neither (`rediss://` only) | none |

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{ConfigError, Env};

pub mod cluster;
mod connection;
mod endpoints;
mod lazy;
mod sentinel;
#[cfg(test)]
mod tests;

use cluster::{ClusterTarget, parse_cluster};
pub use connection::RedisConnection;
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

/// One server, a Sentinel group or a Cluster.
#[derive(Clone)]
enum Topology {
    Single,
    Sentinel(Arc<SentinelTarget>),
    Cluster(Arc<ClusterTarget>),
}

/// Where Redis is and how to reach it. Cheap to clone.
#[derive(Clone)]
pub struct RedisSettings {
    url: String,
    key_prefix: String,
    tls: Arc<TlsFiles>,
    topology: Topology,
}

impl std::fmt::Debug for RedisSettings {
    /// Without the URL (it may carry a password) or the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field("tls", &self.is_tls())
            .field("key_prefix", &self.key_prefix)
            .field("custom_ca", &self.tls.ca.is_some())
            .field("client_certificate", &self.tls.client.is_some())
            .field("sentinel", &self.is_sentinel())
            .field("cluster", &self.is_cluster())
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
            topology: Topology::Single,
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
        let tls = is_tls_url(&url);
        let invalid = |reason| ConfigError::new("REDIS_URL", reason);
        let topology = if let Some(rest) = url
            .strip_prefix("redis+sentinel://")
            .or_else(|| url.strip_prefix("rediss+sentinel://"))
        {
            Topology::Sentinel(Arc::new(parse_sentinel(rest).map_err(invalid)?))
        } else if let Some(rest) = url
            .strip_prefix("redis+cluster://")
            .or_else(|| url.strip_prefix("rediss+cluster://"))
        {
            Topology::Cluster(Arc::new(parse_cluster(rest).map_err(invalid)?))
        } else if url.starts_with("rediss://") || url.starts_with("redis://") {
            Topology::Single
        } else {
            return Err(invalid(
                "expected redis://HOST:PORT[/DB], rediss://HOST:PORT[/DB] for TLS, \
                 redis+sentinel://HOST:PORT[,HOST:PORT…]/MASTER_NAME[/DB], or \
                 redis+cluster://HOST:PORT[,HOST:PORT…]",
            ));
        };
        if let (Topology::Single, Err(error)) = (&topology, redis::Client::open(url.as_str())) {
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
            topology,
        }))
    }

    /// The namespace of every key and channel.
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    pub fn is_tls(&self) -> bool {
        is_tls_url(&self.url)
    }

    /// Whether the master is found through Sentinel (and may move).
    pub fn is_sentinel(&self) -> bool {
        matches!(self.topology, Topology::Sentinel(_))
    }

    /// Whether Redis is a Cluster (keys spread over slots, see [`cluster`]).
    pub fn is_cluster(&self) -> bool {
        matches!(self.topology, Topology::Cluster(_))
    }

    /// The common start of a group of keys (and channels) used together, in one script,
    /// transaction or pipeline: `PREFIX:NAME`, and on a Cluster `{PREFIX:NAME}`, a hash tag
    /// that puts the whole group in one slot (and so on one shard).
    pub fn key_group(&self, name: &str) -> String {
        if self.is_cluster() {
            format!("{{{}:{name}}}", self.key_prefix)
        } else {
            format!("{}:{name}", self.key_prefix)
        }
    }

    /// The command that publishes on a channel [`crate::pubsub::follow`] follows: on a
    /// Cluster `SPUBLISH` (a sharded channel, delivered by the shard that owns its slot
    /// rather than broadcast to every node), otherwise `PUBLISH`.
    pub fn publish_command(&self) -> &'static str {
        if self.is_cluster() {
            "SPUBLISH"
        } else {
            "PUBLISH"
        }
    }

    /// A connection whose commands (and connecting) time out after `timeout`; it
    /// reconnects by itself. With Sentinel, to the master the sentinels name now.
    pub async fn connect(&self, timeout: Duration) -> redis::RedisResult<RedisConnection> {
        if let Topology::Cluster(target) = &self.topology {
            let client = target.client(self.tls_certificates(), timeout, None)?;
            return Ok(RedisConnection::Cluster(
                client.get_async_connection().await?,
            ));
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let client = self.current_client().await?;
        Ok(RedisConnection::Single(
            client.get_connection_manager_with_config(config).await?,
        ))
    }

    /// A Cluster client that subscribes: RESP3, its pushes sent to `push` (Cluster only).
    pub(crate) fn cluster_subscriber(
        &self,
        timeout: Duration,
        push: tokio::sync::mpsc::UnboundedSender<redis::PushInfo>,
    ) -> redis::RedisResult<redis::cluster::ClusterClient> {
        match &self.topology {
            Topology::Cluster(target) => {
                target.client(self.tls_certificates(), timeout, Some(push))
            }
            _ => Err(not_a("Cluster")),
        }
    }

    /// A client of the current master: for one server, its client (no connection is made
    /// yet); for a Sentinel group, the master the sentinels name now. A Cluster has none
    /// (an error): use [`RedisSettings::connect`].
    pub async fn current_client(&self) -> redis::RedisResult<redis::Client> {
        match &self.topology {
            Topology::Sentinel(target) => {
                target
                    .client(self.tls_certificates())?
                    .async_get_client()
                    .await
            }
            _ => self.client(),
        }
    }

    /// A client of one of the sentinels that answers (Sentinel only: an error otherwise).
    pub async fn sentinel_node(&self) -> redis::RedisResult<redis::Client> {
        match &self.topology {
            Topology::Sentinel(target) => {
                target
                    .client(self.tls_certificates())?
                    .async_get_sentinel_client()
                    .await
            }
            _ => Err(not_a("Sentinel")),
        }
    }

    /// [`RedisSettings::current_client`], blocking (tools and tests).
    pub fn client(&self) -> redis::RedisResult<redis::Client> {
        match &self.topology {
            Topology::Sentinel(target) => target.client(self.tls_certificates())?.get_client(),
            Topology::Cluster(_) => Err(not_a("single-server or Sentinel")),
            Topology::Single if self.is_tls() => {
                redis::Client::build_with_tls(self.url.as_str(), self.certificates())
            }
            Topology::Single => redis::Client::open(self.url.as_str()),
        }
    }

    /// The certificates of a TLS connection; `None` without TLS.
    fn tls_certificates(&self) -> Option<redis::TlsCertificates> {
        self.is_tls().then(|| self.certificates())
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

fn is_tls_url(url: &str) -> bool {
    ["rediss://", "rediss+sentinel://", "rediss+cluster://"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
}

fn not_a(what: &str) -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::InvalidClientConfig,
        "not this kind of Redis configuration",
        format!("not a {what} configuration"),
    ))
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
