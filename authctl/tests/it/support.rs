//! One stack per test (its own database, token-service and admin-service), and `authctl`
//! runs against it.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use auth_core::testing::process::{Process, binary, free_port};
use auth_core::testing::{Backend, TestDatabase, signing_key_file};
use serde_json::Value;

pub const ROOT_ID: &str = "root";
pub const ROOT_SECRET: &str = "authctl-test-root-secret";
const ISSUER: &str = "http://auth.authctl-test";

/// An Ed25519 public key (RFC 8037, appendix A.2).
pub const PUBLIC_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

/// token-service and admin-service on a database of their own.
pub struct Stack {
    pub token: Process,
    pub admin: Process,
    /// Where the test's files go (and the services' logs).
    pub dir: tempfile::TempDir,
    _db: TestDatabase,
}

/// What one `authctl` run did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts exit code 0 and returns standard output.
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "authctl failed: {self:#?}");
        &self.stdout
    }

    /// Standard output as JSON (after asserting success).
    pub fn json(&self) -> Value {
        serde_json::from_str(self.ok())
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

impl Stack {
    /// Starts both services; `None` when PostgreSQL is unreachable and skipping is allowed.
    pub fn start() -> Option<Self> {
        let db = TestDatabase::create(Backend::Postgres)?;
        let dir = tempfile::tempdir().unwrap();
        let key = signing_key_file(dir.path());
        let common = |extra: &[(&str, String)]| -> Vec<(String, String)> {
            [
                ("DATABASE_URL", db.url_string()),
                ("DATABASE_POOL_SIZE", "4".into()),
                ("OAUTH_ROOT_CLIENT_ID", ROOT_ID.into()),
                ("OAUTH_ISSUER", ISSUER.into()),
                ("RUST_LOG", "warn".into()),
            ]
            .iter()
            .chain(extra)
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
        };
        let token_port = free_port();
        let mut token = Process::spawn(
            &binary("token-service"),
            token_port,
            &[],
            &common(&[
                ("TOKEN_SERVICE_ADDR", format!("127.0.0.1:{token_port}")),
                ("OAUTH_ROOT_CLIENT_SECRET", ROOT_SECRET.into()),
                ("OAUTH_SIGNING_KEY_FILE", key.display().to_string()),
            ]),
            dir.path(),
        );
        wait_ready(&mut token);
        // admin-service holds neither the signing key nor the root secret.
        let admin_port = free_port();
        let mut admin = Process::spawn(
            &binary("admin-service"),
            admin_port,
            &[],
            &common(&[
                ("ADMIN_SERVICE_ADDR", format!("127.0.0.1:{admin_port}")),
                ("TOKEN_SERVICE_URL", token.base.clone()),
            ]),
            dir.path(),
        );
        wait_ready(&mut admin);
        Some(Self {
            token,
            admin,
            dir,
            _db: db,
        })
    }

    /// The environment of an operator logged in as root.
    pub fn root_env(&self) -> Vec<(String, String)> {
        vec![
            ("AUTHCTL_TOKEN_URL".into(), self.token.base.clone()),
            ("AUTHCTL_ADMIN_URL".into(), self.admin.base.clone()),
            ("AUTHCTL_CLIENT_ID".into(), ROOT_ID.into()),
            ("AUTHCTL_CLIENT_SECRET".into(), ROOT_SECRET.into()),
        ]
    }

    /// Runs `authctl args` as root.
    pub fn authctl(&self, args: &[&str]) -> Run {
        authctl(args, &self.root_env(), self.dir.path())
    }

    /// Runs `authctl args -o json` as root, asserts success and parses the output.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.extend(["-o", "json"]);
        self.authctl(&args).json()
    }

    /// Writes `text` to `name` in the test's directory.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A directory in the test's directory, created empty.
    pub fn mkdir(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir(&path).unwrap();
        path
    }

    /// Every client, as `authctl clients list -o json` shows them.
    pub fn clients(&self) -> Vec<Value> {
        self.json(&["clients", "list"]).as_array().unwrap().clone()
    }

    /// The client named `name`.
    pub fn client(&self, name: &str) -> Value {
        self.clients()
            .into_iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no client named {name}"))
    }

    /// The scope registry.
    pub fn registry(&self) -> Vec<String> {
        serde_json::from_value(self.json(&["scopes", "list"])).unwrap()
    }
}

/// Runs the built `authctl` with exactly `env` (plus `PATH`), in `dir`.
pub fn authctl(args: &[&str], env: &[(String, String)], dir: &Path) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_authctl"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Waits until the process answers `GET /health/ready` with 200 (30 s at most).
fn wait_ready(process: &mut Process) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if ready(process.port) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} never became ready:\n{}",
            process.name,
            process.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn ready(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

/// The Unix mode bits of `path`.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}
