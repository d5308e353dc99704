//! The scope registry: read it, add custom scopes, remove unused custom scopes.

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::scopes::Scope;
use auth_core::store::registry::{self, RemoveOutcome};
use auth_core::store::{self, audit};
use auth_core::time::Timestamp;
use serde::Deserialize;

use crate::audit::{Action, Audit, audited};
use crate::auth::Caller;
use crate::body::{Body, read_object};
use crate::error::ApiError;
use crate::schema::{Authenticated, JsonBody, ScopeNamePath};
use crate::state::AppState;
use crate::views::{ErrorBody, ScopeAdded};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddBody {
    /// The new scope: printable ASCII without space, `"` or `\\`, at most 128 characters.
    #[schema(schema_with = crate::schema::scope_name)]
    name: String,
}

impl Body for AddBody {
    const SHAPE: &'static str = "an object {\"name\": \"<scope name>\"}";
}

/// Turns scope names from a body into registered scopes, deduplicated in order;
/// any malformed or unregistered name is a 422 naming it.
pub async fn known_scopes(state: &AppState, raw: Vec<String>) -> Result<Vec<Scope>, ApiError> {
    let mut scopes: Vec<Scope> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for name in raw {
        match Scope::parse(&name) {
            Ok(scope) if !scopes.contains(&scope) => scopes.push(scope),
            Ok(_) => {}
            Err(_) => unknown.push(name.chars().take(200).collect()),
        }
    }
    let candidates = scopes.clone();
    let unregistered = state
        .foundation
        .store
        .run(move |conn| registry::unknown(conn, &candidates))
        .await?;
    unknown.extend(unregistered.iter().map(ToString::to_string));
    if unknown.is_empty() {
        Ok(scopes)
    } else {
        Err(ApiError::unknown_scopes(&unknown))
    }
}

/// The scope registry, in registry order (also served at `/api/v1/oauth/scopes`).
#[utoipa::path(get, path = "/api/v1/oauth/scope", tag = "scopes",
    responses((status = 200, body = Vec<String>), Authenticated), security(("bearer" = [])))]
pub async fn list(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require("scope:read")?;
    Ok(HttpResponse::Ok().json(state.foundation.store.run(registry::all).await?))
}

/// Adds a custom scope at the end of the registry (201), or confirms it exists (200).
#[utoipa::path(post, path = "/api/v1/oauth/scope", tag = "scopes", request_body = AddBody,
    responses((status = 201, description = "added", body = ScopeAdded),
        (status = 200, description = "it was already registered", body = ScopeAdded),
        (status = 400, description = "invalid_request: a missing body, one of another shape, or a malformed scope name", body = ErrorBody),
        Authenticated, JsonBody),
    security(("bearer" = [])))]
pub async fn add(
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let audit = Audit::new(&req, &caller, Action::ScopeAdd, None);
    audited(state.foundation.store.clone(), audit.clone(), async move {
        caller.require("scope:create_or_update")?;
        let body: AddBody = read_object(req.headers(), payload).await?;
        let scope = Scope::parse(&body.name)
            .map_err(|error| ApiError::invalid_request(format!("invalid scope name: {error}")))?;
        let event = audit
            .with_target(scope.as_str())
            .success(None, Timestamp::now());
        let added = scope.clone();
        let created = state
            .foundation
            .store
            .run(move |conn| {
                store::transaction(conn, |conn| {
                    let created = registry::add(conn, &added)?;
                    if created {
                        audit::insert(conn, &event)?;
                    }
                    Ok(created)
                })
            })
            .await?;
        let status = if created {
            actix_web::http::StatusCode::CREATED
        } else {
            actix_web::http::StatusCode::OK
        };
        Ok(HttpResponse::build(status).json(ScopeAdded {
            name: scope.to_string(),
            created,
        }))
    })
    .await
}

/// Removes a custom scope no client holds.
#[utoipa::path(delete, path = "/api/v1/oauth/scope/{name}", tag = "scopes", params(ScopeNamePath),
    responses((status = 204, description = "removed"),
        (status = 404, description = "not_found: no such scope", body = ErrorBody),
        (status = 409, description = "conflict: a built-in scope, or one still granted to a client", body = ErrorBody),
        Authenticated),
    security(("bearer" = [])))]
pub async fn remove(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let audit = Audit::new(&req, &caller, Action::ScopeRemove, Some(path.as_str()));
    audited(state.foundation.store.clone(), audit.clone(), async move {
        caller.require("scope:delete")?;
        let scope = Scope::parse(&path).map_err(|_| ApiError::not_found("scope"))?;
        let event = audit.success(None, Timestamp::now());
        let outcome = state
            .foundation
            .store
            .run(move |conn| {
                store::transaction(conn, |conn| {
                    let outcome = registry::remove(conn, &scope)?;
                    if outcome == RemoveOutcome::Removed {
                        audit::insert(conn, &event)?;
                    }
                    Ok(outcome)
                })
            })
            .await?;
        match outcome {
            RemoveOutcome::Removed => Ok(HttpResponse::NoContent().finish()),
            RemoveOutcome::NotFound => Err(ApiError::not_found("scope")),
            RemoveOutcome::BuiltIn => Err(ApiError::conflict("built-in scopes cannot be removed")),
            RemoveOutcome::InUse(holders) => Err(ApiError::conflict(format!(
                "the scope is still granted to clients (for example {}); remove it from them first",
                holders.join(", ")
            ))),
        }
    })
    .await
}
