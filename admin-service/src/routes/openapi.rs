//! The OpenAPI 3 description of this service, generated from the handlers' annotations
//! and served at `/openapi.json`.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{audit_log, client_scopes, clients, health, revocation, scopes, secret};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "admin-service",
        description = "Clients, scopes, secret rotation and the audit trail of the OAuth 2.0 \
                       client-credentials service. Every endpoint needs a bearer token with the \
                       scope it names."
    ),
    paths(
        clients::create,
        clients::list,
        clients::get,
        clients::delete,
        client_scopes::get,
        client_scopes::replace,
        secret::rotate,
        scopes::list,
        scopes::add,
        scopes::remove,
        revocation::revoke_token,
        revocation::revoke_client,
        audit_log::list,
        health::live,
        health::ready,
    ),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
