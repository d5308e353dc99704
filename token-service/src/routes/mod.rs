//! Routes of the token service, mounted by [`config`] in `main` and in tests alike.

mod health;
mod introspect;
pub mod openapi;
mod revoke;
mod token;
mod well_known;

use actix_web::{HttpResponse, web};
use serde_json::json;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(one("/api/v1/oauth/token", web::post().to(token::issue)))
        .service(one("/api/v1/oauth/revoke", web::post().to(revoke::revoke)))
        .service(one(
            "/api/v1/oauth/introspect",
            web::post().to(introspect::introspect),
        ))
        .service(one(
            "/.well-known/jwks.json",
            web::get().to(well_known::jwks),
        ))
        .service(one(
            "/.well-known/oauth-authorization-server",
            web::get().to(well_known::metadata),
        ))
        .service(one("/openapi.json", web::get().to(openapi::document)))
        .service(one("/health/live", web::get().to(health::live)))
        .service(one("/metrics", web::get().to(health::metrics)))
        .service(one("/health/ready", web::get().to(health::ready)));
}

/// A path served by one method; any other method gets a JSON 405.
fn one(path: &str, route: actix_web::Route) -> actix_web::Resource {
    web::resource(path)
        .route(route)
        .default_service(web::to(method_not_allowed))
}

async fn method_not_allowed() -> HttpResponse {
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
