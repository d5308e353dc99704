//! The audit trail, oldest first, paginated like the client listing (`crate::listing`).

use std::time::Instant;

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::store::{DbConnection, Start, audit};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::listing::cursor::AuditKey;
use crate::listing::{Counter, Page};
use crate::schema::Authenticated;
use crate::state::AppState;
use crate::views::{AuditEntry, ErrorBody, Paged};

/// The audit trail, oldest first, a page at a time: by page number, or after a cursor (the
/// `next` of the previous page).
#[utoipa::path(get, path = "/api/v1/oauth/audit", tag = "audit",
    params(Page),
    responses((status = 200, description = "a page of events; `next` is the cursor of the \
            following page, `total_is_estimate` says whether `total` was counted exactly for this answer",
            body = Paged<AuditEntry>),
        (status = 400, description = "invalid_request: page or size out of bounds, an after \
            that is not a cursor of this listing, or both page and after", body = ErrorBody),
        Authenticated),
    security(("bearer" = [])))]
pub async fn list(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require("audit:read")?;
    let page = Page::from_query(req.query_string())?;
    let rows = |conn: &mut DbConnection, start: Start<&AuditKey>, limit| {
        let events = audit::list(conn, start.map(|key| key.0), limit)?;
        Ok(events
            .iter()
            .map(|event| (AuditKey(event.id), AuditEntry::from(event)))
            .collect())
    };
    let counter = Counter {
        exact: audit::count,
        estimate: audit::estimate,
    };
    let paged = page
        .load(
            &state.foundation.store,
            (&state.totals.audit, counter),
            Instant::now(),
            rows,
        )
        .await?;
    Ok(HttpResponse::Ok().json(paged))
}
