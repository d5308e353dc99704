//! A Redis Sentinel group of the test's own (feature `testing`): a master, a replica and
//! three sentinels, each a real `redis-server` on a free loopback port, so a test can fail
//! the master over while services use `redis+sentinel://`.

use std::path::Path;

use super::process::free_port;
use super::redis_node::{Node, query, spawn, wait_until};

/// The name the sentinels know the master by.
pub const MASTER_NAME: &str = "authsvc";

/// A master, a replica and three sentinels watching them.
pub struct SentinelGroup {
    data: Vec<Node>,
    sentinels: Vec<Node>,
}

impl SentinelGroup {
    /// Starts the group (sentinel configuration files go in `dir`, which they rewrite);
    /// `None` (skip) when redis-server cannot start outside CI.
    pub fn start(dir: &Path) -> Option<Self> {
        let data_node = |replica_of: Option<u16>| -> Option<Node> {
            let port = free_port();
            let port_arg = port.to_string();
            let mut args = vec!["--port", port_arg.as_str(), "--bind", "127.0.0.1"];
            args.extend(["--save", "", "--appendonly", "no"]);
            let master_port = replica_of.map(|p| p.to_string());
            if let Some(master_port) = &master_port {
                args.extend(["--replicaof", "127.0.0.1", master_port.as_str()]);
            }
            let node = Node {
                port,
                child: spawn(&args, dir)?,
            };
            wait_until("redis-server answers", || {
                query::<String>(port, &redis::cmd("PING")).is_ok()
            });
            Some(node)
        };
        let master = data_node(None)?;
        let replica = data_node(Some(master.port))?;
        wait_until("the replica is in sync", || {
            query::<String>(replica.port, redis::cmd("INFO").arg("replication"))
                .is_ok_and(|info| info.contains("master_link_status:up"))
        });
        let mut sentinels = Vec::new();
        for index in 0..3 {
            let port = free_port();
            let conf = dir.join(format!("sentinel-{index}.conf"));
            let text = format!(
                "port {port}\nbind 127.0.0.1\nsentinel monitor {MASTER_NAME} 127.0.0.1 {} 2\n\
                 sentinel down-after-milliseconds {MASTER_NAME} 1000\n\
                 sentinel failover-timeout {MASTER_NAME} 5000\n",
                master.port
            );
            std::fs::write(&conf, text).expect("sentinel configuration");
            let conf = conf.display().to_string();
            sentinels.push(Node {
                port,
                child: spawn(&[conf.as_str(), "--sentinel"], dir)?,
            });
        }
        let group = Self {
            data: vec![master, replica],
            sentinels,
        };
        for sentinel in &group.sentinels {
            wait_until(
                "a sentinel knows the replica and the other sentinels",
                || {
                    let replicas: redis::RedisResult<Vec<redis::Value>> = query(
                        sentinel.port,
                        redis::cmd("SENTINEL").arg("REPLICAS").arg(MASTER_NAME),
                    );
                    let others: redis::RedisResult<Vec<redis::Value>> = query(
                        sentinel.port,
                        redis::cmd("SENTINEL").arg("SENTINELS").arg(MASTER_NAME),
                    );
                    replicas.is_ok_and(|r| !r.is_empty()) && others.is_ok_and(|s| s.len() == 2)
                },
            );
        }
        Some(group)
    }

    /// `redis+sentinel://` naming the three sentinels.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .sentinels
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect();
        format!("redis+sentinel://{}/{MASTER_NAME}", hosts.join(","))
    }

    /// The master's port, as the first sentinel says.
    pub fn master_port(&self) -> u16 {
        let (_, port): (String, u16) = query(
            self.sentinels[0].port,
            redis::cmd("SENTINEL")
                .arg("GET-MASTER-ADDR-BY-NAME")
                .arg(MASTER_NAME),
        )
        .expect("the sentinels name a master");
        port
    }

    /// Starts a failover (`SENTINEL FAILOVER`) and returns at once, with the old master's
    /// port; see [`SentinelGroup::failed_over`].
    pub fn start_failover(&self) -> u16 {
        let old = self.master_port();
        let _: String = query(
            self.sentinels[0].port,
            redis::cmd("SENTINEL").arg("FAILOVER").arg(MASTER_NAME),
        )
        .expect("SENTINEL FAILOVER");
        old
    }

    /// The new master's port once the failover from `old` is complete: every sentinel
    /// names it, it says it is the master, and the old master replicates from it. One
    /// look, no waiting (tests keep their traffic going meanwhile).
    pub fn failed_over(&self, old: u16) -> Option<u16> {
        let new = self.master_port();
        let named_by_all = self.sentinels.iter().all(|s| {
            query::<(String, u16)>(
                s.port,
                redis::cmd("SENTINEL")
                    .arg("GET-MASTER-ADDR-BY-NAME")
                    .arg(MASTER_NAME),
            )
            .is_ok_and(|(_, port)| port == new)
        });
        let complete = new != old
            && named_by_all
            && query::<String>(new, redis::cmd("INFO").arg("replication"))
                .is_ok_and(|info| info.contains("role:master"))
            && query::<String>(old, redis::cmd("INFO").arg("replication"))
                .is_ok_and(|info| info.contains("master_link_status:up"));
        complete.then(|| {
            assert!(self.data.iter().any(|node| node.port == new));
            new
        })
    }
}
