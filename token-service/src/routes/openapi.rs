//! The OpenAPI 3 description of this service, generated from the handlers' annotations
//! and served at `/openapi.json`.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{health, introspect, revoke, token, well_known};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "token-service",
        description = "Issues OAuth 2.0 access tokens (client-credentials grant, RFC 6749 §4.4) \
                       as RFC 9068 JWTs, and publishes the keys that verify them."
    ),
    paths(
        token::issue,
        revoke::revoke,
        introspect::introspect,
        well_known::jwks,
        well_known::metadata,
        health::live,
        health::ready
    ),
    modifiers(&BasicAuth),
)]
pub struct ApiDoc;

struct BasicAuth;

impl Modify for BasicAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
    }
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
