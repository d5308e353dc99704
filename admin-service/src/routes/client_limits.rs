//! A client's own limits (tokens issued and tokens revoked per minute): read, and replace.
//! Enforced by every replica (`auth_core::limits`); a change reaches them at once.

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::limits::{ClientLimits, Limited, MAX_PER_MINUTE};
use auth_core::store::clients;
use auth_core::time::Timestamp;
use serde::{Deserialize, Serialize};

use super::clients::{client_to_change, parse_client_id};
use crate::audit::{Action, Audit, audited};
use crate::auth::Caller;
use crate::body::{Body, read_object};
use crate::error::ApiError;
use crate::schema::{Authenticated, ClientIdPath, JsonBody};
use crate::state::AppState;
use crate::views::ErrorBody;

/// A client's own limits, per minute: a number (0 for no limit), or null (or absent) for
/// the service's default.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsBody {
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10000000, nullable)]
    #[serde(default, deserialize_with = "crate::body::optional_whole_number")]
    tokens_per_minute: Option<i64>,
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10000000, nullable)]
    #[serde(default, deserialize_with = "crate::body::optional_whole_number")]
    revocations_per_minute: Option<i64>,
}

impl Body for LimitsBody {
    const SHAPE: &'static str = "an object {\"tokens_per_minute\"?: number or null, \
                                 \"revocations_per_minute\"?: number or null} (per minute; 0 \
                                 for no limit, null for the default)";
}

/// A client's limits: its own (null: the default) and those in force (0: no limit).
#[derive(Serialize, utoipa::ToSchema)]
pub struct LimitsView {
    tokens_per_minute: Option<u32>,
    revocations_per_minute: Option<u32>,
    effective: EffectiveLimits,
}

/// The limits in force for the client, per minute; 0: no limit.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EffectiveLimits {
    tokens_per_minute: u32,
    revocations_per_minute: u32,
}

fn view(state: &AppState, own: ClientLimits) -> LimitsView {
    let effective = |limited| state.foundation.usage.limit(limited, own).unwrap_or(0);
    LimitsView {
        tokens_per_minute: own.tokens_per_minute,
        revocations_per_minute: own.revocations_per_minute,
        effective: EffectiveLimits {
            tokens_per_minute: effective(Limited::Tokens),
            revocations_per_minute: effective(Limited::Revocations),
        },
    }
}

/// A client's limits (the root client's: none, it is never limited).
#[utoipa::path(get, path = "/api/v1/oauth/client/{id}/limits", tag = "clients", params(ClientIdPath),
    responses((status = 200, body = LimitsView),
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
        let none = ClientLimits {
            tokens_per_minute: Some(0),
            revocations_per_minute: Some(0),
        };
        return Ok(HttpResponse::Ok().json(view(&state, none)));
    }
    let own = state
        .foundation
        .store
        .run(move |conn| clients::find(conn, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("client"))?
        .limits();
    Ok(HttpResponse::Ok().json(view(&state, own)))
}

/// Replaces a client's own limits; every replica applies them from its next request.
#[utoipa::path(put, path = "/api/v1/oauth/client/{id}/limits", tag = "clients", params(ClientIdPath), request_body = LimitsBody,
    responses((status = 200, description = "the client's limits now", body = LimitsView),
        (status = 400, description = "invalid_request: a malformed client id, a missing body, one of another shape, or a limit out of range", body = ErrorBody),
        (status = 403, description = "root_client_immutable: the root client is never limited", body = ErrorBody),
        (status = 404, description = "not_found: no such client", body = ErrorBody),
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
        Action::ClientLimitsReplace,
        Some(path.as_str()),
    );
    audited(state.foundation.store.clone(), audit.clone(), async move {
        let id = client_to_change(&caller, &state, &path, "client:update")?;
        let body: LimitsBody = read_object(req.headers(), payload).await?;
        let own = ClientLimits {
            tokens_per_minute: per_minute("tokens_per_minute", body.tokens_per_minute)?,
            revocations_per_minute: per_minute(
                "revocations_per_minute",
                body.revocations_per_minute,
            )?,
        };
        let now = Timestamp::now();
        let event = audit.success(Some(detail(own)), now);
        state
            .foundation
            .changes
            .set_limits(&id, own, now, event)
            .await?;
        tracing::info!(client_id = %id, actor = %caller.client_id(), "client limits replaced");
        Ok(HttpResponse::Ok().json(view(&state, own)))
    })
    .await
}

/// A limit from the body: `None` (the default), or 0 (no limit) to [`MAX_PER_MINUTE`].
fn per_minute(field: &str, value: Option<i64>) -> Result<Option<u32>, ApiError> {
    value
        .map(|v| {
            u32::try_from(v)
                .ok()
                .filter(|v| *v <= MAX_PER_MINUTE)
                .ok_or_else(|| {
                    ApiError::invalid_request(format!(
                        "{field} must be from 0 (no limit) to {MAX_PER_MINUTE}, or null for the default"
                    ))
                })
        })
        .transpose()
}

/// The audit detail: each limit, or "default".
fn detail(own: ClientLimits) -> String {
    let shown = |v: Option<u32>| v.map_or_else(|| "default".to_owned(), |v| v.to_string());
    format!(
        "tokens_per_minute: {}, revocations_per_minute: {}",
        shown(own.tokens_per_minute),
        shown(own.revocations_per_minute)
    )
}
