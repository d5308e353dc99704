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
/// Each (re)subscription connects to the current master. With Sentinel it first subscribes
/// to a sentinel's `+switch-master` events: when the master moves, the subscription to the
/// old one is dropped ([`Event::Lost`]) and made again on the new master. (A demoted master
/// lives on as a replica and passes on what the new one publishes, but only once it has
/// caught up with it, and not at all while it is cut off from it.)
pub async fn follow(
    redis: crate::shared_redis::RedisSettings,
    channel: String,
    mut on_event: impl FnMut(Event),
) {
    let mut backoff = Duration::from_millis(50);
    loop {
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

/// A subscription to a sentinel's `+switch-master` events (any master: a spurious
/// resubscription costs a catch-up, a missed one could cost a revocation).
async fn watch_switches(
    redis: &crate::shared_redis::RedisSettings,
) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = redis.sentinel_node().await?.get_async_pubsub().await?;
    pubsub.subscribe("+switch-master").await?;
    Ok(pubsub)
}
