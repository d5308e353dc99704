//! The audit trail, oldest first, paginated.

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::store::audit;

use crate::auth::Caller;
use crate::body::Page;
use crate::error::ApiError;
use crate::state::AppState;
use crate::views::audit_json;

pub async fn list(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require("audit:read")?;
    let page = Page::from_query(req.query_string())?;
    let (items, total) = state
        .store
        .run(move |conn| {
            let events = audit::list(conn, page.offset(), page.size)?;
            Ok((events.iter().map(audit_json).collect(), audit::count(conn)?))
        })
        .await?;
    Ok(HttpResponse::Ok().json(page.envelope(items, total)))
}
