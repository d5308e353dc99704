//! Real processes for system tests (feature `testing`): the workspace's built binaries,
//! each on its own port, with output captured to a file, killed when dropped.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
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
    /// Starts `program` with exactly `env` (plus `PATH`), logging under `logs`.
    pub fn spawn(
        program: &Path,
        port: u16,
        args: &[&str],
        env: &[(String, String)],
        logs: &Path,
    ) -> Self {
        let name = program
            .file_name()
            .map_or_else(|| "process".into(), |n| n.to_string_lossy().into_owned());
        let log = logs.join(format!("{name}-{port}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(program)
            .args(args)
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

    /// Blocks until `GET /health/live` answers 200 (30 s at most).
    pub fn wait_live(&mut self) {
        self.wait_for("/health/live");
    }

    /// Blocks until `GET /health/ready` answers 200 (30 s at most): for admin-service, its
    /// database answers and token-service's keys are loaded.
    pub fn wait_ready(&mut self) {
        self.wait_for("/health/ready");
    }

    fn wait_for(&mut self, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if http_status(self.port, path) == Some(200) {
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
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("wait for the process")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The status of a plain `GET path` on 127.0.0.1:`port`, if anything answered.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}
