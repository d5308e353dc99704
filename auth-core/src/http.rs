//! Routing pieces every actix-web service here shares (feature `actix`): resources whose
//! other methods get a JSON 405 with `Allow`, and a JSON 404 for unknown paths.

use actix_web::http::Method;
use actix_web::http::header::{ALLOW, HeaderValue};
use actix_web::{HttpResponse, Resource, Route, web};
use serde_json::json;

/// Paths served by `routes`, each a method with its handler
/// (`(Method::GET, web::to(handler))`); any other method gets a JSON 405 whose `Allow`
/// header lists the methods served (RFC 9110 §15.5.6).
pub fn resource(paths: &[&str], routes: Vec<(Method, Route)>) -> Resource {
    let allow = routes
        .iter()
        .map(|(method, _)| method.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let allow = HeaderValue::from_str(&allow).unwrap_or(HeaderValue::from_static(""));
    let paths: Vec<String> = paths.iter().map(|path| (*path).to_owned()).collect();
    let mut resource = web::resource(paths);
    for (method, route) in routes {
        resource = resource.route(route.method(method));
    }
    resource.default_service(web::to(move || method_not_allowed(allow.clone())))
}

/// A path served by one method (see [`resource`]).
pub fn one(path: &str, method: Method, route: Route) -> Resource {
    resource(&[path], vec![(method, route)])
}

async fn method_not_allowed(allow: HeaderValue) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((ALLOW, allow))
        .json(json!({
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
