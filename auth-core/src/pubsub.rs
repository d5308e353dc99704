//! Following a Redis pub/sub channel for the life of the process: subscribe, hand every
//! message to the caller, and when the connection is lost say so and subscribe again with
//! backoff. The revocation channel and the brute-force limiter's channel both follow
//! theirs this way.

use std::time::Duration;

use futures_util::StreamExt as _;

/// How long connecting and subscribing may take before the attempt counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(300);

/// What happened on the channel.
#[derive(Debug)]
pub enum Event {
    /// Subscribed (again): messages from now on will arrive; earlier ones may have been
    /// missed.
    Subscribed,
    /// A message's payload; `None` if it was not UTF-8.
    Message(Option<String>),
    /// The subscription is gone; [`Event::Subscribed`] follows once it is made again.
    Lost,
}

/// Follows `channel` forever, calling `on_event` for each [`Event`]. Run it as a task.
/// Each (re)subscription connects to the current master; on a Cluster it subscribes to the
/// sharded channel on the shard that owns it (`follow_sharded`). With Sentinel it first
/// subscribes to a sentinel's `+switch-master` events: when the master moves, the
/// subscription to the old one is dropped ([`Event::Lost`]) and made again on the new
/// master. (A demoted master lives on as a replica and passes on what the new one
/// publishes, but only once it has caught up with it, and not at all while it is cut off
/// from it.)
pub async fn follow(
    redis: crate::shared_redis::RedisSettings,
    channel: String,
    mut on_event: impl FnMut(Event),
) {
    let mut backoff = Duration::from_millis(50);
    loop {
        if redis.is_cluster() {
            if follow_sharded(&redis, &channel, &mut on_event).await {
                backoff = Duration::from_millis(50);
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
            continue;
        }
        let switches = if redis.is_sentinel() {
            match tokio::time::timeout(CONNECT_TIMEOUT, Box::pin(watch_switches(&redis))).await {
                Ok(Ok(switches)) => Some(switches),
                _ => {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                    continue;
                }
            }
        } else {
            None
        };
        let connect = Box::pin(async { redis.current_client().await?.get_async_pubsub().await });
        if let Ok(Ok(mut pubsub)) = tokio::time::timeout(CONNECT_TIMEOUT, connect).await
            && pubsub.subscribe(&channel).await.is_ok()
        {
            on_event(Event::Subscribed);
            backoff = Duration::from_millis(50);
            let mut messages = pubsub.on_message();
            let mut switches = switches.map(|switches| switches.into_on_message());
            loop {
                let switched = async {
                    match &mut switches {
                        Some(switches) => {
                            switches.next().await;
                        }
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    message = messages.next() => match message {
                        Some(message) => {
                            on_event(Event::Message(message.get_payload::<String>().ok()));
                        }
                        None => break,
                    },
                    () = switched => {
                        tracing::info!("the Redis master moved (Sentinel); subscribing on the new one");
                        break;
                    }
                }
            }
            on_event(Event::Lost);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// How long a new sharded subscription may take to hear its own probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// The start of a probe's payload; no message of a channel that is followed starts so.
const PROBE: &str = "probe:";

/// Follows a sharded channel of a Cluster (`SSUBSCRIBE`, on the master of its slot) until
/// the subscription is lost: a connection of the Cluster client drops (it would subscribe
/// again by itself, but messages sent meanwhile are gone, so the caller must hear of it),
/// or the server ends the subscription (`sunsubscribe`: the slot moved, after a failover or
/// a resharding). False if it could not subscribe.
///
/// A replica accepts sharded subscriptions too, and a slot map read during a failover may
/// still name the demoted master, which hears nothing of what the new one publishes until
/// it has caught up with it. So the subscription counts as made only once a probe
/// published on the slot's master (with a random payload, ignored by every follower) has
/// come back through it; messages before that are dropped (the caller reads what it
/// missed back after [`Event::Subscribed`]).
async fn follow_sharded(
    redis: &crate::shared_redis::RedisSettings,
    channel: &str,
    on_event: &mut impl FnMut(Event),
) -> bool {
    let (push, mut pushes) = tokio::sync::mpsc::unbounded_channel();
    let Ok(client) = redis.cluster_subscriber(CONNECT_TIMEOUT, push) else {
        return false;
    };
    let subscribe = Box::pin(async {
        let mut conn = client.get_async_connection().await?;
        conn.ssubscribe(channel).await?;
        Ok::<_, redis::RedisError>(conn)
    });
    let Ok(Ok(mut conn)) = tokio::time::timeout(CONNECT_TIMEOUT, subscribe).await else {
        return false;
    };
    let probe = format!("{PROBE}{}", crate::ids::random_id());
    let mut publish = redis::cmd("SPUBLISH");
    publish.arg(channel).arg(&probe);
    let heard = async {
        publish.query_async::<i64>(&mut conn).await.ok()?;
        loop {
            match sharded_push(pushes.recv().await?) {
                Push::Message(Some(message)) if message == probe => return Some(()),
                Push::Lost => return None,
                _ => {}
            }
        }
    };
    if !matches!(
        tokio::time::timeout(PROBE_TIMEOUT, heard).await,
        Ok(Some(()))
    ) {
        return false;
    }
    on_event(Event::Subscribed);
    while let Some(push) = pushes.recv().await {
        match sharded_push(push) {
            Push::Lost => break,
            Push::Message(Some(message)) if message.starts_with(PROBE) => {}
            Push::Message(message) => on_event(Event::Message(message)),
            Push::Other => {}
        }
    }
    drop(conn);
    on_event(Event::Lost);
    true
}

/// What a push of a sharded subscription says.
enum Push {
    /// A message's payload; `None` if it was not UTF-8.
    Message(Option<String>),
    /// The subscription is gone (a connection dropped, or the server ended it).
    Lost,
    /// Anything else (a confirmation).
    Other,
}

fn sharded_push(push: redis::PushInfo) -> Push {
    match push.kind {
        redis::PushKind::SMessage => Push::Message(
            push.data
                .into_iter()
                .nth(1)
                .and_then(|value| redis::from_redis_value(value).ok()),
        ),
        redis::PushKind::Disconnection | redis::PushKind::SUnsubscribe => Push::Lost,
        _ => Push::Other,
    }
}

/// A subscription to a sentinel's `+switch-master` events (any master: a spurious
/// resubscription costs a catch-up, a missed one could cost a revocation).
async fn watch_switches(
    redis: &crate::shared_redis::RedisSettings,
) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = redis.sentinel_node().await?.get_async_pubsub().await?;
    pubsub.subscribe("+switch-master").await?;
    Ok(pubsub)
}
