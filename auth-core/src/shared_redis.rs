//! How every part of every process reaches Redis: one URL (`redis://` or, with TLS,
//! `rediss://`), the namespace of its keys and channels, and for TLS an optional CA bundle
//! and client certificate, as managed Redis services require. The revocation cache, the
//! brute-force limiter and the per-client limits all open their clients here, so a
//! deployment's Redis is configured once.
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `REDIS_URL` | `redis://[USER:PASSWORD@]HOST:PORT[/DB]`, or `rediss://…` for TLS | unset: no Redis |
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

/// Where Redis is and how to reach it. Cheap to clone.
#[derive(Clone)]
pub struct RedisSettings {
    url: String,
    key_prefix: String,
    tls: Arc<TlsFiles>,
}

impl std::fmt::Debug for RedisSettings {
    /// Without the URL (it may carry a password) or the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field("tls", &self.is_tls())
            .field("key_prefix", &self.key_prefix)
            .field("custom_ca", &self.tls.ca.is_some())
            .field("client_certificate", &self.tls.client.is_some())
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
        let tls = if url.starts_with("rediss://") {
            true
        } else if url.starts_with("redis://") {
            false
        } else {
            return Err(ConfigError::new(
                "REDIS_URL",
                "expected redis://HOST:PORT[/DB], or rediss://HOST:PORT[/DB] for TLS",
            ));
        };
        if let Err(error) = redis::Client::open(url.as_str()) {
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
        }))
    }

    /// The namespace of every key and channel.
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    pub fn is_tls(&self) -> bool {
        self.url.starts_with("rediss://")
    }

    /// A client for these settings (no connection is made yet).
    pub fn client(&self) -> redis::RedisResult<redis::Client> {
        if !self.is_tls() {
            return redis::Client::open(self.url.as_str());
        }
        let certificates = redis::TlsCertificates {
            client_tls: self
                .tls
                .client
                .as_ref()
                .map(|(cert, key)| redis::ClientTlsConfig {
                    client_cert: cert.clone(),
                    client_key: key.clone(),
                }),
            root_cert: self.tls.ca.clone(),
        };
        redis::Client::build_with_tls(self.url.as_str(), certificates)
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

/// A multiplexed connection opened on first use and then shared (it reconnects by itself):
/// a part that talks to Redis only now and then holds one of these, not a connection of
/// its own from start-up. Every command through it is bounded by its timeout.
pub struct LazyConnection {
    client: redis::Client,
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
    pub fn new(client: redis::Client, timeout: Duration) -> Self {
        Self {
            client,
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
        let conn = tokio::time::timeout(
            self.timeout,
            self.client.get_connection_manager_with_config(config),
        )
        .await
        .ok()?
        .ok()?;
        *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = Some(conn.clone());
        Some(conn)
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
