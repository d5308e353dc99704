//! Issuing access tokens (feature `server`): claims, then the JWS compact serialization
//! assembled in one buffer around a header encoded once at start-up.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Header;

use super::{ACCESS_TOKEN_TYPE, AccessTokenClaims, Audience, IssuedToken, SignError, SigningKey};
use crate::ids::{ClientId, TokenId};
use crate::scopes::{Scope, join_scopes};
use crate::time::Timestamp;

/// The longest signature's base64url: 512 bytes (RSA-4096) make 683 characters.
const MAX_SIGNATURE_CHARS: usize = 684;

/// What a token is issued for.
#[derive(Debug, Clone, Copy)]
pub struct Issue<'a> {
    pub client_id: &'a ClientId,
    pub scopes: &'a [Scope],
    pub now: Timestamp,
    /// When the client state behind the token was read (no later than `now`).
    pub state_at: Timestamp,
    /// The token's audiences (RFC 8707 `resource`s); `None` or empty: the default one.
    pub audiences: Option<&'a [String]>,
    /// The token expires no later than this (seconds since the epoch): a workload's token
    /// never outlives the platform token it was exchanged for.
    pub expires_by: Option<i64>,
}

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
        self.issue_with(&Issue {
            client_id,
            scopes,
            now,
            state_at,
            audiences: None,
            expires_by: None,
        })
    }

    /// Issues the token `request` describes.
    pub fn issue_with(&self, request: &Issue<'_>) -> Result<IssuedToken, SignError> {
        let now = request.now;
        let exp = now
            .as_secs()
            .saturating_add(self.lifetime_secs)
            .min(request.expires_by.unwrap_or(i64::MAX));
        let aud = match request.audiences {
            Some(list) if !list.is_empty() => Audience::from_list(list.to_vec()),
            _ => Audience::One(self.audience.clone()),
        };
        let claims = AccessTokenClaims {
            iss: self.issuer.clone(),
            sub: request.client_id.as_str().to_owned(),
            client_id: request.client_id.as_str().to_owned(),
            aud,
            iat: now.as_secs(),
            iat_us: request.state_at.min(now).as_micros(),
            nbf: None,
            exp,
            jti: TokenId::generate(),
            scope: join_scopes(request.scopes),
        };
        let access_token = self.sign(&claims)?;
        Ok(IssuedToken {
            access_token,
            expires_in: exp.saturating_sub(now.as_secs()),
            claims,
        })
    }

    /// The default audience of every token (`OAUTH_AUDIENCE`, else the issuer URL).
    pub fn audience(&self) -> &str {
        &self.audience
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
