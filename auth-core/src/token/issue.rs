//! Issuing access tokens (feature `server`): claims, then the JWS compact serialization
//! assembled in one buffer around a header encoded once at start-up.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Header;

use super::{ACCESS_TOKEN_TYPE, AccessTokenClaims, IssuedToken, SignError, SigningKey};
use crate::ids::{ClientId, TokenId};
use crate::scopes::{Scope, join_scopes};
use crate::time::Timestamp;

/// The longest signature's base64url: 512 bytes (RSA-4096) make 683 characters.
const MAX_SIGNATURE_CHARS: usize = 684;

/// Signs access tokens with one key.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    key: SigningKey,
    /// The JWS protected header, base64url-encoded once, followed by its `.`.
    header_prefix: String,
    issuer: String,
    audience: String,
    lifetime_secs: i64,
}

impl TokenIssuer {
    pub fn new(key: SigningKey, issuer: String, audience: String, lifetime_secs: i64) -> Self {
        let mut header = Header::new(key.algorithm());
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(key.kid().to_owned());
        // A header of three short strings always serializes.
        let json = serde_json::to_vec(&header).unwrap_or_default();
        let mut header_prefix = URL_SAFE_NO_PAD.encode(json);
        header_prefix.push('.');
        Self {
            key,
            header_prefix,
            issuer,
            audience,
            lifetime_secs,
        }
    }

    pub fn lifetime_secs(&self) -> i64 {
        self.lifetime_secs
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Issues a token for `client_id` with `scopes`, as of `now`.
    pub fn issue(
        &self,
        client_id: &ClientId,
        scopes: &[Scope],
        now: Timestamp,
    ) -> Result<IssuedToken, SignError> {
        self.issue_from_state(client_id, scopes, now, now)
    }

    /// Issues a token at `now` from client state read at `state_at` (no later than `now`):
    /// `iat_us` is `state_at`, so a token built from state older than a revocation's
    /// cut-off is covered by it, however late it is signed.
    pub fn issue_from_state(
        &self,
        client_id: &ClientId,
        scopes: &[Scope],
        now: Timestamp,
        state_at: Timestamp,
    ) -> Result<IssuedToken, SignError> {
        let claims = AccessTokenClaims {
            iss: self.issuer.clone(),
            sub: client_id.as_str().to_owned(),
            client_id: client_id.as_str().to_owned(),
            aud: self.audience.clone(),
            iat: now.as_secs(),
            iat_us: state_at.min(now).as_micros(),
            nbf: None,
            exp: now.as_secs().saturating_add(self.lifetime_secs),
            jti: TokenId::generate(),
            scope: join_scopes(scopes),
        };
        let access_token = self.sign(&claims)?;
        Ok(IssuedToken {
            access_token,
            expires_in: self.lifetime_secs,
            claims,
        })
    }

    /// The JWS compact serialization (RFC 7515 §7.1) of `claims`, built in one buffer (the
    /// signature's base64url goes through the stack).
    fn sign(&self, claims: &AccessTokenClaims) -> Result<String, SignError> {
        let payload = serde_json::to_vec(claims).map_err(|_| SignError)?;
        let mut token = String::with_capacity(
            self.header_prefix.len() + payload.len() * 4 / 3 + 1 + MAX_SIGNATURE_CHARS,
        );
        token.push_str(&self.header_prefix);
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let mut encoded = [0u8; MAX_SIGNATURE_CHARS];
        let written = self
            .key
            .signer
            .sign(token.as_bytes(), |signature| {
                URL_SAFE_NO_PAD.encode_slice(signature, &mut encoded)
            })
            .map_err(|_| SignError)?
            .map_err(|_| SignError)?;
        let signature = std::str::from_utf8(&encoded[..written]).map_err(|_| SignError)?;
        token.push('.');
        token.push_str(signature);
        Ok(token)
    }
}
