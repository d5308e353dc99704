//! Cold client lookups, coalesced: the token requests whose client is not in the
//! verified-credentials cache queue their ids here, and each database round trip answers
//! every id that queued while the previous one ran (up to [`MAX_BATCH`]).
//!
//! One query runs at a time, so the batches are as large as the load makes them. Two at a
//! time split the waiting ids between them; measured on the cold path (64 connections, 10
//! A/B pairs, 2026-12-01), one at a time made batches of 20 ids instead of 12 and took
//! 10–43 % less PostgreSQL CPU per cold token in every pair, the database being what every
//! replica shares; cold tokens a second moved from −5 % to +31 % (median +6 %, within this
//! machine's noise). A query still running after [`ALONE_FOR`] (a dead connection) no
//! longer holds the next batch back.
//!
//! A lookup is one statement, a pool checkout and a hop to a blocking thread; issued one per
//! request, those context switches and round trips cost far more than the query itself
//! (measured: about 450 µs of token-service CPU per cold token). Batched, a burst of first
//! tokens after a deploy costs a few queries, and an idle service still answers a lone
//! request with one query of one id, with no added wait.
//!
//! The query runs in the span of the request that opened its batch, so a trace shows it
//! under that request (and a lone request's trace is as before).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument as _;

use auth_core::ids::ClientId;
use auth_core::scopes::Scope;
use auth_core::store::{Store, StoreError, clients};

/// The most ids one query asks for.
pub const MAX_BATCH: usize = 128;
/// How long a query runs alone: after this, the next batch starts beside it.
pub const ALONE_FOR: Duration = Duration::from_millis(250);

/// A live client and its scopes, as stored.
pub type Found = Option<(clients::Client, Vec<Scope>)>;
type Reply = oneshot::Sender<Result<Found, StoreError>>;
/// A queued lookup: the id, where to answer, and the asking request's span.
type Pending = (ClientId, Reply, tracing::Span);

/// A handle on the lookup task; cheap to clone.
#[derive(Clone)]
pub struct ClientLookup {
    queue: mpsc::UnboundedSender<Pending>,
    /// Lookups asked (`client_lookups_total`).
    lookups: Counter,
}

impl ClientLookup {
    /// Starts the task that batches lookups against `store`, counting lookups and the
    /// queries that answer them. Needs a tokio runtime.
    pub fn start(store: Store, lookups: Counter, queries: Counter) -> Self {
        let (queue, requests) = mpsc::unbounded_channel();
        tokio::spawn(run(store, requests, queries));
        Self { queue, lookups }
    }

    /// The live client `id` and its scopes, or `None`.
    pub async fn find(&self, id: ClientId) -> Result<Found, StoreError> {
        self.lookups.inc();
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((id, reply, tracing::Span::current()))
            .map_err(|_| StoreError::Blocking)?;
        answer.await.map_err(|_| StoreError::Blocking)?
    }
}

async fn run(store: Store, requests: mpsc::UnboundedReceiver<Pending>, queries: Counter) {
    coalesce(requests, queries, move |pending| {
        let store = store.clone();
        async move { answer(&store, pending).await }
    })
    .await;
}

/// Hands each batch of queued lookups to `answer`, one batch at a time: the next batch is
/// taken when `answer` is done, or has run for [`ALONE_FOR`] (it then goes on beside the
/// next, and still answers its requests).
async fn coalesce<F, Fut>(
    mut requests: mpsc::UnboundedReceiver<Pending>,
    queries: Counter,
    answer: F,
) where
    F: Fn(Vec<Pending>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        if requests.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return; // every handle is gone
        }
        queries.inc();
        let pending = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
        let running = tokio::spawn(answer(pending));
        // Past the wait the task is detached, not cancelled.
        let _ = tokio::time::timeout(ALONE_FOR, running).await;
    }
}

/// Runs one query for the batch's distinct ids and answers each request.
async fn answer(store: &Store, pending: Vec<Pending>) {
    let mut ids: Vec<String> = pending.iter().map(|(id, _, _)| id.to_string()).collect();
    ids.sort_unstable();
    ids.dedup();
    let span = pending
        .first()
        .map_or_else(tracing::Span::none, |(_, _, span)| span.clone());
    let result = store
        .run(move |conn| {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            clients::find_many_with_scopes(conn, &ids)
        })
        .instrument(span)
        .await;
    match result {
        Ok(found) => {
            let found: HashMap<String, (clients::Client, Vec<Scope>)> = found
                .into_iter()
                .map(|(client, scopes)| (client.id.clone(), (client, scopes)))
                .collect();
            for (id, reply, _) in pending {
                let _ = reply.send(Ok(found.get(id.as_str()).cloned()));
            }
        }
        Err(error) => {
            let error = Arc::new(error);
            for (_, reply, _) in pending {
                let _ = reply.send(Err(StoreError::Shared(Arc::clone(&error))));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Instant;

    use super::*;

    type Answer = oneshot::Receiver<Result<Found, StoreError>>;

    fn ask(queue: &mpsc::UnboundedSender<Pending>) -> Answer {
        let (reply, answer) = oneshot::channel();
        queue
            .send((ClientId::generate(), reply, tracing::Span::none()))
            .expect("the lookup task runs");
        answer
    }

    /// The batches `answer` was given: their sizes and when each started.
    type Started = Arc<Mutex<Vec<(usize, Instant)>>>;

    #[tokio::test]
    async fn the_next_batch_waits_for_the_query_unless_it_is_stuck() {
        let (queue, requests) = mpsc::unbounded_channel();
        let queries = Counter::default();
        let started = Started::default();
        let seen = Arc::clone(&started);
        // The first query never ends (a dead connection); later ones answer at once.
        tokio::spawn(coalesce(requests, queries.clone(), move |pending| {
            let seen = Arc::clone(&seen);
            async move {
                let first = {
                    let mut seen = seen.lock().unwrap();
                    seen.push((pending.len(), Instant::now()));
                    seen.len() == 1
                };
                if first {
                    std::future::pending::<()>().await;
                }
                for (_, reply, _) in pending {
                    let _ = reply.send(Ok(None));
                }
            }
        }));

        let mut stuck = ask(&queue);
        while started.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let later = [ask(&queue), ask(&queue)];
        for answer in later {
            let answered = tokio::time::timeout(Duration::from_secs(30), answer).await;
            assert!(
                matches!(answered, Ok(Ok(Ok(None)))),
                "answered beside the stuck query"
            );
        }
        let started = started.lock().unwrap().clone();
        assert_eq!(queries.get(), 2);
        assert_eq!(
            started[1].0, 2,
            "the lookups queued while the first query ran share the next one"
        );
        assert!(
            started[1].1 - started[0].1 >= ALONE_FOR,
            "the next query waited for the first while it could still end"
        );
        assert!(stuck.try_recv().is_err(), "the stuck query answers nothing");
    }
}
