//! README command one, `scripts/run`, for real: in a fresh directory, on the embedded
//! SQLite default, with the README's example run as written from a fresh shell, stopped
//! with SIGTERM, then run again in the same directory.

use std::io::{BufRead as _, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::cluster::{binary, free_port, sigterm, wait_exit};
use crate::http::{call, token_request};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/run");
const README: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));

/// The README's example of "Run it": its second `sh` block, run after `scripts/run`.
fn readme_example() -> String {
    let section = README
        .split("\n## ")
        .find(|section| section.starts_with("Run it"))
        .expect("a Run it section");
    let block = section
        .split("```sh\n")
        .nth(2)
        .and_then(|rest| rest.split("```").next())
        .expect("a second sh block in Run it");
    block.to_owned()
}

/// Runs the README's example in `dir` with bash from a fresh environment (only `PATH`),
/// against the ports this run uses instead of the defaults; returns its output.
fn run_readme_example(dir: &Path, run: &RunCommand) -> String {
    let script = readme_example()
        .replace(
            "127.0.0.1:8080",
            run.token_base.trim_start_matches("http://"),
        )
        .replace(
            "127.0.0.1:8081",
            run.admin_base.trim_start_matches("http://"),
        );
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("bash and curl are installed");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "the README example failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// One run of `scripts/run` with `dir` as its current directory.
struct RunCommand {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: PathBuf,
    token_base: String,
    admin_base: String,
    ports: [u16; 2],
}

impl RunCommand {
    fn start(dir: &Path) -> Self {
        let ports = [free_port(), free_port()];
        // The build directory of this test, so the script's `cargo build` has nothing to do.
        let target_dir = binary("token-service")
            .parent()
            .and_then(Path::parent)
            .unwrap()
            .to_owned();
        let stderr = dir.join(format!("run-{}.log", ports[0]));
        let mut child = Command::new(SCRIPT)
            .current_dir(dir)
            .env("PROFILE", "dev")
            .env("CARGO_TARGET_DIR", target_dir)
            .env("TOKEN_SERVICE_ADDR", format!("127.0.0.1:{}", ports[0]))
            .env("ADMIN_SERVICE_ADDR", format!("127.0.0.1:{}", ports[1]))
            .env("RUST_LOG", "warn")
            // Everything else is the defaults: SQLite, credentials and key under ./data.
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .env_remove("OAUTH_ROOT_CLIENT_ID")
            .env_remove("OAUTH_ROOT_CLIENT_SECRET")
            .env_remove("OAUTH_SIGNING_KEY_FILE")
            .env_remove("OAUTH_ISSUER")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let stdout = Arc::new(Mutex::new(String::new()));
        let lines = BufReader::new(child.stdout.take().unwrap());
        let sink = Arc::clone(&stdout);
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                let mut out = sink.lock().unwrap();
                out.push_str(&line);
                out.push('\n');
            }
        });
        Self {
            child,
            stdout,
            stderr,
            token_base: format!("http://127.0.0.1:{}", ports[0]),
            admin_base: format!("http://127.0.0.1:{}", ports[1]),
            ports,
        }
    }

    fn output(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            self.stdout.lock().unwrap(),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }

    /// Waits for the banner the script prints once both services are ready, and returns
    /// the root credentials it shows.
    async fn wait_ready(&mut self) -> (String, String) {
        // Generous: the script builds first (a no-op when the tests' build is current).
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let printed = self.stdout.lock().unwrap().clone();
            if printed.contains("Ctrl-C stops both") {
                let value = |name: &str| {
                    printed
                        .lines()
                        .find_map(|line| line.trim().split_once(&format!("{name}=")))
                        .map(|(_, value)| value.trim().to_owned())
                        .unwrap_or_else(|| panic!("{name} not printed:\n{printed}"))
                };
                return (
                    value("OAUTH_ROOT_CLIENT_ID"),
                    value("OAUTH_ROOT_CLIENT_SECRET"),
                );
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("scripts/run exited with {status}:\n{}", self.output());
            }
            assert!(
                Instant::now() < deadline,
                "scripts/run never became ready:\n{}",
                self.output()
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, then the exit status; both services must be gone by then.
    async fn stop(&mut self) -> std::process::ExitStatus {
        sigterm(self.child.id());
        let status = wait_exit(&mut self.child, Duration::from_secs(60), "scripts/run").await;
        for port in self.ports {
            assert!(
                TcpStream::connect(("127.0.0.1", port)).is_err(),
                "port {port} still accepts connections after scripts/run exited"
            );
        }
        status
    }
}

impl Drop for RunCommand {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            sigterm(self.child.id());
            let deadline = Instant::now() + Duration::from_secs(30);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The kid of the key token-service signs with.
async fn kid(http: &awc::Client, token_base: &str) -> String {
    let jwks = call(
        http.get(format!("{token_base}/.well-known/jwks.json")),
        None,
    )
    .await;
    assert_eq!(jwks.status, 200);
    jwks.json["keys"][0]["kid"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn scripts_run_serves_stops_cleanly_and_reuses_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let http = awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish();

    let mut first = RunCommand::start(dir.path());
    let (root_id, root_secret) = first.wait_ready().await;
    assert!(root_secret.len() >= 32, "a generated secret: {root_secret}");

    // Everything it created is in ./data of the directory it was run from.
    let data = dir.path().join("data");
    for file in ["root-credentials.env", "signing-key.pem", "auth.sqlite"] {
        assert!(data.join(file).is_file(), "data/{file} is missing");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |file: &str| {
            std::fs::metadata(data.join(file))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("root-credentials.env"), 0o600);
        assert_eq!(mode("signing-key.pem"), 0o600);
    }

    // The README's example, as written, from a fresh shell: one base URL, as fidesops had.
    let printed = run_readme_example(dir.path(), &first);
    let example: serde_json::Value = serde_json::from_str(&printed)
        .unwrap_or_else(|_| panic!("the README example printed: {printed}"));
    assert!(example["client_id"].is_string(), "{example}");
    assert!(example["client_secret"].is_string(), "{example}");
    assert_eq!(example["scopes"], json!(["client:read"]));

    // The printed credentials work: a root token, then a client.
    let (request, body) = token_request(&http, &first.token_base, &root_id, &root_secret);
    let root = call(request, Some(body)).await;
    assert_eq!(root.status, 200, "{}\n{}", root.json, first.output());
    let root_token = root.json["access_token"].as_str().unwrap().to_owned();
    let created = call(
        http.post(format!("{}/api/v1/oauth/client", first.admin_base))
            .insert_header(("authorization", format!("Bearer {root_token}")))
            .insert_header(("content-type", "application/json")),
        Some(json!(["client:read"]).to_string()),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.json);
    let client_id = created.json["client_id"].as_str().unwrap().to_owned();
    let first_kid = kid(&http, &first.token_base).await;

    let status = first.stop().await;
    assert!(status.success(), "exit {status}:\n{}", first.output());
    // The services' logs went to a file: plain text, no terminal colour codes.
    let logs = std::fs::read_to_string(&first.stderr).unwrap();
    assert!(
        logs.contains("generated a development signing key"),
        "{logs}"
    );
    assert!(
        !logs.contains('\u{1b}'),
        "ANSI escapes in a log file:\n{logs}"
    );

    // A second run in the same directory reuses the credentials, the key and the database.
    let mut second = RunCommand::start(dir.path());
    let (id_again, secret_again) = second.wait_ready().await;
    assert_eq!(
        (id_again.as_str(), secret_again.as_str()),
        (root_id.as_str(), root_secret.as_str())
    );
    assert_eq!(kid(&http, &second.token_base).await, first_kid);
    let (request, body) = token_request(&http, &second.token_base, &root_id, &root_secret);
    let root = call(request, Some(body)).await;
    assert_eq!(root.status, 200, "{}", root.json);
    let root_token = root.json["access_token"].as_str().unwrap();
    let found = call(
        http.get(format!(
            "{}/api/v1/oauth/client/{client_id}",
            second.admin_base
        ))
        .insert_header(("authorization", format!("Bearer {root_token}"))),
        None,
    )
    .await;
    assert_eq!(
        found.status, 200,
        "the client outlived the restart: {}",
        found.json
    );

    let status = second.stop().await;
    assert!(status.success(), "exit {status}:\n{}", second.output());
}
