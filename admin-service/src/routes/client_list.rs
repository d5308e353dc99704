//! The client listing: every live client, or those a search (`q`) finds, oldest first, a
//! page at a time (`crate::listing`).

use std::time::Instant;

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::ids::ClientId;
use auth_core::store::clients::{self, Client};
use auth_core::store::{self, DbConnection, Start, StoreError};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::listing::cursor::ClientKey;
use crate::listing::filters::ClientSearch;
use crate::listing::{Counter, Page, Totaling};
use crate::schema::Authenticated;
use crate::state::AppState;
use crate::views::{ClientView, ErrorBody, Paged};

/// Lists clients, oldest first, a page at a time: by page number, or after a cursor (the
/// `next` of the previous page), which costs the same however deep the page. With `q`,
/// only the clients whose id, name or description contains it; a cursor goes on with the
/// same `q`.
#[utoipa::path(get, path = "/api/v1/oauth/client", tag = "clients", params(Page, ClientSearch),
    responses((status = 200, description = "a page of clients; `next` is the cursor of the \
            following page, `total_is_estimate` says whether `total` was counted exactly for \
            this answer. Without `q`, `total` counts every live client (exactly below 100,000, \
            else PostgreSQL's estimate; cached up to 5 s). With `q` it counts the matches for \
            each page, never cached, up to 10,000: past that `total` is 10,000 and \
            `total_is_estimate` true (there are more); a last page read by number needs no count.",
            body = Paged<ClientView>),
        (status = 400, description = "invalid_request: page or size out of bounds, an after \
            that is not a cursor of this listing, both page and after, or a q that is empty, \
            longer than 128 characters, holds a control character or is given twice", body = ErrorBody),
        Authenticated),
    security(("bearer" = [])))]
pub async fn list(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require("client:read")?;
    let page = Page::from_query(req.query_string())?;
    let ClientSearch(search) = ClientSearch::from_query(req.query_string())?;
    let store = &state.foundation.store;
    let paged = match search {
        None => {
            let counter = Counter {
                exact: clients::count,
                estimate: clients::estimate,
            };
            let totaling = Totaling::Whole(state.totals.clients.clone(), counter);
            page.load(store, totaling, Instant::now(), |conn, start, limit| {
                let rows = clients::list(conn, key(start), limit)?;
                views(conn, rows)
            })
            .await?
        }
        Some(text) => {
            let counted = text.clone();
            let totaling = Totaling::Matching(Box::new(move |conn, limit| {
                clients::count_matching(conn, &counted, limit)
            }));
            page.load(
                store,
                totaling,
                Instant::now(),
                move |conn, start, limit| {
                    let rows = clients::search(conn, &text, key(start), limit)?;
                    views(conn, rows)
                },
            )
            .await?
        }
    };
    Ok(HttpResponse::Ok().json(paged))
}

/// Where a page starts, as the store takes it.
fn key(start: Start<&ClientKey>) -> Start<(i64, &ClientId)> {
    start.map(|key| (key.created_at, &key.id))
}

/// A page's clients as shown, each with its key: their scopes and identities read for the
/// whole page at once.
fn views(
    conn: &mut DbConnection,
    rows: Vec<Client>,
) -> Result<Vec<(ClientKey, ClientView)>, StoreError> {
    let ids: Vec<&str> = rows.iter().map(|c| c.id.as_str()).collect();
    let mut scopes = clients::scopes_of_many(conn, &ids)?;
    let mut identities = store::federation::identities_of_many(conn, &ids)?;
    rows.iter()
        .map(|c| {
            let key = ClientKey {
                created_at: c.created_at,
                id: ClientId::parse(&c.id).map_err(|_| StoreError::Corrupt("client id"))?,
            };
            let view = ClientView::new(
                c,
                scopes.remove(&c.id).unwrap_or_default(),
                identities.remove(&c.id).unwrap_or_default(),
            )?;
            Ok((key, view))
        })
        .collect()
}
