//! Revoking tokens: one token (by the token or its `jti`), or every token of a client.

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::revocation::db;
use auth_core::store::{self, audit, clients};
use auth_core::time::Timestamp;
use auth_core::token::VerifyError;
use serde::Deserialize;

use super::clients::{client_to_change, parse_client_id, revoke_until_now};
use crate::audit::{Audit, audited};
use crate::auth::Caller;
use crate::body::read_object;
use crate::error::ApiError;
use crate::state::AppState;
use crate::views::ErrorBody;

/// The token itself, or its `jti` and client (then it is kept for a whole token lifetime).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum RevokeBody {
    Token { token: String },
    Id { jti: String, client_id: String },
}

/// Revokes one token; every verifier refuses it from then on.
#[utoipa::path(post, path = "/api/v1/oauth/revocation", tag = "revocation", request_body = RevokeBody,
    responses((status = 204, description = "revoked (or already expired)"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke_token(
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let audit = Audit::new(&req, &caller, "token.revoke", None);
    audited(state.store.clone(), audit.clone(), async move {
        caller.require("token:revoke")?;
        let body: RevokeBody = read_object(req.headers(), payload).await?;
        let now = Timestamp::now();
        let (jti, client_id, expires_at) = match body {
            RevokeBody::Token { token } => match state.verifier.verify(&token, now) {
                Ok(verified) => (verified.claims.jti, verified.client_id, verified.expires_at),
                Err(VerifyError::Expired) => return Ok(HttpResponse::NoContent().finish()),
                Err(_) => {
                    return Err(ApiError::invalid_request(
                        "not a token issued by this service",
                    ));
                }
            },
            RevokeBody::Id { jti, client_id } => {
                let valid_jti = !jti.is_empty()
                    && jti.len() <= 64
                    && jti
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if !valid_jti {
                    return Err(ApiError::invalid_request("malformed jti"));
                }
                let lifetime = state.token_lifetime_secs;
                (jti, parse_client_id(&client_id)?, now.plus_secs(lifetime))
            }
        };
        let event = audit
            .with_target(&jti)
            .success(Some(format!("client: {client_id}")), now);
        let (record_jti, record_client) = (jti.clone(), client_id.clone());
        state
            .store
            .run(move |conn| {
                store::transaction(conn, |conn| {
                    db::insert_revoked(conn, &record_jti, record_client.as_str(), expires_at, now)?;
                    audit::insert(conn, &event)
                })
            })
            .await?;
        state
            .revocations
            .publish_token_revoked(&jti, expires_at.as_secs() + 1)
            .await;
        tracing::info!(client_id = %client_id, actor = %caller.client_id(), "token revoked");
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}

/// Revokes every token the client holds now; tokens issued afterwards work.
#[utoipa::path(post, path = "/api/v1/oauth/client/{id}/revoke", tag = "revocation", params(("id" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke_client(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let audit = Audit::new(&req, &caller, "client.tokens.revoke", Some(path.as_str()));
    audited(state.store.clone(), audit.clone(), async move {
        let id = client_to_change(&caller, &state, &path, "token:revoke")?;
        let now = Timestamp::now();
        let event = audit.success(None, now);
        let target = id.clone();
        let found = state
            .store
            .run(move |conn| {
                store::transaction(conn, |conn| {
                    if clients::find(conn, &target)?.is_none() {
                        return Ok(false);
                    }
                    clients::raise_cutoff(conn, &target, now)?;
                    audit::insert(conn, &event)?;
                    Ok(true)
                })
            })
            .await?;
        if !found {
            return Err(ApiError::not_found("client"));
        }
        revoke_until_now(&state, id.clone()).await?;
        tracing::info!(client_id = %id, actor = %caller.client_id(), "all tokens of the client revoked");
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}
