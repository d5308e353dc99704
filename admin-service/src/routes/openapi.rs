//! The OpenAPI 3 description of this service, generated from the handlers' annotations
//! and served at `/openapi.json`.

use actix_web::{HttpResponse, web};
use auth_core::store::registry;
use utoipa::openapi::schema::{SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Required, Schema};
use utoipa::{Modify, OpenApi};

use super::{
    audit_log, client_identities, client_keys, client_limits, client_list, client_scopes, clients,
    issuers, revocation, scopes, secret,
};
use crate::schema::{RegisteredScope, list_registry};
use crate::state::AppState;
use auth_core::openapi::HealthPaths;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "admin-service",
        description = "Clients, scopes, per-client limits, secret rotation, client keys, trusted issuers and \
                       workload identities, and the audit trail of the OAuth 2.0 \
                       client-credentials service. Every endpoint needs a bearer token with the \
                       scope it names."
    ),
    paths(
        clients::create,
        client_list::list,
        clients::get,
        clients::delete,
        client_scopes::get,
        client_scopes::replace,
        client_limits::get,
        client_limits::replace,
        secret::rotate,
        client_keys::replace,
        client_identities::replace,
        issuers::create,
        issuers::list,
        issuers::get,
        issuers::delete,
        scopes::list,
        scopes::add,
        scopes::remove,
        revocation::revoke_token,
        revocation::revoke_client,
        audit_log::list,
    ),
    components(schemas(crate::views::ErrorBody)),
    modifiers(
        &BearerAuth,
        &OptionalBodies,
        &RegisteredScope,
        &HealthPaths
    ),
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

/// `request_body = Option<T>` comes out as `oneOf: [{"type": "null"}, T]`, which would say
/// that a JSON `null` is a body. These endpoints take no body at all instead (and refuse
/// `null` like any other wrong shape), so the body is stated as an optional `T`.
struct OptionalBodies;

impl Modify for OptionalBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let operations = openapi
            .paths
            .paths
            .values_mut()
            .flat_map(|item| [&mut item.post, &mut item.put])
            .flatten();
        for body in operations.filter_map(|operation| operation.request_body.as_mut()) {
            for content in body.content.values_mut() {
                let Some(RefOr::T(Schema::OneOf(one_of))) = &mut content.schema else {
                    continue;
                };
                let null_first = one_of.items.first().is_some_and(|first| {
                    matches!(first, RefOr::T(Schema::Object(object))
                        if object.schema_type == SchemaType::Type(Type::Null))
                });
                if null_first && one_of.items.len() == 2 {
                    content.schema = one_of.items.pop();
                    body.required = Some(Required::False);
                }
            }
        }
    }
}

/// The description, with the scope registry as it is now (without it, should the database
/// not answer: the document is still served).
pub async fn document(state: web::Data<AppState>) -> HttpResponse {
    let mut openapi = ApiDoc::openapi();
    match state.foundation.store.run(registry::all).await {
        Ok(scopes) => list_registry(&mut openapi, &scopes),
        Err(error) => {
            tracing::warn!(%error, "OpenAPI description served without the scope registry")
        }
    }
    HttpResponse::Ok().json(openapi)
}
