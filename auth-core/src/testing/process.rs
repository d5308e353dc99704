//! Real processes for system tests (feature `testing`): the workspace's built binaries,
//! each on its own port, run in the test's own directory with output captured to a file,
//! killed when dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A binary of this workspace, built next to the running test executable
/// (`target/<profile>/deps/<test>` → `target/<profile>/<name>`). `scripts/test` builds them.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` (scripts/test does)",
        path.display()
    );
    path
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running process; killed when dropped. Its stdout and stderr go to `log`.
pub struct Process {
    pub name: String,
    pub port: u16,
    pub base: String,
    pub log: PathBuf,
    child: Child,
}

impl Process {
    /// Starts `program` with exactly `env` (plus `PATH`) in `dir`, where its log goes too:
    /// nothing a service writes lands in the checkout.
    pub fn spawn(
        program: &Path,
        port: u16,
        args: &[&str],
        env: &[(String, String)],
        dir: &Path,
    ) -> Self {
        let name = program
            .file_name()
            .map_or_else(|| "process".into(), |n| n.to_string_lossy().into_owned());
        let log = dir.join(format!("{name}-{port}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(program)
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        Self {
            name,
            port,
            base: format!("http://127.0.0.1:{port}"),
            log,
            child,
        }
    }

    /// Everything the process wrote so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `GET /health/live` answers 200 (30 s at most).
    pub async fn wait_live(&mut self) {
        self.wait_for("/health/live").await;
    }

    /// Waits until `GET /health/ready` answers 200 (30 s at most): for admin-service, its
    /// database answers and token-service's keys are loaded.
    pub async fn wait_ready(&mut self) {
        self.wait_for("/health/ready").await;
    }

    async fn wait_for(&mut self, path: &str) {
        let http = awc::Client::builder()
            .timeout(Duration::from_secs(2))
            .finish();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = http.get(format!("{}{path}", self.base)).send().await
                && response.status().is_success()
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited with {status}:\n{}", self.name, self.output());
            }
            assert!(
                Instant::now() < deadline,
                "{} never answered {path} with 200:\n{}",
                self.name,
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        self.sigterm();
        self.child.wait().expect("wait for the process")
    }

    /// Sends SIGTERM and returns at once.
    pub fn sigterm(&self) {
        sigterm(self.child.id());
    }

    /// Waits (without blocking the test's runtime) for the process to exit.
    pub async fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        wait_exit(&mut self.child, timeout, &self.name).await
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends SIGTERM to process `pid`.
pub fn sigterm(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}

/// Polls `child` until it exits, without blocking the test's runtime; panics after
/// `timeout`.
pub async fn wait_exit(child: &mut Child, timeout: Duration, name: &str) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("poll the process") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "{name} still running after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
