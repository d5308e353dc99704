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
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::config::{ConfigError, Env};

pub const DEFAULT_KEY_PREFIX: &str = "authsvc";

/// PEM files of a TLS connection, read at start-up.
#[derive(Clone, Default)]
struct TlsFiles {
    ca: Option<Vec<u8>>,
    /// Certificate and key.
    client: Option<(Vec<u8>, Vec<u8>)>,
}

/// A Sentinel group and the master it watches.
#[derive(Clone)]
struct SentinelTarget {
    sentinels: Vec<(String, u16)>,
    master: String,
    db: i64,
    username: Option<String>,
    password: Option<String>,
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
            Some(target) => self.sentinel_client(target)?.async_get_client().await,
        }
    }

    /// A client of one of the sentinels that answers (Sentinel only: an error otherwise).
    pub async fn sentinel_node(&self) -> redis::RedisResult<redis::Client> {
        match &self.sentinel {
            Some(target) => {
                self.sentinel_client(target)?
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
            return self.sentinel_client(target)?.get_client();
        }
        if !self.is_tls() {
            return redis::Client::open(self.url.as_str());
        }
        redis::Client::build_with_tls(self.url.as_str(), self.certificates())
    }

    fn sentinel_client(
        &self,
        target: &SentinelTarget,
    ) -> redis::RedisResult<redis::sentinel::SentinelClient> {
        use redis::sentinel::{SentinelClientBuilder, SentinelServerType};
        let sentinels = target
            .sentinels
            .iter()
            .map(|(host, port)| redis::ConnectionAddr::Tcp(host.clone(), *port));
        let mut builder =
            SentinelClientBuilder::new(sentinels, &target.master, SentinelServerType::Master)?
                .set_client_to_redis_db(target.db);
        if let Some(username) = &target.username {
            builder = builder.set_client_to_redis_username(username);
        }
        if let Some(password) = &target.password {
            builder = builder.set_client_to_redis_password(password);
        }
        if self.is_tls() {
            builder = builder
                .set_client_to_redis_tls_mode(redis::TlsMode::Secure)
                .set_client_to_redis_certificates(self.certificates())
                .set_client_to_sentinel_tls_mode(redis::TlsMode::Secure)
                .set_client_to_sentinel_certificates(self.certificates());
        }
        builder.build()
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

/// `[USER[:PASSWORD]@]HOST:PORT[,HOST:PORT…]/MASTER_NAME[/DB]` (after the scheme); the
/// user and password may be percent-encoded. The reasons never quote the input.
fn parse_sentinel(rest: &str) -> Result<SentinelTarget, &'static str> {
    const SHAPE: &str =
        "expected redis+sentinel://[USER:PASSWORD@]HOST:PORT[,HOST:PORT…]/MASTER_NAME[/DB]";
    let (credentials, rest) = match rest.rsplit_once('@') {
        Some((credentials, rest)) => (Some(credentials), rest),
        None => (None, rest),
    };
    let (hosts, path) = rest.split_once('/').ok_or(SHAPE)?;
    let mut path = path.trim_end_matches('/').split('/');
    let master = path.next().filter(|m| !m.is_empty()).ok_or(SHAPE)?;
    let db = match path.next() {
        None => 0,
        Some(db) => db.parse().map_err(|_| SHAPE)?,
    };
    if path.next().is_some() {
        return Err(SHAPE);
    }
    let sentinels = hosts
        .split(',')
        .map(|host| {
            let (name, port) = host.rsplit_once(':')?;
            let port = port.parse().ok()?;
            (!name.is_empty()).then(|| (name.to_owned(), port))
        })
        .collect::<Option<Vec<_>>>()
        .filter(|sentinels| !sentinels.is_empty())
        .ok_or(SHAPE)?;
    let (username, password) = match credentials {
        None => (None, None),
        Some(credentials) => {
            let (user, password) = match credentials.split_once(':') {
                Some((user, password)) => (user, Some(password)),
                None => (credentials, None),
            };
            let decode = |value: &str| {
                percent_decode(value).ok_or("REDIS_URL's user or password is badly percent-encoded")
            };
            (
                (!user.is_empty()).then(|| decode(user)).transpose()?,
                password.map(decode).transpose()?,
            )
        }
    };
    Ok(SentinelTarget {
        sentinels,
        master: master.to_owned(),
        db,
        username,
        password,
    })
}

/// `%XX` sequences decoded; `None` for a bad sequence or a result that is not UTF-8.
fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' {
            let hex = std::str::from_utf8(bytes.get(at + 1..at + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            at += 3;
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(out).ok()
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

/// A multiplexed connection opened on first use and then shared (it reconnects by itself):
/// a part that talks to Redis only now and then holds one of these, not a connection of
/// its own from start-up. Every command through it is bounded by its timeout.
pub struct LazyConnection {
    settings: RedisSettings,
    timeout: Duration,
    conn: Mutex<Option<redis::aio::ConnectionManager>>,
}

impl std::fmt::Debug for LazyConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyConnection")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl LazyConnection {
    pub fn new(settings: RedisSettings, timeout: Duration) -> Self {
        Self {
            settings,
            timeout,
            conn: Mutex::new(None),
        }
    }

    /// How long a command through this connection may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The connection; `None` when Redis cannot be reached within the timeout.
    pub async fn get(&self) -> Option<redis::aio::ConnectionManager> {
        if let Some(conn) = self
            .conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            return Some(conn);
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        // Boxed: connecting is rare, and its future (Sentinel's discovery) is deep.
        let connect = Box::pin(async {
            let client = self.settings.current_client().await?;
            client.get_connection_manager_with_config(config).await
        });
        let conn = tokio::time::timeout(self.timeout, connect)
            .await
            .ok()?
            .ok()?;
        *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = Some(conn.clone());
        Some(conn)
    }

    /// A command through the connection failed: with Sentinel, the master may have moved,
    /// so the next [`LazyConnection::get`] asks the sentinels again. (One server's
    /// connection reconnects by itself.)
    pub fn failed(&self) {
        if self.settings.is_sentinel() {
            *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Option<RedisSettings>, ConfigError> {
        let vars: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        RedisSettings::from_env(&Env::from_fn(|name| vars.get(name).cloned()))
    }

    #[test]
    fn sentinel_urls_name_the_sentinels_the_master_and_the_credentials() {
        let target =
            parse_sentinel("app:p%40ss@10.0.0.1:26379,sentinel-2:26380/mymaster/3").unwrap();
        assert_eq!(
            target.sentinels,
            [
                ("10.0.0.1".to_owned(), 26379),
                ("sentinel-2".to_owned(), 26380)
            ]
        );
        assert_eq!(target.master, "mymaster");
        assert_eq!(target.db, 3);
        assert_eq!(target.username.as_deref(), Some("app"));
        assert_eq!(target.password.as_deref(), Some("p@ss"));
        let bare = parse_sentinel(":secret@s:1/m").unwrap();
        assert_eq!(
            (bare.username, bare.password.as_deref()),
            (None, Some("secret"))
        );
        assert_eq!(parse_sentinel("s:1/m/").unwrap().db, 0);
        for bad in [
            "s:1",
            "s:1/",
            "s/m",
            ":1/m",
            "s:x/m",
            "s:1/m/x",
            "s:1/m/0/1",
            "u:%zz@s:1/m",
        ] {
            assert!(parse_sentinel(bad).is_err(), "{bad}");
        }
        let settings = settings(&[("REDIS_URL", "redis+sentinel://u:hunter2@s:26379/m")])
            .unwrap()
            .unwrap();
        assert!(settings.is_sentinel() && !settings.is_tls());
        assert!(!format!("{settings:?}").contains("hunter2"));
        let error = settings_error("redis+sentinel://u:hunter2@s:26379");
        assert!(!error.contains("hunter2"), "{error}");
    }

    fn settings_error(url: &str) -> String {
        settings(&[("REDIS_URL", url)]).unwrap_err().to_string()
    }

    #[test]
    fn urls_prefixes_and_tls_files_are_checked_and_errors_name_the_variable() {
        assert!(settings(&[]).unwrap().is_none());
        let plain = settings(&[("REDIS_URL", "redis://127.0.0.1:6379/2")])
            .unwrap()
            .unwrap();
        assert!(!plain.is_tls());
        assert_eq!(plain.key_prefix(), "authsvc");
        let tls = settings(&[("REDIS_URL", "rediss://cache.example:6380")])
            .unwrap()
            .unwrap();
        assert!(tls.is_tls());
        assert!(tls.client().is_ok());

        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("ca.pem");
        std::fs::write(
            &pem,
            "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let not_pem = dir.path().join("ca.txt");
        std::fs::write(&not_pem, "hello").unwrap();
        let (pem, not_pem) = (pem.display().to_string(), not_pem.display().to_string());
        let with_ca = settings(&[
            ("REDIS_URL", "rediss://cache.example:6380"),
            ("REDIS_CA_FILE", &pem),
        ])
        .unwrap()
        .unwrap();
        assert!(format!("{with_ca:?}").contains("custom_ca: true"));

        let secret_url = "redis://user:hunter2@cache.example:notaport";
        for (pairs, variable) in [
            (vec![("REDIS_URL", "http://cache:6379")], "REDIS_URL"),
            (vec![("REDIS_URL", secret_url)], "REDIS_URL"),
            (
                vec![
                    ("REDIS_URL", "redis://cache:6379"),
                    ("REDIS_KEY_PREFIX", "a b"),
                ],
                "REDIS_KEY_PREFIX",
            ),
            (
                vec![("REDIS_URL", "redis://cache:6379"), ("REDIS_CA_FILE", &pem)],
                "REDIS_CA_FILE",
            ),
            (
                vec![
                    ("REDIS_URL", "rediss://cache:6380"),
                    ("REDIS_CA_FILE", &not_pem),
                ],
                "REDIS_CA_FILE",
            ),
            (
                vec![
                    ("REDIS_URL", "rediss://cache:6380"),
                    ("REDIS_CA_FILE", "/nonexistent.pem"),
                ],
                "REDIS_CA_FILE",
            ),
            (
                vec![
                    ("REDIS_URL", "rediss://cache:6380"),
                    ("REDIS_CLIENT_CERT_FILE", &pem),
                ],
                "REDIS_CLIENT_KEY_FILE",
            ),
            (
                vec![
                    ("REDIS_URL", "rediss://cache:6380"),
                    ("REDIS_CLIENT_KEY_FILE", &pem),
                ],
                "REDIS_CLIENT_CERT_FILE",
            ),
        ] {
            let error = settings(&pairs).unwrap_err();
            assert_eq!(error.variable, variable, "{pairs:?}");
            assert!(!error.to_string().contains("hunter2"), "{error}");
        }
    }
}
