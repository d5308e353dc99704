//! A client's public keys for `private_key_jwt`: replace them (inline public JWKs, or a
//! `jwks_uri`). Whoever holds a key has the client's power, so the caller needs every scope
//! the client holds; dropping a key or the URL it had revokes the client's older tokens.

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::time::Timestamp;
use serde::Deserialize;
use serde_json::Value;

use super::clients::{client_to_change, client_view};
use crate::audit::{Action, Audit, audited};
use crate::auth::Caller;
use crate::body::{Body, read_object};
use crate::error::ApiError;
use crate::federation;
use crate::schema::{Authenticated, ClientIdPath, JsonBody};
use crate::state::AppState;
use crate::views::{ClientView, ErrorBody};

/// The client's keys: public JWKs (an empty list: none), or a URL they are fetched from.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeysBody {
    /// Public JWKs (OKP Ed25519, EC P-256, RSA of 2048 bits or more; no private member; at
    /// most 16, distinct `kid`s, the RFC 7638 thumbprint when a key has none).
    #[schema(value_type = Option<Vec<Object>>, max_items = 16)]
    keys: Option<Vec<Value>>,
    /// https, or http on a loopback host; no user information or fragment.
    #[schema(
        max_length = 2048,
        pattern = r"^(https://[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|http://(localhost|127\.0\.0\.1|\[::1\]))(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$"
    )]
    jwks_uri: Option<String>,
}

impl Body for KeysBody {
    const SHAPE: &'static str =
        "an object {\"keys\": [public JWKs]} or {\"jwks_uri\": \"<https URL>\"}";
}

/// Replaces a client's public keys; the caller must hold every scope of the client.
#[utoipa::path(put, path = "/api/v1/oauth/client/{id}/keys", tag = "clients", params(ClientIdPath), request_body = KeysBody,
    responses((status = 200, description = "the client, with its keys now", body = ClientView),
        (status = 400, description = "invalid_request: a malformed client id, or a missing body or one of another shape", body = ErrorBody),
        (status = 404, description = "not_found: no such client", body = ErrorBody),
        (status = 422, description = "invalid_client_metadata: a key with a private member, an unsupported key, repeated kids, too many keys, both keys and jwks_uri, or an invalid jwks_uri", body = ErrorBody),
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
        Action::ClientKeysReplace,
        Some(path.as_str()),
    );
    audited(state.foundation.store.clone(), audit.clone(), async move {
        let id = client_to_change(&caller, &state, &path, "client:update")?;
        let body: KeysBody = read_object(req.headers(), payload).await?;
        let keys = federation::client_keys(body.keys, body.jwks_uri.as_deref())
            .map_err(ApiError::invalid_client_metadata)?
            .ok_or_else(|| {
                ApiError::invalid_request(format!("the body must be {}", KeysBody::SHAPE))
            })?;

        let now = Timestamp::now();
        let event = audit.success(Some(federation::keys_detail(&keys)), now);
        let revoked = state
            .foundation
            .changes
            .set_client_keys(caller.actor(), &id, keys, now, event)
            .await?;
        tracing::info!(client_id = %id, actor = %caller.client_id(), revoked, "client keys replaced");
        Ok(HttpResponse::Ok().json(client_view(&state, id).await?))
    })
    .await
}
