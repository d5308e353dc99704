//! The workload identities bound to a client: replace them. Whoever runs a bound workload
//! has the client's power, so the caller needs every scope the client holds; dropping an
//! identity it had revokes the client's older tokens.

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::time::Timestamp;
use serde::Deserialize;

use super::clients::{client_to_change, client_view};
use crate::audit::{Action, Audit, audited};
use crate::auth::Caller;
use crate::body::{Body, read_array};
use crate::error::ApiError;
use crate::federation;
use crate::schema::{Authenticated, ClientIdPath, JsonBody};
use crate::state::AppState;
use crate::views::{ClientView, ErrorBody};

/// One identity: tokens of a registered issuer whose `sub` is `subject`, or starts with
/// what precedes a final `*`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityBody {
    /// The `iss` value of a registered trusted issuer.
    #[schema(
        min_length = 1,
        max_length = 512,
        pattern = r"^[^\s\u0000-\u001F\u007F-\u009F]+$"
    )]
    issuer: String,
    /// An exact subject, or a prefix followed by one `*` at the end
    /// (`system:serviceaccount:payments:*`); no control characters.
    #[schema(
        min_length = 1,
        max_length = 512,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F*]*\*?$"
    )]
    subject: String,
}

impl IdentityBody {
    pub fn into_pair(self) -> (String, String) {
        (self.issuer, self.subject)
    }
}

impl Body for IdentityBody {
    const SHAPE: &'static str = "a JSON array of objects {\"issuer\": \"<iss value>\", \
                                 \"subject\": \"<subject, or a prefix ending in *>\"} (empty: \
                                 none)";
}

/// Replaces the identities bound to a client; the caller must hold every scope of the
/// client.
#[utoipa::path(put, path = "/api/v1/oauth/client/{id}/identities", tag = "clients", params(ClientIdPath), request_body = Vec<IdentityBody>,
    responses((status = 200, description = "the client, with its identities now", body = ClientView),
        (status = 400, description = "invalid_request: a malformed client id, or a missing body or one of another shape", body = ErrorBody),
        (status = 404, description = "not_found: no such client", body = ErrorBody),
        (status = 409, description = "conflict: identities bound to another client already, named", body = ErrorBody),
        (status = 422, description = "invalid_client_metadata: issuers that are not registered, named; an invalid subject or pattern; too many identities", body = ErrorBody),
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
        Action::ClientIdentitiesReplace,
        Some(path.as_str()),
    );
    audited(state.foundation.store.clone(), audit.clone(), async move {
        let id = client_to_change(&caller, &state, &path, "client:update")?;
        let body: Vec<IdentityBody> = read_array(req.headers(), payload).await?;
        let wanted = federation::identities(body.into_iter().map(IdentityBody::into_pair).collect())
            .map_err(ApiError::invalid_client_metadata)?;

        let now = Timestamp::now();
        let event = audit.success(Some(federation::identities_detail(&wanted)), now);
        let revoked = state
            .foundation
            .changes
            .set_client_identities(caller.actor(), &id, wanted, now, event)
            .await?;
        tracing::info!(client_id = %id, actor = %caller.client_id(), revoked, "client identities replaced");
        Ok(HttpResponse::Ok().json(client_view(&state, id).await?))
    })
    .await
}
