//! What both services mount and run the same way (features `server` and `actix`): the
//! HTTP server set-up, and the health and metrics routes every service answers.

use std::sync::Arc;

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::health::readiness;
use crate::http::{not_found, one};
use crate::metrics::Metrics;
use crate::revocation::Revocations;
use crate::store::Store;

/// What a service's state gives the shared health and metrics routes.
pub trait Dependencies: Send + Sync + 'static {
    fn store(&self) -> &Store;
    fn revocations(&self) -> &Revocations;
    fn metrics(&self) -> &Arc<Metrics>;
    /// Whether the keys tokens are verified with are loaded (admin-service fetches them).
    fn keys_loaded(&self) -> bool;
    fn http_workers(&self) -> usize;
}

/// `GET /health/live`, `GET /health/ready`, `GET /metrics`.
fn health_routes<S: Dependencies>(cfg: &mut web::ServiceConfig) {
    cfg.service(one("/health/live", Method::GET, web::to(live)))
        .service(one("/health/ready", Method::GET, web::to(ready::<S>)))
        .service(one("/metrics", Method::GET, web::to(metrics::<S>)));
}

/// The process answers.
async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Each dependency and its state; 200 when the database answers and the keys are loaded.
async fn ready<S: Dependencies>(state: web::Data<S>) -> HttpResponse {
    let readiness = readiness(state.store(), state.revocations(), state.keys_loaded()).await;
    if readiness.is_ready() {
        HttpResponse::Ok().json(readiness)
    } else {
        HttpResponse::ServiceUnavailable().json(readiness)
    }
}

/// Prometheus metrics (OpenMetrics text).
async fn metrics<S: Dependencies>(state: web::Data<S>) -> HttpResponse {
    let (open, idle) = state.store().pool_state();
    state.metrics().set_pool(open, idle);
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics().render())
}

/// Serves `routes`, plus the health and metrics routes, with `state` on `listener`, as
/// every service here does: request telemetry (span, request id, latency metric, an access
/// log without query strings, since a query could carry a secret, and
/// `Cache-Control: no-store` unless a route sets its own; see `request_telemetry`), JSON
/// 404s, and a client given 5 s to send its request head and 1 s to close after the
/// answer, on the state's `http_workers` worker threads.
pub fn serve<S: Dependencies>(
    state: S,
    listener: std::net::TcpListener,
    routes: fn(&mut web::ServiceConfig),
) -> std::io::Result<actix_web::dev::Server> {
    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpServer};
    let workers = state.http_workers();
    let metrics = web::Data::from(Arc::clone(state.metrics()));
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(metrics.clone())
            .wrap(from_fn(crate::request_telemetry::middleware))
            .configure(routes)
            .configure(health_routes::<S>)
            .default_service(web::to(not_found))
    })
    .client_request_timeout(std::time::Duration::from_secs(5))
    .client_disconnect_timeout(std::time::Duration::from_secs(1))
    .workers(workers)
    .listen(listener)?
    .run();
    Ok(server)
}
