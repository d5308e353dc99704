//! Cold client lookups, coalesced: the token requests whose client is not in the
//! verified-credentials cache queue their ids here, and each database round trip answers
//! every id that queued while the previous one ran (up to [`MAX_BATCH`]).
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

use prometheus_client::metrics::counter::Counter;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tracing::Instrument as _;

use auth_core::ids::ClientId;
use auth_core::scopes::Scope;
use auth_core::store::{Store, StoreError, clients};

/// The most ids one query asks for.
pub const MAX_BATCH: usize = 128;
/// Queries in flight at once: while they run, new ids gather for the next one.
const IN_FLIGHT: usize = 2;

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

async fn run(store: Store, mut requests: mpsc::UnboundedReceiver<Pending>, queries: Counter) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        // Waits for a free slot first: while every slot is busy, requests accumulate.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        if requests.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return; // every handle is gone
        }
        queries.inc();
        let store = store.clone();
        let pending = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
        tokio::spawn(async move {
            answer(&store, pending).await;
            drop(slot);
        });
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
