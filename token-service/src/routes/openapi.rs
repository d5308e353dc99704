//! The OpenAPI 3 description of this service, generated from the handlers' annotations
//! and served at `/openapi.json`.

use std::collections::BTreeMap;

use actix_web::HttpResponse;
use auth_core::ids::{CLIENT_ID_PATTERN, MAX_CLIENT_ID_LEN};
use auth_core::scopes::SCOPE_LIST_PATTERN;
use auth_core::secret::MAX_SECRET_LEN;
use utoipa::openapi::RefOr;
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi};

use super::{introspect, revoke, token, well_known};
use auth_core::openapi::HealthPaths;

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
        well_known::metadata
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&BasicAuth, &HealthPaths),
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

/// `grant_type`: only `client_credentials` (another value is 400 `unsupported_grant_type`).
pub fn grant_type() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["client_credentials"]))
}

// Form parameters may be empty: RFC 6749 §3.1 counts an empty parameter as omitted.

/// A client id, as `ClientId::parse` takes it (anything else fails authentication).
pub fn client_id() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(MAX_CLIENT_ID_LEN))
        .pattern(Some(format!("^$|{CLIENT_ID_PATTERN}")))
        .description(Some(
            "with client_secret (client_secret_post); with Basic credentials, only if equal to \
             their client id",
        ))
}

/// A client secret: 1 to 71 bytes (bcrypt's limit; a longer one fails authentication).
pub fn client_secret() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(MAX_SECRET_LEN))
        .description(Some(
            "1 to 71 bytes; with client_id (client_secret_post), never with Basic credentials",
        ))
}

/// A space-separated list of scopes, as `parse_scope_list` takes it.
pub fn scope_list() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^$|{SCOPE_LIST_PATTERN}")))
        .description(Some(
            "space-separated subset of the client's scopes (another is 400 invalid_scope); \
             omitted: all of them",
        ))
}

use auth_core::openapi::error_response as error;

/// 401, 413, 429 and 503: what every endpoint that authenticates a client from a form can
/// answer.
pub struct ClientAuthErrors;

impl IntoResponses for ClientAuthErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([
            (
                "401".to_owned(),
                error(
                    "invalid_client: unknown client, wrong secret, or malformed or missing \
                     credentials, indistinguishably",
                ),
            ),
            ("413".to_owned(), error("the body exceeds 16 KiB")),
            (
                "429".to_owned(),
                error(
                    "rate_limited: too many failed authentications for this client or address, or \
                     the client reached one of its per-client limits (tokens issued or revoked \
                     per minute, named in error_description); see Retry-After",
                ),
            ),
            (
                "503".to_owned(),
                error("temporarily_unavailable: the database cannot be reached; retry later"),
            ),
        ])
    }
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
