//! An HTTPS server of static files (feature `testing`): `openssl s_server -WWW` serving a
//! directory of the test's own on a free loopback port, with a certificate signed by a CA
//! the test made ([`super::certificates`]), so a test can show that a fetch trusts exactly
//! the CA it was given. Killed when dropped.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::certificates::{self, TlsFiles};
use super::process::free_port;
use super::unavailable;

pub struct HttpsFiles {
    pub port: u16,
    /// The files served: `https://127.0.0.1:PORT/NAME` is `dir/NAME`.
    pub dir: PathBuf,
    pub tls: TlsFiles,
    child: Child,
}

impl HttpsFiles {
    /// Serves `dir` (the certificates are made there too); `None` (skip, or a failure under
    /// CI) when `openssl` is missing.
    pub fn start(dir: &Path) -> Option<Self> {
        let tls = certificates::make(dir)?;
        let port = free_port();
        let spawned = Command::new("openssl")
            .args(["s_server", "-quiet", "-WWW", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(&tls.server_cert)
            .arg("-key")
            .arg(&tls.server_key)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(error) => return unavailable("openssl (s_server)", error),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "openssl s_server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Self {
            port,
            dir: dir.to_owned(),
            tls,
            child,
        })
    }

    /// The URL of file `name`.
    pub fn url(&self, name: &str) -> String {
        format!("https://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for HttpsFiles {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
