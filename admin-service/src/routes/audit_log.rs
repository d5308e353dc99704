//! The audit trail, oldest first, paginated.

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::store::audit;

use crate::auth::Caller;
use crate::body::Page;
use crate::error::ApiError;
use crate::schema::Authenticated;
use crate::state::AppState;
use crate::views::{AuditEntry, ErrorBody, Paged};

/// The audit trail, oldest first.
#[utoipa::path(get, path = "/api/v1/oauth/audit", tag = "audit",
    params(Page),
    responses((status = 200, body = Paged<AuditEntry>),
        (status = 400, description = "invalid_request: page or size out of bounds", body = ErrorBody),
        Authenticated),
    security(("bearer" = [])))]
pub async fn list(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require("audit:read")?;
    let page = Page::from_query(req.query_string())?;
    let (items, total) = state
        .foundation
        .store
        .run(move |conn| {
            let events = audit::list(conn, page.offset(), page.size)?;
            Ok((
                events.iter().map(AuditEntry::from).collect::<Vec<_>>(),
                audit::count(conn)?,
            ))
        })
        .await?;
    Ok(HttpResponse::Ok().json(page.envelope(items, total)))
}
