//! The parts of the OpenAPI description that serde-derived types cannot state: the client
//! id and scope name rules (auth-core's patterns, tested against its parsers), the path
//! parameters that carry them, the fidesops bodies that are an array or an object, and the
//! error answers many endpoints share.

use std::collections::BTreeMap;

use auth_core::ids::{CLIENT_ID_PATTERN, MAX_CLIENT_ID_LEN};
use auth_core::scopes::Scope;
use auth_core::scopes::{MAX_SCOPE_LEN, SCOPE_PATTERN};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::{OpenApi, Ref, RefOr, Required, Schema};
use utoipa::{IntoParams, IntoResponses, Modify, PartialSchema, ToSchema};

use crate::body::{Body, ScopesOr};

/// Audiences: at most 16 absolute URIs, as `auth_core::uri::is_absolute_uri` takes them.
pub fn audiences() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(auth_core::uri::MAX_URI_LEN))
                .pattern(Some(auth_core::uri::ABSOLUTE_URI_PATTERN)),
        )
        .max_items(Some(16))
}

/// A scope name, as `Scope::parse` takes it.
pub fn scope_name() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_SCOPE_LEN))
        .pattern(Some(SCOPE_PATTERN))
}

/// The component of a registered scope: a scope name here, and in the document served at
/// `/openapi.json` also an `enum` of the registry at that moment ([`list_registry`]), since
/// a scope outside it is a 422.
pub const REGISTERED_SCOPE: &str = "RegisteredScope";

/// A list of registered scopes (duplicates are dropped).
pub fn scope_names() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(Ref::from_schema_name(REGISTERED_SCOPE))
        .into()
}

/// Adds the [`REGISTERED_SCOPE`] component: any scope name, until [`list_registry`].
pub struct RegisteredScope;

impl Modify for RegisteredScope {
    fn modify(&self, openapi: &mut OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .schemas
            .insert(
                REGISTERED_SCOPE.to_owned(),
                scope_name()
                    .description(Some("a scope of the registry (GET /api/v1/oauth/scope)"))
                    .into(),
            );
    }
}

/// Narrows [`REGISTERED_SCOPE`] to exactly the scopes of `registry`.
pub fn list_registry(openapi: &mut OpenApi, registry: &[Scope]) {
    let listed = scope_name()
        .description(Some(
            "a scope of the registry (GET /api/v1/oauth/scope), listed as it was when this \
             document was served",
        ))
        .enum_values(Some(registry.iter().map(Scope::as_str)));
    openapi
        .components
        .get_or_insert_with(Default::default)
        .schemas
        .insert(REGISTERED_SCOPE.to_owned(), listed.into());
}

/// A client id, as `ClientId::parse` takes it.
pub fn client_id() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_CLIENT_ID_LEN))
        .pattern(Some(CLIENT_ID_PATTERN))
}

fn path_parameter(name: &str, schema: ObjectBuilder, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// The `{id}` of the client endpoints.
pub struct ClientIdPath;

impl IntoParams for ClientIdPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![path_parameter(
            "id",
            client_id(),
            "a client id: 1 to 128 letters, digits, '-', '_' and '.', not '.' or '..' \
             (anything else is a 400; a well-formed unknown id is a 404)",
        )]
    }
}

/// The `{id}` of the trusted issuer endpoints.
pub struct IssuerIdPath;

impl IntoParams for IssuerIdPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![path_parameter(
            "id",
            client_id(),
            "a trusted issuer id (generated: `iss_` and 22 base64url characters), with the \
             characters of a client id (anything else is a 400; a well-formed unknown id is \
             a 404)",
        )]
    }
}

/// The `{name}` of `DELETE /api/v1/oauth/scope/{name}`.
pub struct ScopeNamePath;

impl IntoParams for ScopeNamePath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![path_parameter(
            "name",
            scope_name(),
            "a scope name (anything else, like an unknown scope, is a 404)",
        )]
    }
}

/// The array, or the object `T` (described inline: these bodies are named where they are
/// used, `CreateBody` and `ScopesBody`).
impl<T: Body + ToSchema> PartialSchema for ScopesOr<T> {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(scope_names())
            .item(T::schema())
            .description(Some(T::SHAPE))
            .into()
    }
}

use auth_core::openapi::error_response as error;

/// 401, 403 and 503: what every endpoint behind a bearer token can answer.
pub struct Authenticated;

impl IntoResponses for Authenticated {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([
            (
                "401".to_owned(),
                error(
                    "invalid_token: no bearer token, or a malformed, badly signed, expired or revoked one",
                ),
            ),
            (
                "403".to_owned(),
                error(
                    "insufficient_scope: the token lacks the endpoint's scope, or the caller \
                     would grant scopes it does not hold; root_client_immutable: a change to \
                     the root client",
                ),
            ),
            (
                "503".to_owned(),
                error("temporarily_unavailable: the database cannot be reached; retry later"),
            ),
        ])
    }
}

/// 413 and 415: what every endpoint that reads a JSON body can answer.
pub struct JsonBody;

impl IntoResponses for JsonBody {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([
            ("413".to_owned(), error("the body exceeds 64 KiB")),
            (
                "415".to_owned(),
                error("a non-empty body that is not application/json"),
            ),
        ])
    }
}
