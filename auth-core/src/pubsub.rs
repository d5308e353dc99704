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
pub async fn follow(client: redis::Client, channel: String, mut on_event: impl FnMut(Event)) {
    let mut backoff = Duration::from_millis(50);
    loop {
        if let Ok(Ok(mut pubsub)) =
            tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub()).await
            && pubsub.subscribe(&channel).await.is_ok()
        {
            on_event(Event::Subscribed);
            backoff = Duration::from_millis(50);
            let mut messages = pubsub.on_message();
            while let Some(message) = messages.next().await {
                on_event(Event::Message(message.get_payload::<String>().ok()));
            }
            on_event(Event::Lost);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}
