//! A `redis-server` of the test's own (feature `testing`), on a free loopback port, so it can
//! be stopped, restarted and flushed without touching other tests: plain, or TLS-only with
//! a CA, a server certificate and a client certificate the test makes with `openssl`
//! (mutual TLS, as managed Redis services may require).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::process::free_port;
use super::unavailable;
use crate::shared_redis::RedisSettings;

/// The PEM files of a TLS test server: its CA, and a client certificate signed by it.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
}

/// A redis-server process; killed when dropped.
pub struct RedisServer {
    pub port: u16,
    tls: Option<TlsFiles>,
    child: Option<Child>,
}

impl RedisServer {
    /// A plain server (`redis://`); `None` (skip) when redis-server cannot start outside CI.
    pub fn start() -> Option<Self> {
        let mut server = Self {
            port: free_port(),
            tls: None,
            child: None,
        };
        server.restart()?;
        Some(server)
    }

    /// A TLS-only server (`rediss://`) that requires a client certificate; its files are
    /// made in `dir`.
    pub fn start_tls(dir: &Path) -> Option<Self> {
        let tls = make_certificates(dir)?;
        let mut server = Self {
            port: free_port(),
            tls: Some(tls),
            child: None,
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
            env.extend([
                ("REDIS_CA_FILE", tls.ca.display().to_string()),
                (
                    "REDIS_CLIENT_CERT_FILE",
                    tls.client_cert.display().to_string(),
                ),
                (
                    "REDIS_CLIENT_KEY_FILE",
                    tls.client_key.display().to_string(),
                ),
            ]);
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

/// A CA, and a server (127.0.0.1) and a client certificate it signs, made by `openssl`
/// (P-256 keys, valid for a day).
fn make_certificates(dir: &Path) -> Option<TlsFiles> {
    // Extensions make version-3 certificates, the only version WebPKI accepts.
    let extensions = [
        (
            "server.ext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
        ),
        ("client.ext", "extendedKeyUsage=clientAuth\n"),
    ];
    for (file, text) in extensions {
        std::fs::write(dir.join(file), text).expect("extensions file");
    }
    const NEW_KEY: &str = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    let steps = [
        format!("req -x509 {NEW_KEY} -days 1 -subj /CN=test-ca -keyout ca.key -out ca.pem"),
        format!("req {NEW_KEY} -subj /CN=localhost -keyout server.key -out server.csr"),
        "x509 -req -days 1 -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
         -extfile server.ext -out server.pem"
            .to_owned(),
        format!("req {NEW_KEY} -subj /CN=test-client -keyout client.key -out client.csr"),
        "x509 -req -days 1 -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
         -extfile client.ext -out client.pem"
            .to_owned(),
    ];
    for step in steps {
        let output = Command::new("openssl")
            .args(step.split_whitespace())
            .current_dir(dir)
            .stdin(Stdio::null())
            .output();
        match output {
            Ok(output) if output.status.success() => {}
            Ok(output) => panic!(
                "openssl {step}: {}",
                String::from_utf8_lossy(&output.stderr)
            ),
            Err(error) => return unavailable("openssl (to make test certificates)", error),
        }
    }
    Some(TlsFiles {
        ca: dir.join("ca.pem"),
        client_cert: dir.join("client.pem"),
        client_key: dir.join("client.key"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
    })
}
