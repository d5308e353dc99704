//! One connection type for one server, a Sentinel group's master and a Cluster, so the
//! parts that talk to Redis write each command once. Both kinds are multiplexed, cheap to
//! clone and reconnect by themselves; a Cluster's also follows its slot map (`MOVED`).

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{Cmd, FromRedisValue, Pipeline, RedisFuture, Value};

/// A connection to wherever the settings say Redis is.
#[derive(Clone)]
pub enum RedisConnection {
    /// One server (or the master a Sentinel group named when it was made).
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl RedisConnection {
    /// Runs `command`, which names no key (`SCAN`, `DBSIZE`), on the server that holds
    /// `key`: on a Cluster, the master of `key`'s slot; otherwise the one server.
    pub async fn query_at<T: FromRedisValue>(
        &mut self,
        key: &str,
        command: &Cmd,
    ) -> redis::RedisResult<T> {
        match self {
            Self::Single(conn) => command.query_async(conn).await,
            Self::Cluster(conn) => {
                let route = Route::with_key(key.as_bytes(), SlotAddr::Master);
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route));
                let value = conn.route_command(command.clone(), routing).await?;
                T::from_redis_value(value).map_err(Into::into)
            }
        }
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(conn) => conn.req_packed_command(cmd),
            Self::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            Self::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(conn) => conn.get_db(),
            Self::Cluster(conn) => conn.get_db(),
        }
    }
}
