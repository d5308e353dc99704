//! The audit trail, oldest first, paginated like the client listing (`crate::listing`),
//! whole or narrowed by its filters (`crate::listing::filters`).

use std::time::Instant;

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::store::audit::{self, AuditEvent};
use auth_core::store::{DbConnection, Start, StoreError};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::listing::cursor::AuditKey;
use crate::listing::filters::AuditFilters;
use crate::listing::{Counter, Page, Totaling};
use crate::schema::Authenticated;
use crate::state::AppState;
use crate::views::{AuditEntry, ErrorBody, Paged};

/// The audit trail, oldest first, a page at a time: by page number, or after a cursor (the
/// `next` of the previous page). The filters narrow it (each one given must match); a
/// cursor goes on with the same filters.
#[utoipa::path(get, path = "/api/v1/oauth/audit", tag = "audit",
    params(Page, AuditFilters),
    responses((status = 200, description = "a page of events; `next` is the cursor of the \
            following page, `total_is_estimate` says whether `total` was counted exactly for \
            this answer. Without filters, `total` counts every event (exactly below 100,000, \
            else PostgreSQL's estimate; cached up to 5 s). With filters it counts the matches \
            for each page, never cached, up to 10,000: past that `total` is 10,000 and \
            `total_is_estimate` true (there are more); a last page read by number needs no count.",
            body = Paged<AuditEntry>),
        (status = 400, description = "invalid_request: page or size out of bounds, an after \
            that is not a cursor of this listing, both page and after, a filter given twice, \
            or a filter's bad value (an actor that is no client id, an empty or overlong \
            target, an unknown action or outcome, a since or until that is no RFC 3339 \
            date-time, a since later than until), named", body = ErrorBody),
        Authenticated),
    security(("bearer" = [])))]
pub async fn list(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require("audit:read")?;
    let page = Page::from_query(req.query_string())?;
    let filter = AuditFilters::from_query(req.query_string())?;
    let store = &state.foundation.store;
    let paged = if filter.is_empty() {
        let counter = Counter {
            exact: audit::count,
            estimate: audit::estimate,
        };
        let totaling = Totaling::Whole(state.totals.audit.clone(), counter);
        page.load(store, totaling, Instant::now(), |conn, start, limit| {
            entries(audit::list(conn, id(start), limit))
        })
        .await?
    } else {
        let counted = filter.clone();
        let totaling = Totaling::Matching(Box::new(move |conn: &mut DbConnection, limit| {
            audit::count_matching(conn, &counted, limit)
        }));
        page.load(
            store,
            totaling,
            Instant::now(),
            move |conn, start, limit| {
                entries(audit::list_matching(conn, &filter, id(start), limit))
            },
        )
        .await?
    };
    Ok(HttpResponse::Ok().json(paged))
}

/// Where a page starts, as the store takes it.
fn id(start: Start<&AuditKey>) -> Start<i64> {
    start.map(|key| key.0)
}

/// Events as shown, each with its key.
fn entries(
    events: Result<Vec<AuditEvent>, StoreError>,
) -> Result<Vec<(AuditKey, AuditEntry)>, StoreError> {
    Ok(events?
        .iter()
        .map(|event| (AuditKey(event.id), AuditEntry::from(event)))
        .collect())
}
