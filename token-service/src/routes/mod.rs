//! Routes of the token service, mounted by [`config`] in `main` and in tests alike.

pub mod admin_paths;
mod introspect;
pub mod openapi;
mod revoke;
mod token;
mod well_known;

use actix_web::http::Method;
use actix_web::web;
use auth_core::http::one;

pub fn config(cfg: &mut web::ServiceConfig) {
    let post = |path, route| one(path, Method::POST, route);
    let get = |path, route| one(path, Method::GET, route);
    cfg.service(post("/api/v1/oauth/token", web::to(token::issue)))
        .service(post("/api/v1/oauth/revoke", web::to(revoke::revoke)))
        .service(post(
            "/api/v1/oauth/introspect",
            web::to(introspect::introspect),
        ))
        .service(get("/.well-known/jwks.json", web::to(well_known::jwks)))
        .service(get(
            "/.well-known/oauth-authorization-server",
            web::to(well_known::metadata),
        ))
        .service(get("/openapi.json", web::to(openapi::document)))
        // Registered last: what the token endpoints above do not serve under the API prefix,
        // and admin-service's console.
        .service(
            web::resource(["/api/v1/oauth/{rest:.*}", "/console", "/console/{rest:.*}"])
                .route(web::route().to(admin_paths::admin_path)),
        );
}

/// The authenticated caller and the `token` parameter of a revocation or introspection
/// request (RFC 7009 §2.1, RFC 7662 §2.1): the client authenticates as at the token endpoint.
async fn token_caller(
    request: &actix_web::HttpRequest,
    payload: web::Payload,
    state: &crate::state::AppState,
    now: auth_core::time::Timestamp,
) -> Result<(crate::client_auth::AuthenticatedClient, String), crate::error::OAuthError> {
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
