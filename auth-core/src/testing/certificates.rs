//! Test certificates (feature `testing`): a CA, and a server certificate (127.0.0.1,
//! localhost) and a client certificate it signs, made with `openssl` in the test's
//! directory, for the TLS servers tests start (Redis, an HTTPS key server).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::unavailable;

/// The PEM files of a TLS test server: its CA, and a client certificate signed by it.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

impl TlsFiles {
    /// The variables a service needs to reach a TLS server of these files: its CA and the
    /// client certificate (`REDIS_URL` apart).
    pub fn redis_env(&self) -> [(&'static str, String); 3] {
        [
            ("REDIS_CA_FILE", self.ca.display().to_string()),
            (
                "REDIS_CLIENT_CERT_FILE",
                self.client_cert.display().to_string(),
            ),
            (
                "REDIS_CLIENT_KEY_FILE",
                self.client_key.display().to_string(),
            ),
        ]
    }
}

/// A CA, and a server (127.0.0.1) and a client certificate it signs, made by `openssl`
/// (P-256 keys, valid for a day).
pub fn make(dir: &Path) -> Option<TlsFiles> {
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
