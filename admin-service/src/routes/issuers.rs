//! Trusted issuers: the platforms whose tokens identify workloads (a Kubernetes API server,
//! a SPIFFE trust domain, a CI system). Register, list, read, delete; deleting one ends its
//! bindings at once and revokes the older tokens of every client bound through it.

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::ids::{ClientId, random_id};
use auth_core::store::federation::{self as stored, Keys, TrustedIssuer};
use auth_core::time::Timestamp;
use serde::Deserialize;
use serde_json::Value;

use crate::audit::{Action, Audit, audited};
use crate::auth::Caller;
use crate::body::{Body, read_object};
use crate::error::ApiError;
use crate::federation;
use crate::schema::{Authenticated, IssuerIdPath, JsonBody};
use crate::state::AppState;
use crate::views::{ErrorBody, IssuerView};

/// The prefix of generated issuer ids.
const ISSUER_ID_PREFIX: &str = "iss_";

/// A trusted issuer to register: its `iss` value, its keys (a URL or inline, one of them),
/// and the audiences its tokens must carry one of.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuerBody {
    /// The `iss` value of its tokens: 1 to 512 characters without whitespace or control
    /// characters.
    #[schema(
        min_length = 1,
        max_length = 512,
        pattern = r"^[^\s\u0000-\u001F\u007F-\u009F]+$"
    )]
    issuer: String,
    /// Where its public keys are fetched: https, or http on a loopback host (127.0.0.0/8,
    /// ::1, localhost); no user information or fragment. Not with `jwks`.
    #[schema(
        max_length = 2048,
        pattern = r"^(https://[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|http://(localhost|127\.0\.0\.1|\[::1\]))(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$"
    )]
    jwks_uri: Option<String>,
    /// Its public keys, inline. Not with `jwks_uri`.
    #[serde(default, deserialize_with = "crate::body::optional_object")]
    jwks: Option<JwksBody>,
    /// The audiences its tokens must carry one of: at most 16 absolute URIs (absent or
    /// empty: this service's issuer URL).
    #[schema(schema_with = crate::schema::audiences)]
    audiences: Option<Vec<String>>,
}

/// A JWK Set (RFC 7517 §5) of public keys.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JwksBody {
    /// Public JWKs (OKP Ed25519, EC P-256, RSA of 2048 bits or more; no private member; 1
    /// to 16, distinct `kid`s, the RFC 7638 thumbprint when a key has none).
    #[schema(value_type = Vec<Object>, min_items = 1, max_items = 16)]
    keys: Vec<Value>,
}

impl Body for IssuerBody {
    const SHAPE: &'static str = "an object {\"issuer\": \"<iss value>\", \"jwks_uri\": \"<https \
                                 URL>\" or \"jwks\": {\"keys\": [public JWKs]}, \"audiences\"?: \
                                 [absolute URIs]}";
}

/// Registers a trusted issuer.
#[utoipa::path(post, path = "/api/v1/oauth/issuer", tag = "issuers", request_body = IssuerBody,
    responses((status = 201, description = "registered", body = IssuerView),
        (status = 400, description = "invalid_request: a missing body, one of another shape, or both or neither of jwks_uri and jwks", body = ErrorBody),
        (status = 409, description = "conflict: an issuer with this issuer value is registered already", body = ErrorBody),
        (status = 422, description = "invalid_issuer_metadata: an invalid issuer value, jwks_uri, key set or audience", body = ErrorBody),
        Authenticated, JsonBody),
    security(("bearer" = [])))]
pub async fn create(
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let audit = Audit::new(&req, &caller, Action::IssuerCreate, None);
    audited(state.foundation.store.clone(), audit.clone(), async move {
        caller.require("federation:create_or_update")?;
        let body: IssuerBody = read_object(req.headers(), payload).await?;
        let issuer =
            federation::issuer_value(&body.issuer).map_err(ApiError::invalid_issuer_metadata)?;
        let keys = match (body.jwks_uri, body.jwks) {
            (Some(uri), None) => federation::jwks_uri(&uri).map(Keys::Uri),
            (None, Some(jwks)) if jwks.keys.is_empty() => Err(federation::Invalid(
                "jwks has no keys: an issuer needs at least one".to_owned(),
            )),
            (None, Some(jwks)) => federation::public_keys(jwks.keys).map(Keys::Inline),
            _ => {
                return Err(ApiError::invalid_request(format!(
                    "the body must be {} (jwks_uri or jwks, one of them)",
                    IssuerBody::SHAPE
                )));
            }
        }
        .map_err(ApiError::invalid_issuer_metadata)?;
        let audiences = federation::audiences(body.audiences.unwrap_or_default())
            .map_err(ApiError::invalid_issuer_metadata)?;

        let now = Timestamp::now();
        let (jwks, jwks_uri) = keys.to_columns();
        let row = TrustedIssuer {
            id: format!("{ISSUER_ID_PREFIX}{}", random_id()),
            issuer,
            jwks_uri,
            jwks,
            audiences: stored::audiences_column(&audiences),
            created_at: now.as_micros(),
        };
        let detail = format!(
            "issuer: {}; {}; audiences: {}",
            row.issuer,
            federation::keys_detail(&keys),
            if audiences.is_empty() {
                "default".to_owned()
            } else {
                audiences.join(" ")
            }
        );
        let event = audit.with_target(&row.id).success(Some(detail), now);
        state
            .foundation
            .changes
            .create_issuer(row.clone(), event)
            .await?;
        tracing::info!(issuer_id = %row.id, actor = %caller.client_id(), "trusted issuer registered");
        Ok(HttpResponse::Created().json(IssuerView::new(&row)?))
    })
    .await
}

/// The trusted issuers, oldest first.
#[utoipa::path(get, path = "/api/v1/oauth/issuer", tag = "issuers",
    responses((status = 200, body = Vec<IssuerView>), Authenticated),
    security(("bearer" = [])))]
pub async fn list(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require("federation:read")?;
    let issuers = state
        .foundation
        .store
        .run(|conn| {
            stored::issuers(conn)?
                .iter()
                .map(IssuerView::new)
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(issuers))
}

/// One trusted issuer.
#[utoipa::path(get, path = "/api/v1/oauth/issuer/{id}", tag = "issuers", params(IssuerIdPath),
    responses((status = 200, body = IssuerView),
        (status = 400, description = "invalid_request: a malformed issuer id", body = ErrorBody),
        (status = 404, description = "not_found: no such trusted issuer", body = ErrorBody),
        Authenticated),
    security(("bearer" = [])))]
pub async fn get(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require("federation:read")?;
    let id = parse_issuer_id(&path)?;
    let issuer = state
        .foundation
        .store
        .run(move |conn| {
            stored::issuer(conn, &id)?
                .as_ref()
                .map(IssuerView::new)
                .transpose()
        })
        .await?
        .ok_or_else(|| ApiError::not_found("trusted issuer"))?;
    Ok(HttpResponse::Ok().json(issuer))
}

/// Deletes a trusted issuer: its bindings stop working at once, and the tokens the clients
/// bound through it hold now are revoked.
#[utoipa::path(delete, path = "/api/v1/oauth/issuer/{id}", tag = "issuers", params(IssuerIdPath),
    responses((status = 204, description = "deleted; its bindings are gone and the older tokens of the clients bound through it are revoked"),
        (status = 400, description = "invalid_request: a malformed issuer id", body = ErrorBody),
        (status = 404, description = "not_found: no such trusted issuer", body = ErrorBody),
        Authenticated),
    security(("bearer" = [])))]
pub async fn delete(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let audit = Audit::new(&req, &caller, Action::IssuerDelete, Some(path.as_str()));
    audited(state.foundation.store.clone(), audit.clone(), async move {
        caller.require("federation:delete")?;
        let id = parse_issuer_id(&path)?;
        let now = Timestamp::now();
        let event = audit.success(None, now);
        let bound = state
            .foundation
            .changes
            .delete_issuer(&id, now, event)
            .await?;
        tracing::info!(issuer_id = %id, actor = %caller.client_id(), clients_revoked = bound.len(), "trusted issuer deleted");
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}

/// An issuer id from a path: the characters of a client id (generated ones are `iss_` and
/// 22 base64url characters); anything else is a 400, never a query.
fn parse_issuer_id(raw: &str) -> Result<String, ApiError> {
    ClientId::parse(raw)
        .map(|id| id.as_str().to_owned())
        .map_err(|_| ApiError::invalid_request("malformed issuer id"))
}
