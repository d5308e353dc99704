//! Routing pieces every actix-web service here shares (feature `actix`): single-method
//! resources, and JSON answers for a wrong method (405) or an unknown path (404).

use actix_web::{HttpResponse, Resource, Route, web};
use serde_json::json;

/// A path served by one method; any other method gets a JSON 405.
pub fn one(path: &str, route: Route) -> Resource {
    web::resource(path)
        .route(route)
        .default_service(web::to(method_not_allowed))
}

pub async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed().json(json!({
        "error": "invalid_request",
        "error_description": "method not allowed on this endpoint",
    }))
}

/// The answer for paths no route serves.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({
        "error": "not_found",
        "error_description": "no such endpoint",
    }))
}

/// Serves `routes` with `state` on `listener`, as every service here does: request
/// telemetry (span, request id, latency metric, an access log without query strings, since
/// a query could carry a secret, and `Cache-Control: no-store` unless a route sets its own;
/// see `request_telemetry`), JSON 404s, and a client given 5 s to send its request head and
/// 1 s to close after the answer, on `workers` worker threads.
pub fn serve<S: Send + Sync + 'static>(
    state: web::Data<S>,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
    listener: std::net::TcpListener,
    routes: fn(&mut web::ServiceConfig),
    workers: usize,
) -> std::io::Result<actix_web::dev::Server> {
    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpServer};
    let metrics = web::Data::from(metrics);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(metrics.clone())
            .wrap(from_fn(crate::request_telemetry::middleware))
            .configure(routes)
            .default_service(web::to(not_found))
    })
    .client_request_timeout(std::time::Duration::from_secs(5))
    .client_disconnect_timeout(std::time::Duration::from_secs(1))
    .workers(workers)
    .listen(listener)?
    .run();
    Ok(server)
}
