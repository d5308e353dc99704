//! Routes of the token service, mounted by [`config`] in `main` and in tests alike.

mod health;
mod introspect;
pub mod openapi;
mod revoke;
mod token;
mod well_known;

use actix_web::web;
use auth_core::http::one;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(one("/api/v1/oauth/token", web::post().to(token::issue)))
        .service(one("/api/v1/oauth/revoke", web::post().to(revoke::revoke)))
        .service(one(
            "/api/v1/oauth/introspect",
            web::post().to(introspect::introspect),
        ))
        .service(one(
            "/.well-known/jwks.json",
            web::get().to(well_known::jwks),
        ))
        .service(one(
            "/.well-known/oauth-authorization-server",
            web::get().to(well_known::metadata),
        ))
        .service(one("/openapi.json", web::get().to(openapi::document)))
        .service(one("/health/live", web::get().to(health::live)))
        .service(one("/metrics", web::get().to(health::metrics)))
        .service(one("/health/ready", web::get().to(health::ready)));
}

/// The authenticated caller and the `token` parameter of a revocation or introspection
/// request (RFC 7009 §2.1, RFC 7662 §2.1): the client authenticates as at the token endpoint.
async fn token_caller(
    request: &actix_web::HttpRequest,
    payload: web::Payload,
    state: &crate::state::AppState,
    now: auth_core::time::Timestamp,
) -> Result<(auth_core::credentials::AuthenticatedClient, String), crate::error::OAuthError> {
    use crate::error::OAuthError;
    use crate::request::{ClientCredentials, client_address, read_form};
    const PARAMS: &[&str] = &["token", "token_type_hint", "client_id", "client_secret"];
    let (mut form, basic) = read_form(request, payload, PARAMS).await?;
    let credentials = ClientCredentials::from_parts(&mut form, basic)?;
    let token = form
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("the token parameter is required"))?
        .to_owned();
    let caller = state
        .authenticator
        .authenticate(
            credentials.client_id,
            credentials.secret,
            client_address(request, state.trust_x_forwarded_for),
            now,
        )
        .await?
        .ok_or_else(OAuthError::invalid_client)?;
    Ok((caller, token))
}
