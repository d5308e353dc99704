//! Redis Cluster: the nodes a `redis+cluster://` URL names (the client learns the others
//! and the slot map from them) and the clients built from them.
//!
//! What the rest of the service does differently on a Cluster is small: keys that one
//! script or pipeline uses together share a hash tag ([`super::RedisSettings::key_group`]),
//! and pub/sub goes through sharded channels (`SPUBLISH`/`SSUBSCRIBE`, which reach only the
//! shard that owns the channel's slot instead of every node).

use std::time::Duration;

use super::endpoints::{Credentials, parse_hosts, split_credentials};

/// The seed nodes of a Cluster and the credentials of its servers.
#[derive(Clone)]
pub(super) struct ClusterTarget {
    pub(super) nodes: Vec<(String, u16)>,
    pub(super) credentials: Credentials,
}

impl ClusterTarget {
    /// A client of this Cluster, over TLS with `tls`; commands time out after `timeout`.
    /// With `push`, it speaks RESP3 and hands pushes (sharded messages, disconnections)
    /// there: a subscriber's client.
    pub(super) fn client(
        &self,
        tls: Option<redis::TlsCertificates>,
        timeout: Duration,
        push: Option<tokio::sync::mpsc::UnboundedSender<redis::PushInfo>>,
    ) -> redis::RedisResult<redis::cluster::ClusterClient> {
        let scheme = if tls.is_some() { "rediss" } else { "redis" };
        let nodes = self
            .nodes
            .iter()
            .map(|(host, port)| format!("{scheme}://{host}:{port}"));
        let mut builder = redis::cluster::ClusterClientBuilder::new(nodes)
            .connection_timeout(timeout)
            .response_timeout(timeout)
            .retries(2)
            .max_retry_wait(200);
        if let Some(username) = &self.credentials.username {
            builder = builder.username(username);
        }
        if let Some(password) = &self.credentials.password {
            builder = builder.password(password);
        }
        if let Some(tls) = tls {
            builder = builder.tls(redis::TlsMode::Secure).certs(tls);
        }
        if let Some(push) = push {
            builder = builder
                .use_protocol(redis::ProtocolVersion::RESP3)
                .push_sender(push);
        }
        builder.build()
    }
}

/// `[USER[:PASSWORD]@]HOST:PORT[,HOST:PORT…]` (after the scheme): some of the Cluster's
/// nodes. A Cluster has one database, so there is no `/DB`.
pub(super) fn parse_cluster(rest: &str) -> Result<ClusterTarget, &'static str> {
    const SHAPE: &str = "expected redis+cluster://[USER:PASSWORD@]HOST:PORT[,HOST:PORT…] \
                         (a Cluster has no database number)";
    let (credentials, hosts) = split_credentials(rest)?;
    Ok(ClusterTarget {
        nodes: parse_hosts(hosts.trim_end_matches('/')).ok_or(SHAPE)?,
        credentials,
    })
}
