//! Routes of the admin service, mounted by [`config`] in `main` and in tests alike.
//! Every endpoint but health needs a bearer token (see `crate::auth`).

mod audit_log;
mod client_scopes;
mod clients;
mod health;
pub mod openapi;
mod revocation;
mod scopes;
mod secret;

use actix_web::web;
use auth_core::http::{method_not_allowed, one};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/v1/oauth/client")
            .route(web::post().to(clients::create))
            .route(web::get().to(clients::list))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/v1/oauth/client/{id}")
            .route(web::get().to(clients::get))
            .route(web::delete().to(clients::delete))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/api/v1/oauth/client/{id}/scope")
            .route(web::get().to(client_scopes::get))
            .route(web::put().to(client_scopes::replace))
            .default_service(web::to(method_not_allowed)),
    )
    .service(one(
        "/api/v1/oauth/client/{id}/secret",
        web::post().to(secret::rotate),
    ))
    .service(
        web::resource(["/api/v1/oauth/scope", "/api/v1/oauth/scopes"])
            .route(web::get().to(scopes::list))
            .route(web::post().to(scopes::add))
            .default_service(web::to(method_not_allowed)),
    )
    .service(one(
        "/api/v1/oauth/scope/{name}",
        web::delete().to(scopes::remove),
    ))
    .service(one(
        "/api/v1/oauth/client/{id}/revoke",
        web::post().to(revocation::revoke_client),
    ))
    .service(one(
        "/api/v1/oauth/revocation",
        web::post().to(revocation::revoke_token),
    ))
    .service(one("/api/v1/oauth/audit", web::get().to(audit_log::list)))
    .service(one("/openapi.json", web::get().to(openapi::document)))
    .service(one("/health/live", web::get().to(health::live)))
    .service(one("/metrics", web::get().to(health::metrics)))
    .service(one("/health/ready", web::get().to(health::ready)));
}
