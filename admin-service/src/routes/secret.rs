//! Secret rotation: a new secret shown once; the old one works for an optional grace period.

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::time::Timestamp;
use serde::Deserialize;

use super::clients::client_to_change;
use crate::audit::{Action, Audit, audited};
use crate::auth::Caller;
use crate::body::{Body, read_optional_object};
use crate::error::ApiError;
use crate::schema::{Authenticated, ClientIdPath, JsonBody};
use crate::state::AppState;
use crate::views::{ErrorBody, RotatedSecret};

/// The longest grace period for an old secret: seven days.
const MAX_GRACE_SECS: i64 = 7 * 24 * 3600;

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    /// How long the previous secret keeps working (0 to 604800 seconds; default 0).
    #[serde(default, deserialize_with = "crate::body::whole_number")]
    #[schema(minimum = 0, maximum = 604800)]
    grace_period_seconds: i64,
}

impl Body for RotateBody {
    const SHAPE: &'static str = "empty, or an object {\"grace_period_seconds\"?: 0 to 604800}";
}

/// Rotates a client's secret (shown once); the caller must hold every scope of the client.
#[utoipa::path(post, path = "/api/v1/oauth/client/{id}/secret", tag = "clients", params(ClientIdPath), request_body(content = Option<RotateBody>),
    responses((status = 200, body = RotatedSecret),
        (status = 400, description = "invalid_request: a malformed client id, a body of another shape, or a grace period out of bounds", body = ErrorBody),
        (status = 404, description = "not_found: no such client", body = ErrorBody),
        Authenticated, JsonBody),
    security(("bearer" = [])))]
pub async fn rotate(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let audit = Audit::new(
        &req,
        &caller,
        Action::ClientSecretRotate,
        Some(path.as_str()),
    );
    audited(state.foundation.store.clone(), audit.clone(), async move {
        let id = client_to_change(&caller, &state, &path, "client:update")?;
        let body: RotateBody = read_optional_object(req.headers(), payload)
            .await?
            .unwrap_or_default();
        if !(0..=MAX_GRACE_SECS).contains(&body.grace_period_seconds) {
            return Err(ApiError::invalid_request(format!(
                "grace_period_seconds must be from 0 to {MAX_GRACE_SECS}"
            )));
        }

        let now = Timestamp::now();
        let grace_until =
            (body.grace_period_seconds > 0).then(|| now.plus_secs(body.grace_period_seconds));
        let event = audit.success(
            Some(format!(
                "grace_period_seconds: {}",
                body.grace_period_seconds
            )),
            now,
        );
        let rotated = state
            .foundation
            .changes
            .rotate_secret(caller.actor(), &id, grace_until, now, event)
            .await?;
        tracing::info!(client_id = %id, actor = %caller.client_id(), "client secret rotated");
        Ok(HttpResponse::Ok().json(RotatedSecret {
            client_id: id.to_string(),
            client_secret: rotated.secret.expose().to_owned(),
            previous_secret_expires_at: rotated.previous_until.map(Timestamp::to_rfc3339),
        }))
    })
    .await
}
