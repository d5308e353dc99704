//! Bearer authentication: the [`Caller`] extractor and the per-endpoint scope check.
//!
//! A token passes when its signature (token-service's public keys, from its JWKS), type,
//! issuer, audience and times verify and it is not revoked (by `jti`, by its client's
//! cut-off, or by deletion of its client; Redis, then this service's database). Any other
//! token string, however malformed, is a 401, never a 500.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use auth_core::changes::policy::Actor;
use auth_core::ids::ClientId;
use auth_core::resource::{AuthError, bearer_token};
use auth_core::token::VerifiedToken;
use futures_util::future::LocalBoxFuture;

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated client behind a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: VerifiedToken,
    pub is_root: bool,
}

impl Caller {
    pub fn client_id(&self) -> &ClientId {
        &self.token.client_id
    }

    /// Refuses with 403 unless the token carries `scope`.
    pub fn require(&self, scope: &'static str) -> Result<(), ApiError> {
        if self.token.scopes.iter().any(|s| s.as_str() == scope) {
            Ok(())
        } else {
            Err(ApiError::insufficient_scope(scope))
        }
    }

    /// The caller as the no-escalation policy sees it (`auth_core::changes::policy`).
    pub fn actor(&self) -> Actor<'_> {
        if self.is_root {
            Actor::Root
        } else {
            Actor::Client(&self.token.scopes)
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req.headers()).map_err(|error| match error {
            AuthError::MissingToken => ApiError::missing_token(),
            _ => ApiError::invalid_token(),
        });
        Box::pin(async move {
            let state = state.ok_or_else(|| {
                ApiError::internal(&std::io::Error::other("application state missing"))
            })?;
            let token = token?;
            // The one verifier every service uses (auth_core::resource).
            let verified =
                state.foundation.bearer.authenticate(&token).await.map_err(
                    |error| match error {
                        AuthError::Unavailable => ApiError::unavailable(),
                        _ => ApiError::invalid_token(),
                    },
                )?;
            let is_root = verified.client_id == state.root_id;
            Ok(Caller {
                token: VerifiedToken::clone(&verified),
                is_root,
            })
        })
    }
}
