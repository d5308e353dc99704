//! One `redis-server` process of a test's own group of them (a Sentinel group, a Cluster):
//! started, asked, waited for, killed when dropped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::unavailable;

/// One `redis-server` process (data node or sentinel); killed when dropped.
pub(super) struct Node {
    pub(super) port: u16,
    pub(super) child: Child,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `redis-server` with `args`, working in `dir`: what it writes (a replica's copy
/// of the data, a cluster file) goes there, and it never loads a `dump.rdb` some other
/// server left in the test's working directory.
pub(super) fn spawn(args: &[&str], dir: &Path) -> Option<Child> {
    match Command::new("redis-server")
        .args(args)
        .arg("--dir")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => Some(child),
        Err(error) => unavailable(
            "redis-server (a Sentinel group or Cluster of the test's own)",
            error,
        ),
    }
}

/// Runs `command` on the node at `port` (one-second timeouts).
pub(super) fn query<T: redis::FromRedisValue>(
    port: u16,
    command: &redis::Cmd,
) -> redis::RedisResult<T> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
    let mut conn = client.get_connection_with_timeout(Duration::from_secs(1))?;
    conn.set_read_timeout(Some(Duration::from_secs(2)))?;
    command.query(&mut conn)
}

pub(super) fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < deadline, "{what}: not after 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}
