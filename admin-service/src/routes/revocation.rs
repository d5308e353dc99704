//! Revoking tokens: one token (by the token or its `jti`), or every token of a client.

use std::time::Instant;

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::changes::TokenRevocation;
use auth_core::ids::TokenId;
use auth_core::limits::Limited;
use auth_core::store::clients;
use auth_core::time::Timestamp;
use auth_core::token::VerifyError;
use serde::Deserialize;
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};

use super::clients::{client_to_change, parse_client_id};
use crate::audit::{Action, Audit, audited};
use crate::auth::Caller;
use crate::body::{Body, read_object};
use crate::error::ApiError;
use crate::schema::{Authenticated, ClientIdPath, JsonBody};
use crate::state::AppState;
use crate::views::ErrorBody;

/// The token itself, or its `jti` and client (then it is kept for a whole token lifetime).
/// Tried in that order; other members are ignored.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum RevokeBody {
    Token { token: String },
    Id { jti: String, client_id: String },
}

impl Body for RevokeBody {
    const SHAPE: &'static str = "an object {\"token\": \"<access token>\"} or \
                                 {\"jti\": \"<token id>\", \"client_id\": \"<client id>\"}";
}

/// Written out: the variants overlap (a body with all three members is the first), so
/// they are `anyOf`, not the `oneOf` a derive would say.
impl utoipa::PartialSchema for RevokeBody {
    fn schema() -> RefOr<Schema> {
        let token = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"))
            .description(Some(
                "an access token this service issued (a JWS; another token is a 400)",
            ));
        let jti = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[A-Za-z0-9_-]{1,64}$"));
        AnyOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .property("token", token)
                    .required("token"),
            )
            .item(
                ObjectBuilder::new()
                    .property("jti", jti)
                    .property("client_id", crate::schema::client_id())
                    .required("jti")
                    .required("client_id"),
            )
            .description(Some(Self::SHAPE))
            .into()
    }
}

impl utoipa::ToSchema for RevokeBody {}

/// Revokes one token; every verifier refuses it from then on.
#[utoipa::path(post, path = "/api/v1/oauth/revocation", tag = "revocation", request_body = RevokeBody,
    responses((status = 204, description = "revoked (or already expired)"),
        (status = 400, description = "invalid_request: a missing body, one of another shape, a token this service did not issue, or a malformed jti or client id", body = ErrorBody),
        (status = 429, description = "rate_limited: the caller reached its limit of tokens revoked per minute (named); see Retry-After", body = ErrorBody),
        Authenticated, JsonBody),
    security(("bearer" = [])))]
pub async fn revoke_token(
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let audit = Audit::new(&req, &caller, Action::TokenRevoke, None);
    audited(state.foundation.store.clone(), audit.clone(), async move {
        caller.require("token:revoke")?;
        let body: RevokeBody = read_object(req.headers(), payload).await?;
        let now = Timestamp::now();
        let revocation = match body {
            RevokeBody::Token { token } => {
                match state.foundation.bearer.verify(&token, now).await {
                    Ok(verified) => TokenRevocation {
                        jti: verified.claims.jti,
                        client_id: verified.client_id,
                        expires_at: verified.expires_at,
                    },
                    Err(VerifyError::Expired) => return Ok(HttpResponse::NoContent().finish()),
                    Err(_) => {
                        return Err(ApiError::invalid_request(
                            "not a token issued by this service",
                        ));
                    }
                }
            }
            RevokeBody::Id { jti, client_id } => TokenRevocation {
                jti: TokenId::parse(&jti)
                    .map_err(|_| ApiError::invalid_request("malformed jti"))?,
                client_id: parse_client_id(&client_id)?,
                // Kept for a whole token lifetime: the token's own expiry is unknown.
                expires_at: now.plus_secs(state.token_lifetime_secs),
            },
        };
        count_revocation(&caller, &state).await?;
        let client_id = revocation.client_id.clone();
        let event = audit
            .with_target(revocation.jti.as_str())
            .success(Some(format!("client: {client_id}")), now);
        state
            .foundation
            .changes
            .revoke_token(&revocation, now, Some(event))
            .await?;
        tracing::info!(client_id = %client_id, actor = %caller.client_id(), "token revoked");
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}

/// Counts a revocation against the caller's limit (each revoked token is held by every
/// verifier until it expires); the root client is never limited.
async fn count_revocation(caller: &Caller, state: &AppState) -> Result<(), ApiError> {
    if caller.is_root {
        return Ok(());
    }
    let id = caller.client_id().clone();
    let own = state
        .foundation
        .store
        .run(move |conn| clients::find(conn, &id))
        .await?
        .map(|client| client.limits())
        .unwrap_or_default();
    state
        .foundation
        .usage
        .take(
            Limited::Revocations,
            caller.client_id().as_str(),
            own,
            Instant::now(),
        )
        .await
        .map_err(|reached| ApiError::limit_reached(&reached))
}

/// Revokes every token the client holds now; tokens issued afterwards work. The root
/// client's own tokens can be cut off too, by the root client only (the procedure for a
/// leaked root secret: rotate it in the environment, then cut off what was issued before;
/// the calling token is among them).
#[utoipa::path(post, path = "/api/v1/oauth/client/{id}/revoke", tag = "revocation", params(ClientIdPath),
    responses((status = 204, description = "revoked"),
        (status = 400, description = "invalid_request: a malformed client id", body = ErrorBody),
        (status = 404, description = "not_found: no such client", body = ErrorBody),
        Authenticated),
    security(("bearer" = [])))]
pub async fn revoke_client(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let audit = Audit::new(
        &req,
        &caller,
        Action::ClientTokensRevoke,
        Some(path.as_str()),
    );
    audited(state.foundation.store.clone(), audit.clone(), async move {
        if parse_client_id(&path)? == state.root_id {
            return revoke_root(&caller, &state, audit).await;
        }
        let id = client_to_change(&caller, &state, &path, "token:revoke")?;
        let now = Timestamp::now();
        let event = audit.success(None, now);
        state
            .foundation
            .changes
            .revoke_client_tokens(&id, now, event)
            .await?;
        tracing::info!(client_id = %id, actor = %caller.client_id(), "all tokens of the client revoked");
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}

/// Cuts off every root token issued until now: only the root client may.
async fn revoke_root(
    caller: &Caller,
    state: &AppState,
    audit: Audit,
) -> Result<HttpResponse, ApiError> {
    if !caller.is_root {
        return Err(ApiError::root_immutable());
    }
    let root = &state.root_id;
    let now = Timestamp::now();
    let event = audit.success(None, now);
    state
        .foundation
        .changes
        .revoke_root_tokens(root, now, event)
        .await?;
    tracing::warn!(client_id = %root, "every root token issued until now revoked");
    Ok(HttpResponse::NoContent().finish())
}
