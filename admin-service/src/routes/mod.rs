//! Routes of the admin service, mounted by [`config`] in `main` and in tests alike.
//! Every endpoint needs a bearer token (see `crate::auth`); health and metrics are mounted
//! by the shared server set-up (`auth_core::service`); the console's page, files and
//! sign-in relay by `crate::console`.

mod audit_log;
mod client_identities;
mod client_keys;
mod client_limits;
mod client_list;
mod client_scopes;
mod clients;
mod issuers;
pub mod openapi;
mod revocation;
mod scopes;
mod secret;

use actix_web::http::Method;
use actix_web::web;
use auth_core::http::{one, resource};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(
        &["/api/v1/oauth/client"],
        vec![
            (Method::POST, web::to(clients::create)),
            (Method::GET, web::to(client_list::list)),
        ],
    ))
    .service(resource(
        &["/api/v1/oauth/client/{id}"],
        vec![
            (Method::GET, web::to(clients::get)),
            (Method::DELETE, web::to(clients::delete)),
        ],
    ))
    .service(resource(
        &["/api/v1/oauth/client/{id}/scope"],
        vec![
            (Method::GET, web::to(client_scopes::get)),
            (Method::PUT, web::to(client_scopes::replace)),
        ],
    ))
    .service(resource(
        &["/api/v1/oauth/client/{id}/limits"],
        vec![
            (Method::GET, web::to(client_limits::get)),
            (Method::PUT, web::to(client_limits::replace)),
        ],
    ))
    .service(one(
        "/api/v1/oauth/client/{id}/secret",
        Method::POST,
        web::to(secret::rotate),
    ))
    .service(one(
        "/api/v1/oauth/client/{id}/keys",
        Method::PUT,
        web::to(client_keys::replace),
    ))
    .service(one(
        "/api/v1/oauth/client/{id}/identities",
        Method::PUT,
        web::to(client_identities::replace),
    ))
    .service(resource(
        &["/api/v1/oauth/issuer"],
        vec![
            (Method::POST, web::to(issuers::create)),
            (Method::GET, web::to(issuers::list)),
        ],
    ))
    .service(resource(
        &["/api/v1/oauth/issuer/{id}"],
        vec![
            (Method::GET, web::to(issuers::get)),
            (Method::DELETE, web::to(issuers::delete)),
        ],
    ))
    .service(resource(
        &["/api/v1/oauth/scope", "/api/v1/oauth/scopes"],
        vec![
            (Method::GET, web::to(scopes::list)),
            (Method::POST, web::to(scopes::add)),
        ],
    ))
    .service(one(
        "/api/v1/oauth/scope/{name}",
        Method::DELETE,
        web::to(scopes::remove),
    ))
    .service(one(
        "/api/v1/oauth/client/{id}/revoke",
        Method::POST,
        web::to(revocation::revoke_client),
    ))
    .service(one(
        "/api/v1/oauth/revocation",
        Method::POST,
        web::to(revocation::revoke_token),
    ))
    .service(one(
        "/api/v1/oauth/audit",
        Method::GET,
        web::to(audit_log::list),
    ))
    .service(one(
        "/openapi.json",
        Method::GET,
        web::to(openapi::document),
    ))
    .configure(crate::console::config);
}
