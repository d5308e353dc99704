//! Liveness (the process answers), readiness (its dependencies, each with its state), and
//! metrics for Prometheus.

use actix_web::{HttpResponse, web};
use auth_core::health::readiness;
use serde_json::json;

use crate::state::AppState;

/// The process answers.
#[utoipa::path(get, path = "/health/live", tag = "health", responses((status = 200)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers (required) and Redis (reported: `up`, `down` or `disabled`).
#[utoipa::path(get, path = "/health/ready", tag = "health", responses((status = 200), (status = 503)))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let readiness = readiness(
        &state.store,
        &state.revocations,
        state.bearer.keys().is_loaded(),
    )
    .await;
    if readiness.is_ready() {
        HttpResponse::Ok().json(readiness)
    } else {
        HttpResponse::ServiceUnavailable().json(readiness)
    }
}

/// Prometheus metrics (OpenMetrics text).
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let (open, idle) = state.store.pool_state();
    state.metrics.set_pool(open, idle);
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}
