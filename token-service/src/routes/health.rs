//! Liveness (the process answers) and readiness (its database answers too).

use std::time::Duration;

use actix_web::{HttpResponse, web};
use auth_core::store;
use serde_json::json;

use crate::state::AppState;

const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The process answers.
#[utoipa::path(get, path = "/health/live", tag = "health", responses((status = 200)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The process and its database answer.
#[utoipa::path(get, path = "/health/ready", tag = "health", responses((status = 200), (status = 503)))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let check = tokio::time::timeout(READY_TIMEOUT, state.store.run(store::ping)).await;
    let database_up = matches!(check, Ok(Ok(())));
    let body = json!({
        "status": if database_up { "ready" } else { "unavailable" },
        "checks": { "database": if database_up { "up" } else { "down" } },
    });
    if database_up {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
