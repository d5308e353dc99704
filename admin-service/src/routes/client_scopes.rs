//! A client's scopes: read, and replace (a removal revokes the client's older tokens).

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::store::{clients, registry};
use auth_core::time::Timestamp;
use serde::Deserialize;

use super::clients::{client_to_change, parse_client_id, scope_detail};
use crate::audit::{Action, Audit, audited};
use crate::auth::Caller;
use crate::body::{Body, ScopesOr, missing, read_scopes};
use crate::error::ApiError;
use crate::schema::{Authenticated, ClientIdPath, JsonBody};
use crate::state::AppState;
use crate::views::ErrorBody;

/// The new scopes: a bare array (fidesops) or `{"scopes": [...]}`.
pub type ScopesBody = ScopesOr<ScopesObject>;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopesObject {
    #[schema(schema_with = crate::schema::scope_names)]
    scopes: Vec<String>,
}

impl Body for ScopesObject {
    const SHAPE: &'static str =
        "a JSON array of scope names, or an object {\"scopes\": [scope names]}";
}

impl utoipa::ToSchema for ScopesBody {
    fn name() -> std::borrow::Cow<'static, str> {
        "ScopesBody".into()
    }
}

/// A client's scopes in registry order (the whole registry for the root client).
#[utoipa::path(get, path = "/api/v1/oauth/client/{id}/scope", tag = "clients", params(ClientIdPath),
    responses((status = 200, body = Vec<String>),
        (status = 400, description = "invalid_request: a malformed client id", body = ErrorBody),
        (status = 404, description = "not_found: no such client", body = ErrorBody),
        Authenticated),
    security(("bearer" = [])))]
pub async fn get(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require("client:read")?;
    let id = parse_client_id(&path)?;
    if id == state.root_id {
        return Ok(HttpResponse::Ok().json(state.foundation.store.run(registry::all).await?));
    }
    let scopes = state
        .foundation
        .store
        .run(move |conn| clients::live_scopes(conn, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("client"))?;
    Ok(HttpResponse::Ok().json(scopes))
}

/// Replaces a client's scopes; removing any revokes the client's older tokens.
#[utoipa::path(put, path = "/api/v1/oauth/client/{id}/scope", tag = "clients", params(ClientIdPath), request_body = ScopesBody,
    responses((status = 200, description = "the client's scopes now, in registry order", body = Vec<String>),
        (status = 400, description = "invalid_request: a malformed client id, or a missing body or one of another shape", body = ErrorBody),
        (status = 404, description = "not_found: no such client", body = ErrorBody),
        (status = 422, description = "invalid_scope: malformed or unknown scopes, named", body = ErrorBody),
        Authenticated, JsonBody),
    security(("bearer" = [])))]
pub async fn replace(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let audit = Audit::new(
        &req,
        &caller,
        Action::ClientScopesReplace,
        Some(path.as_str()),
    );
    audited(state.foundation.store.clone(), audit.clone(), async move {
        let id = client_to_change(&caller, &state, &path, "client:update")?;
        let body: ScopesBody = read_scopes(req.headers(), payload)
            .await?
            .ok_or_else(|| missing(ScopesObject::SHAPE))?;
        let raw = match body {
            ScopesOr::Scopes(scopes) | ScopesOr::Object(ScopesObject { scopes }) => scopes,
        };
        let wanted = super::scopes::known_scopes(&state, raw).await?;

        let now = Timestamp::now();
        let event = audit.success(Some(scope_detail(&wanted)), now);
        let removed = state
            .foundation
            .changes
            .replace_scopes(caller.actor(), &id, wanted.clone(), now, event)
            .await?;
        tracing::info!(client_id = %id, actor = %caller.client_id(), removed = removed.len(), "client scopes replaced");
        Ok(HttpResponse::Ok().json(wanted))
    })
    .await
}
