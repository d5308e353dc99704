//! A Redis Cluster of the test's own (feature `testing`): three masters holding a third of
//! the slots each, each with a replica, every node a real `redis-server` in cluster mode on
//! a free loopback port, so services can use `redis+cluster://` and a test can restart a
//! node or fail a master over to its replica. Or the same over TLS only (`rediss+cluster://`,
//! clients and nodes alike presenting certificates of a CA the test makes).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::certificates::{self, TlsFiles};
use super::redis_node::{Node, spawn, wait_until};

/// The slots each master holds, in node order.
const SLOTS: [(u16, u16); 3] = [(0, 5460), (5461, 10922), (10923, 16383)];
/// Masters, then their replicas in the same order.
const NODES: usize = 2 * SLOTS.len();

/// Three masters sharing the 16,384 slots, and a replica of each.
pub struct RedisCluster {
    dir: PathBuf,
    nodes: Vec<Option<Node>>,
    ports: Vec<u16>,
    /// The cluster bus port of each node (given, not the default port + 10,000, which
    /// may be taken or out of range).
    bus_ports: Vec<u16>,
    tls: Option<TlsFiles>,
}

impl RedisCluster {
    /// Starts the six nodes and joins them (their cluster files go in `dir`); `None`
    /// (skip) when redis-server cannot start outside CI.
    pub fn start(dir: &Path) -> Option<Self> {
        Self::start_with(dir, None)
    }

    /// [`RedisCluster::start`], TLS only: clients and the nodes between themselves
    /// (the cluster bus, replication) must present a certificate of the test's CA (made
    /// in `dir`).
    pub fn start_tls(dir: &Path) -> Option<Self> {
        Self::start_with(dir, Some(certificates::make(dir)?))
    }

    fn start_with(dir: &Path, tls: Option<TlsFiles>) -> Option<Self> {
        let mut ports = distinct_free_ports(2 * NODES);
        let bus_ports = ports.split_off(NODES);
        let mut cluster = Self {
            dir: dir.to_owned(),
            nodes: Vec::new(),
            ports,
            bus_ports,
            tls,
        };
        for index in 0..NODES {
            let node = cluster.spawn_node(index)?;
            cluster.nodes.push(Some(node));
        }
        let ports = cluster.ports.clone();
        for (port, (first, last)) in ports.iter().zip(SLOTS) {
            let _: String = cluster
                .query(
                    *port,
                    redis::cmd("CLUSTER")
                        .arg("ADDSLOTSRANGE")
                        .arg(first)
                        .arg(last),
                )
                .expect("CLUSTER ADDSLOTSRANGE");
        }
        for (port, bus_port) in ports.iter().zip(&cluster.bus_ports).skip(1) {
            let _: String = cluster
                .query(
                    ports[0],
                    redis::cmd("CLUSTER")
                        .arg("MEET")
                        .arg("127.0.0.1")
                        .arg(*port)
                        .arg(*bus_port),
                )
                .expect("CLUSTER MEET");
        }
        cluster.wait_until_ok();
        for (master, replica) in ports[..SLOTS.len()].iter().zip(&ports[SLOTS.len()..]) {
            let id: String = cluster
                .query(*master, redis::cmd("CLUSTER").arg("MYID"))
                .expect("MYID");
            let _: String = cluster
                .query(*replica, redis::cmd("CLUSTER").arg("REPLICATE").arg(&id))
                .expect("CLUSTER REPLICATE");
        }
        for replica in &ports[SLOTS.len()..] {
            wait_until("a replica is in sync", || {
                cluster
                    .query::<String>(*replica, redis::cmd("INFO").arg("replication"))
                    .is_ok_and(|info| info.contains("master_link_status:up"))
            });
        }
        cluster.wait_until_ok();
        Some(cluster)
    }

    fn spawn_node(&self, index: usize) -> Option<Node> {
        let port = self.ports[index];
        let port_arg = port.to_string();
        let bus_port = self.bus_ports[index].to_string();
        let conf = self.dir.join(format!("nodes-{port}.conf"));
        let conf = conf.display().to_string();
        let tls_files = self.tls.as_ref().map(|tls| {
            [
                &tls.server_cert,
                &tls.server_key,
                &tls.ca,
                &tls.client_cert,
                &tls.client_key,
            ]
            .map(|path| path.display().to_string())
        });
        let mut args = vec![
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--cluster-enabled",
            "yes",
            "--cluster-port",
            bus_port.as_str(),
            "--cluster-config-file",
            conf.as_str(),
            "--cluster-node-timeout",
            "2000",
        ];
        match &tls_files {
            None => args.extend(["--port", port_arg.as_str()]),
            Some([cert, key, ca, client_cert, client_key]) => args.extend([
                "--port",
                "0",
                "--tls-port",
                port_arg.as_str(),
                "--tls-cluster",
                "yes",
                "--tls-replication",
                "yes",
                "--tls-cert-file",
                cert,
                "--tls-key-file",
                key,
                "--tls-ca-cert-file",
                ca,
                "--tls-client-cert-file",
                client_cert,
                "--tls-client-key-file",
                client_key,
                "--tls-auth-clients",
                "yes",
            ]),
        }
        let node = Node {
            port,
            child: spawn(&args, &self.dir)?,
        };
        wait_until("a cluster node answers", || {
            self.query::<String>(port, &redis::cmd("PING")).is_ok()
        });
        Some(node)
    }

    /// Waits until every node says the cluster is up and knows every node.
    fn wait_until_ok(&self) {
        let known = format!("cluster_known_nodes:{NODES}");
        for port in &self.ports {
            wait_until("the cluster is up", || {
                self.query::<String>(*port, redis::cmd("CLUSTER").arg("INFO"))
                    .is_ok_and(|info| info.contains("cluster_state:ok") && info.contains(&known))
            });
        }
    }

    /// `redis+cluster://` (`rediss+cluster://` over TLS) naming the masters it started
    /// with (a client learns the rest).
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self.ports[..SLOTS.len()]
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}+cluster://{}", hosts.join(","))
    }

    /// The variables a service needs to reach this Cluster (`REDIS_URL`, and the TLS
    /// files).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![("REDIS_URL", self.url())];
        if let Some(tls) = &self.tls {
            env.extend(tls.redis_env());
        }
        env
    }

    /// Runs `command` on the node at `port` (one-second timeouts; over TLS with the test's
    /// client certificate when the Cluster is TLS only).
    fn query<T: redis::FromRedisValue>(
        &self,
        port: u16,
        command: &redis::Cmd,
    ) -> redis::RedisResult<T> {
        let client = match &self.tls {
            None => redis::Client::open(format!("redis://127.0.0.1:{port}"))?,
            Some(tls) => {
                let read = |path: &Path| std::fs::read(path).expect("a test certificate");
                redis::Client::build_with_tls(
                    format!("rediss://127.0.0.1:{port}"),
                    redis::TlsCertificates {
                        client_tls: Some(redis::ClientTlsConfig {
                            client_cert: read(&tls.client_cert),
                            client_key: read(&tls.client_key),
                        }),
                        root_cert: Some(read(&tls.ca)),
                    },
                )?
            }
        };
        let mut conn = client.get_connection_with_timeout(Duration::from_secs(1))?;
        conn.set_read_timeout(Some(Duration::from_secs(2)))?;
        command.query(&mut conn)
    }

    /// The port of the node that is the master of `key`'s slot now, as the first node
    /// that answers says.
    pub fn port_of(&self, key: &str) -> u16 {
        let slot: u16 = self.ask(redis::cmd("CLUSTER").arg("KEYSLOT").arg(key));
        self.slot_masters()
            .into_iter()
            .find(|(first, last, _)| (*first..=*last).contains(&slot))
            .map(|(_, _, port)| port)
            .expect("every slot is held")
    }

    /// The ports of the masters now.
    pub fn masters(&self) -> Vec<u16> {
        let mut masters: Vec<u16> = self.slot_masters().into_iter().map(|(_, _, p)| p).collect();
        masters.sort_unstable();
        masters.dedup();
        masters
    }

    /// Each range of slots (first, last) with its master's port (`CLUSTER SLOTS`: first
    /// slot, last slot, then `[ip, port, id, …]` of the master, then of its replicas).
    fn slot_masters(&self) -> Vec<(u16, u16, u16)> {
        self.ask::<Vec<Vec<redis::Value>>>(redis::cmd("CLUSTER").arg("SLOTS"))
            .into_iter()
            .map(|range| {
                let mut parts = range.into_iter();
                let mut next = || parts.next().expect("a CLUSTER SLOTS range");
                let first = redis::from_redis_value(next()).expect("first slot");
                let last = redis::from_redis_value(next()).expect("last slot");
                let master: Vec<redis::Value> = redis::from_redis_value(next()).expect("master");
                let port = master.into_iter().nth(1).expect("the master's port");
                (first, last, redis::from_redis_value(port).expect("a port"))
            })
            .collect()
    }

    /// `command`'s answer from the first node that gives one.
    fn ask<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> T {
        self.ports
            .iter()
            .find_map(|port| self.query(*port, command).ok())
            .expect("a cluster node answers")
    }

    /// The ports of every node, masters first.
    pub fn ports(&self) -> &[u16] {
        &self.ports
    }

    /// The keys of the node at `port` that match `pattern`.
    pub fn keys(&self, port: u16, pattern: &str) -> Vec<String> {
        self.query(port, redis::cmd("KEYS").arg(pattern))
            .expect("KEYS")
    }

    /// How many connections subscribe to the sharded `channel` (on its slot's master).
    pub fn shard_subscribers(&self, channel: &str) -> usize {
        let (_, count): (String, usize) = self
            .query(
                self.port_of(channel),
                redis::cmd("PUBSUB").arg("SHARDNUMSUB").arg(channel),
            )
            .expect("PUBSUB SHARDNUMSUB");
        count
    }

    /// Kills the node at `port` (it loses every key) and starts it again with its cluster
    /// file, so it rejoins in its place; waits until the cluster is up again.
    pub fn restart(&mut self, port: u16) {
        let index = self.index_of(port);
        self.nodes[index] = None;
        self.nodes[index] = Some(self.spawn_node(index).expect("the node restarts"));
        self.wait_until_ok();
    }

    /// Starts a failover of the master of `key`'s slot to its replica (`CLUSTER FAILOVER`
    /// on the replica, a graceful one) and returns at once with the replica's port, the
    /// master to be; see [`RedisCluster::failed_over`].
    pub fn start_failover(&self, key: &str) -> u16 {
        let master = self.index_of(self.port_of(key));
        let replica = self.ports[(master + SLOTS.len()) % NODES];
        let _: String = self
            .query(replica, redis::cmd("CLUSTER").arg("FAILOVER"))
            .expect("FAILOVER");
        replica
    }

    /// Whether `port` is now the master of `key`'s slot for every node. One look, no
    /// waiting (tests keep their traffic going meanwhile).
    pub fn failed_over(&self, key: &str, port: u16) -> bool {
        self.port_of(key) == port
            && self.ports.iter().all(|node| {
                self.query::<String>(*node, redis::cmd("CLUSTER").arg("NODES"))
                    .is_ok_and(|nodes| {
                        nodes.lines().any(|line| {
                            line.contains(&format!(":{port}@")) && line.contains("master")
                        })
                    })
            })
    }

    fn index_of(&self, port: u16) -> usize {
        self.ports
            .iter()
            .position(|p| *p == port)
            .expect("a node of this cluster")
    }
}

/// `count` free loopback ports, all different (each held until all are found).
fn distinct_free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<std::net::TcpListener> = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("a bound port").port())
        .collect()
}
