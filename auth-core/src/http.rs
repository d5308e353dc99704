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
