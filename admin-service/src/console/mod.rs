//! The operators' console: a browser front end for the admin API, served by admin-service
//! at `/console` (issue 18).
//!
//! Plain ES-module JavaScript, one CSS file and an HTML shell (`admin-service/console/`),
//! embedded in the binary (`assets`): no framework, no front-end build, nothing fetched
//! at run time. The browser keeps the access token in memory only and calls the admin API
//! (`/api/v1/...`) with it, so scopes, escalation rules and the audit trail apply exactly
//! as for scripts. Signing in needs token-service, another origin: `relay` forwards the
//! sign-in form to it from this origin.
//!
//! Every answer under `/console` carries [`SECURITY_HEADERS`]: a strict
//! Content-Security-Policy (scripts, styles and connections from this origin only, no
//! inline script or style, no framing), `nosniff` and no referrer.

mod assets;
mod relay;

use actix_web::http::Method;
use actix_web::middleware::DefaultHeaders;
use actix_web::web;
use auth_core::http::{not_found, one, resource};

pub use relay::TokenRelay;

/// The Content-Security-Policy of every console answer.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

/// Headers every console answer carries (a route's own value wins).
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
];

/// `/console` and `/console/` (the page) and `/console/assets/{name}` (GET, HEAD),
/// `POST /console/token`;
/// any other path under `/console` is the JSON 404 of every unknown path.
pub fn config(cfg: &mut web::ServiceConfig) {
    let headers = SECURITY_HEADERS
        .iter()
        .fold(DefaultHeaders::new(), |headers, &(name, value)| {
            headers.add((name, value))
        });
    cfg.service(
        web::scope("/console")
            .wrap(headers)
            .service(resource(
                &["", "/"],
                vec![
                    (Method::GET, web::to(assets::page)),
                    (Method::HEAD, web::to(assets::page)),
                ],
            ))
            .service(resource(
                &["/assets/{name}"],
                vec![
                    (Method::GET, web::to(assets::asset)),
                    (Method::HEAD, web::to(assets::asset)),
                ],
            ))
            .service(one("/token", Method::POST, web::to(relay::token)))
            .default_service(web::to(not_found)),
    );
}
