//! A `redis-server` of the test's own (feature `testing`), on a free loopback port, so it can
//! be stopped, restarted and flushed without touching other tests: plain, or TLS-only with
//! a CA, a server certificate and a client certificate the test makes with `openssl`
//! (mutual TLS, as managed Redis services may require).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::certificates::{self, TlsFiles};
use super::process::free_port;
use super::unavailable;
use crate::shared_redis::RedisSettings;

/// A redis-server process; killed when dropped.
pub struct RedisServer {
    pub port: u16,
    tls: Option<TlsFiles>,
    child: Option<Child>,
    /// Its working directory: it never loads a `dump.rdb` another server left behind.
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// A plain server (`redis://`); `None` (skip) when redis-server cannot start outside CI.
    pub fn start() -> Option<Self> {
        let mut server = Self {
            port: free_port(),
            tls: None,
            child: None,
            dir: tempfile::tempdir().expect("a temporary directory"),
        };
        server.restart()?;
        Some(server)
    }

    /// A TLS-only server (`rediss://`) that requires a client certificate; its files are
    /// made in `dir`.
    pub fn start_tls(dir: &Path) -> Option<Self> {
        let tls = certificates::make(dir)?;
        let mut server = Self {
            port: free_port(),
            tls: Some(tls),
            child: None,
            dir: tempfile::tempdir().expect("a temporary directory"),
        };
        server.restart()?;
        Some(server)
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The CA and client certificate of a TLS server.
    pub fn tls_files(&self) -> Option<&TlsFiles> {
        self.tls.as_ref()
    }

    /// The variables a service needs to reach this server (`REDIS_URL`, and the TLS files).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![("REDIS_URL", self.url())];
        if let Some(tls) = &self.tls {
            env.extend(tls.redis_env());
        }
        env
    }

    /// Settings for a client of this server, read from [`RedisServer::env`] as a service
    /// reads them.
    pub fn settings(&self, key_prefix: &str) -> RedisSettings {
        let mut env = self.env();
        env.push(("REDIS_KEY_PREFIX", key_prefix.to_owned()));
        let env = crate::config::Env::from_fn(move |name| {
            env.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.clone())
        });
        RedisSettings::from_env(&env)
            .expect("redis settings")
            .expect("REDIS_URL is set")
    }

    /// (Re)starts the server, empty.
    pub fn restart(&mut self) -> Option<()> {
        let port = self.port.to_string();
        let mut args = vec!["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
        let tls_args;
        match &self.tls {
            None => args.extend(["--port", port.as_str()]),
            Some(tls) => {
                tls_args = [
                    tls.server_cert.display().to_string(),
                    tls.server_key.display().to_string(),
                    tls.ca.display().to_string(),
                ];
                args.extend(["--port", "0", "--tls-port", port.as_str()]);
                args.extend(["--tls-cert-file", tls_args[0].as_str()]);
                args.extend(["--tls-key-file", tls_args[1].as_str()]);
                args.extend(["--tls-ca-cert-file", tls_args[2].as_str()]);
                args.extend(["--tls-auth-clients", "yes"]);
            }
        }
        let spawned = Command::new("redis-server")
            .args(&args)
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match spawned {
            Ok(child) => self.child = Some(child),
            Err(error) => return unavailable("redis-server (a test's own)", error),
        }
        let settings = self.settings("ping");
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Err(error) = ping(&settings) {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start: {error}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // What answered must be this server: on a restart, another process may have taken
        // the port meanwhile (our server then could not bind it and exited).
        std::thread::sleep(Duration::from_millis(50));
        if let Some(child) = &mut self.child {
            assert!(
                matches!(child.try_wait(), Ok(None)),
                "redis-server on port {} exited: another process took its port",
                self.port
            );
        }
        Some(())
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn flushall(&self) {
        let mut conn = self
            .settings("flush")
            .client()
            .and_then(|client| client.get_connection())
            .expect("connection");
        redis::cmd("FLUSHALL")
            .query::<()>(&mut conn)
            .expect("FLUSHALL");
    }

    /// The keys of this server that start with `prefix`.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        let mut conn = self
            .settings("keys")
            .client()
            .and_then(|client| client.get_connection())
            .expect("connection");
        redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query(&mut conn)
            .expect("KEYS")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `PING` through `settings`, with a one-second timeout.
pub fn ping(settings: &RedisSettings) -> redis::RedisResult<String> {
    let client = settings.client()?;
    let mut conn = client.get_connection_with_timeout(Duration::from_secs(1))?;
    redis::cmd("PING").query(&mut conn)
}
