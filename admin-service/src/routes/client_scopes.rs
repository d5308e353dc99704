//! A client's scopes: read, and replace (a removal revokes the client's older tokens).

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::store::{self, audit, clients, registry};
use auth_core::time::Timestamp;
use serde::Deserialize;

use super::clients::{client_to_change, parse_client_id, revoke_until_now, scope_detail};
use crate::audit::{Audit, audited};
use crate::auth::Caller;
use crate::body::read_json;
use crate::error::ApiError;
use crate::state::AppState;
use crate::views::ErrorBody;

/// A bare array (fidesops) or `{"scopes": [...]}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ScopesBody {
    Scopes(Vec<String>),
    Object(ScopesObject),
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopesObject {
    scopes: Vec<String>,
}

/// A client's scopes in registry order (the whole registry for the root client).
#[utoipa::path(get, path = "/api/v1/oauth/client/{id}/scope", tag = "clients", params(("id" = String, Path)),
    responses((status = 200, body = Vec<String>), (status = 400, body = ErrorBody), (status = 401, description = "missing, malformed, expired or revoked token", body = ErrorBody), (status = 403, description = "the token lacks the scope, or the caller would escalate", body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require("client:read")?;
    let id = parse_client_id(&path)?;
    if id == state.root_id {
        return Ok(HttpResponse::Ok().json(state.store.run(registry::all).await?));
    }
    let scopes = state
        .store
        .run(move |conn| clients::live_scopes(conn, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("client"))?;
    Ok(HttpResponse::Ok().json(scopes))
}

/// Replaces a client's scopes; removing any revokes the client's older tokens.
#[utoipa::path(put, path = "/api/v1/oauth/client/{id}/scope", tag = "clients", params(("id" = String, Path)), request_body = ScopesBody,
    responses((status = 200, body = Vec<String>), (status = 400, body = ErrorBody), (status = 401, description = "missing, malformed, expired or revoked token", body = ErrorBody), (status = 403, description = "the token lacks the scope, or the caller would escalate", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "unknown scopes", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn replace(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let audit = Audit::new(&req, &caller, "client.scopes.replace", Some(path.as_str()));
    audited(state.store.clone(), audit.clone(), async move {
        let id = client_to_change(&caller, &state, &path, "client:update")?;
        let body: ScopesBody = read_json(req.headers(), payload).await?;
        let raw = match body {
            ScopesBody::Scopes(scopes) | ScopesBody::Object(ScopesObject { scopes }) => scopes,
        };
        let wanted = super::scopes::known_scopes(&state, raw).await?;

        let lookup = id.clone();
        let current = state
            .store
            .run(move |conn| clients::live_scopes(conn, &lookup))
            .await?
            .ok_or_else(|| ApiError::not_found("client"))?;
        // Granting is what needs power: the caller must hold every scope it adds.
        let added: Vec<_> = wanted.iter().filter(|s| !current.contains(s)).cloned().collect();
        caller.require_all(&added)?;

        let now = Timestamp::now();
        let event = audit.success(Some(scope_detail(&wanted)), now);
        let (target, new_scopes) = (id.clone(), wanted.clone());
        let removed = state
            .store
            .run(move |conn| {
                store::transaction(conn, |conn| {
                    if clients::find(conn, &target)?.is_none() {
                        return Ok(None);
                    }
                    let removed = clients::replace_scopes(conn, &target, &new_scopes, now)?;
                    audit::insert(conn, &event)?;
                    Ok(Some(removed))
                })
            })
            .await?
            .ok_or_else(|| ApiError::not_found("client"))?;
        if removed.is_empty() {
            // Nothing to revoke, but caches of this client's scopes must drop them.
            state.revocations.publish_client_changed(id.as_str()).await;
        } else {
            revoke_until_now(&state, id.clone()).await?;
        }
        tracing::info!(client_id = %id, actor = %caller.client_id(), removed = removed.len(), "client scopes replaced");
        Ok(HttpResponse::Ok().json(wanted))
    })
    .await
}
