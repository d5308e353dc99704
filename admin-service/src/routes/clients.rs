//! Clients: create, read, delete (fidesops-compatible paths and bodies); the listing is
//! `super::client_list`.

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::changes::ClientDetails;
use auth_core::ids::ClientId;
use auth_core::scopes::Scope;
use auth_core::store::{self, clients, registry};
use auth_core::time::Timestamp;
use serde::Deserialize;
use serde_json::Value;

use crate::audit::{Action, Audit, audited};
use crate::auth::Caller;
use crate::body::{Body, ScopesOr, read_scopes};
use crate::error::ApiError;
use crate::federation;
use crate::schema::{Authenticated, ClientIdPath, JsonBody};
use crate::state::AppState;
use crate::views::{ClientView, CreatedClient, ErrorBody, OneClient, RootClientView, ShownKeys};

use super::client_identities::IdentityBody;

/// Longest client name and description accepted.
const MAX_NAME_LEN: usize = 200;
const MAX_DESCRIPTION_LEN: usize = 2000;

/// The body of client creation: none (a client without scopes, as in fidesops), a bare
/// array of scopes (fidesops' code and tutorial), or this object (its guide).
pub type CreateBody = ScopesOr<CreateObject>;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateObject {
    #[serde(default)]
    #[schema(schema_with = crate::schema::scope_names)]
    scopes: Vec<String>,
    /// At most 200 characters, no control characters.
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    name: Option<String>,
    /// At most 2000 characters, no control characters.
    #[schema(max_length = 2000, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    description: Option<String>,
    /// Further audiences its tokens may name (RFC 8707 `resource`): at most 16 absolute
    /// URIs of at most 512 characters.
    #[serde(default)]
    #[schema(schema_with = crate::schema::audiences)]
    audiences: Vec<String>,
    /// Public keys for `private_key_jwt` (public JWKs: OKP Ed25519, EC P-256, RSA of 2048
    /// bits or more; at most 16, distinct `kid`s); not with `jwks_uri`. A client created with
    /// keys or identities gets no secret.
    #[schema(value_type = Option<Vec<Object>>, max_items = 16)]
    keys: Option<Vec<Value>>,
    /// Where its public keys are fetched: https, or http on a loopback host; not with `keys`.
    #[schema(
        max_length = 2048,
        pattern = r"^(https://[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|http://(localhost|127\.0\.0\.1|\[::1\]))(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$"
    )]
    jwks_uri: Option<String>,
    /// Workload identities that authenticate it (issuers registered first).
    #[serde(default, deserialize_with = "crate::body::objects")]
    #[schema(max_items = 64)]
    identities: Vec<IdentityBody>,
}

impl Body for CreateObject {
    const SHAPE: &'static str = "empty (a client without scopes), a JSON array of scope names, \
                                 or an object {\"scopes\": [scope names], \"name\"?: string, \
                                 \"description\"?: string, \"audiences\"?: [absolute URIs], \
                                 \"keys\"?: [public JWKs] or \"jwks_uri\"?: URL, \
                                 \"identities\"?: [{\"issuer\", \"subject\"}]}";
}

impl utoipa::ToSchema for CreateBody {
    fn name() -> std::borrow::Cow<'static, str> {
        "CreateBody".into()
    }
}

/// Creates a client; its secret is in this response only. Without a body the client has
/// no scopes. A client created with keys or identities is secret-less: no secret is
/// returned (rotating its secret later gives it one).
#[utoipa::path(post, path = "/api/v1/oauth/client", tag = "clients", request_body = Option<CreateBody>,
    responses((status = 200, body = CreatedClient),
        (status = 400, description = "invalid_request: a body of another shape, or a name or description too long or with control characters", body = ErrorBody),
        (status = 409, description = "conflict: an identity bound to another client already, named", body = ErrorBody),
        (status = 422, description = "invalid_scope: malformed or unknown scopes, named; invalid_client_metadata: an invalid audience, key or jwks_uri, both keys and jwks_uri, an invalid identity, or an identity of an unregistered issuer, named", body = ErrorBody),
        Authenticated, JsonBody),
    security(("bearer" = [])))]
pub async fn create(
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let audit = Audit::new(&req, &caller, Action::ClientCreate, None);
    audited(state.foundation.store.clone(), audit.clone(), async move {
        caller.require("client:create")?;
        let body: Option<CreateBody> = read_scopes(req.headers(), payload).await?;
        let object = match body {
            None => None,
            Some(ScopesOr::Scopes(scopes)) => Some(CreateObject::with_scopes(scopes)),
            Some(ScopesOr::Object(object)) => Some(object),
        };
        let object = object.unwrap_or_else(|| CreateObject::with_scopes(Vec::new()));
        let name = checked_text("name", object.name, MAX_NAME_LEN)?;
        let description = checked_text("description", object.description, MAX_DESCRIPTION_LEN)?;
        let audiences =
            federation::audiences(object.audiences).map_err(ApiError::invalid_client_metadata)?;
        let keys = federation::client_keys(object.keys, object.jwks_uri.as_deref())
            .map_err(ApiError::invalid_client_metadata)?
            .unwrap_or_default();
        let identities = federation::identities(
            object
                .identities
                .into_iter()
                .map(IdentityBody::into_pair)
                .collect(),
        )
        .map_err(ApiError::invalid_client_metadata)?;
        let scopes = super::scopes::known_scopes(&state, object.scopes).await?;

        let id = ClientId::generate();
        let now = Timestamp::now();
        let details = ClientDetails {
            name,
            description,
            scopes,
            audiences,
            keys,
            identities,
        };
        let event = audit
            .with_target(id.as_str())
            .success(Some(create_detail(&details)), now);
        let secret = state
            .foundation
            .changes
            .create_client(caller.actor(), &id, details.clone(), now, event)
            .await?;
        state.totals.clients.invalidate();
        tracing::info!(client_id = %id, actor = %caller.client_id(), secret_less = secret.is_none(), "client created");
        let ShownKeys { keys, jwks_uri } = details.keys.into();
        Ok(HttpResponse::Ok().json(CreatedClient {
            client_id: id.to_string(),
            client_secret: secret.map(|secret| secret.expose().to_owned()),
            name: details.name,
            description: details.description,
            scopes: details.scopes,
            audiences: details.audiences,
            keys,
            jwks_uri,
            identities: details.identities.into_iter().map(Into::into).collect(),
            created_at: now.to_rfc3339(),
        }))
    })
    .await
}

impl CreateObject {
    fn with_scopes(scopes: Vec<String>) -> Self {
        Self {
            scopes,
            name: None,
            description: None,
            audiences: Vec::new(),
            keys: None,
            jwks_uri: None,
            identities: Vec::new(),
        }
    }
}

/// The audit detail of a creation: its scopes, and its other credentials if any.
fn create_detail(details: &ClientDetails) -> String {
    let mut detail = scope_detail(&details.scopes);
    if !details.audiences.is_empty() {
        detail.push_str(&format!("; audiences: {}", details.audiences.join(" ")));
    }
    if !details.keys.is_none() {
        detail.push_str(&format!("; {}", federation::keys_detail(&details.keys)));
    }
    if !details.identities.is_empty() {
        detail.push_str(&format!(
            "; {}",
            federation::identities_detail(&details.identities)
        ));
    }
    if details.is_secret_less() {
        detail.push_str("; secret-less");
    }
    detail
}

/// One client (the root client is described from the environment).
#[utoipa::path(get, path = "/api/v1/oauth/client/{id}", tag = "clients", params(ClientIdPath),
    responses((status = 200, description = "the client, or the root client", body = OneClient),
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
        let scopes = state.foundation.store.run(registry::all).await?;
        return Ok(HttpResponse::Ok().json(OneClient::Root(RootClientView {
            client_id: id.to_string(),
            name: "root",
            description: "the root client, configured in the environment",
            scopes,
            root: true,
        })));
    }
    let view = client_view(&state, id).await?;
    Ok(HttpResponse::Ok().json(OneClient::Stored(view)))
}

/// A stored client as `GET /api/v1/oauth/client/{id}` shows it; 404 without one.
pub async fn client_view(state: &AppState, id: ClientId) -> Result<ClientView, ApiError> {
    state
        .foundation
        .store
        .run(move |conn| {
            let Some((client, scopes)) = clients::find_with_scopes(conn, &id)? else {
                return Ok(None);
            };
            let identities = store::federation::identities_of(conn, &id)?;
            ClientView::new(&client, scopes, identities).map(Some)
        })
        .await?
        .ok_or_else(|| ApiError::not_found("client"))
}

/// Deletes a client; every token it holds is refused from then on.
#[utoipa::path(delete, path = "/api/v1/oauth/client/{id}", tag = "clients", params(ClientIdPath),
    responses((status = 204, description = "deleted; its tokens are refused from now on"),
        (status = 400, description = "invalid_request: a malformed client id", body = ErrorBody),
        (status = 404, description = "not_found: no such client", body = ErrorBody),
        Authenticated),
    security(("bearer" = [])))]
pub async fn delete(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let audit = Audit::new(&req, &caller, Action::ClientDelete, Some(path.as_str()));
    audited(state.foundation.store.clone(), audit.clone(), async move {
        let id = client_to_change(&caller, &state, &path, "client:delete")?;
        let now = Timestamp::now();
        let event = audit.success(None, now);
        state
            .foundation
            .changes
            .delete_client(&id, now, event)
            .await?;
        state.totals.clients.invalidate();
        tracing::info!(client_id = %id, actor = %caller.client_id(), "client deleted");
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}

/// The prologue of every change to one client: the caller holds `scope`, the path names a
/// well-formed id, and that id is not the root client (which the API cannot change).
pub fn client_to_change(
    caller: &Caller,
    state: &AppState,
    raw_id: &str,
    scope: &'static str,
) -> Result<ClientId, ApiError> {
    caller.require(scope)?;
    let id = parse_client_id(raw_id)?;
    if id == state.root_id {
        return Err(ApiError::root_immutable());
    }
    Ok(id)
}

/// A client id from a path; anything no generated id could be is a 400, never a query.
pub fn parse_client_id(raw: &str) -> Result<ClientId, ApiError> {
    ClientId::parse(raw).map_err(|_| ApiError::invalid_request("malformed client id"))
}

fn checked_text(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match value {
        Some(text) if text.chars().count() > max || text.chars().any(char::is_control) => {
            Err(ApiError::invalid_request(format!(
                "{field} must be at most {max} characters without control characters"
            )))
        }
        other => Ok(other),
    }
}

pub fn scope_detail(scopes: &[Scope]) -> String {
    format!("scopes: {}", auth_core::scopes::join_scopes(scopes))
}
