//! The token request made typed: form body, Basic credentials, grant type and scope.
//!
//! Parsing follows RFC 6749: parameters may appear once (§3.2), empty ones count as
//! omitted (§3.1), unknown ones are ignored,
//! client credentials come from one method only (§2.3), and Basic credentials are
//! form-urlencoded before base64 (§2.3.1).

use actix_web::http::header::{self, HeaderMap};
use auth_core::ids::ClientId;
use auth_core::scopes::{Scope, parse_scope_list};
use auth_core::secret::ClientSecret;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::OAuthError;

/// Largest token request body accepted.
pub const MAX_FORM_BYTES: usize = 8 * 1024;

/// A request for a token, with every part validated.
#[derive(Debug)]
pub struct TokenRequest {
    pub client_id: ClientId,
    pub secret: ClientSecret,
    /// `None`: every scope the client has.
    pub scope: Option<Vec<Scope>>,
}

/// Credentials presented in the `Authorization: Basic` header, not yet checked.
#[derive(Debug)]
pub struct BasicCredentials {
    client_id: String,
    secret: String,
}

/// The recognised form parameters, each present at most once.
#[derive(Debug, Default)]
pub struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
}

/// Refuses any body that is not `application/x-www-form-urlencoded`.
pub fn require_form_content_type(headers: &HeaderMap) -> Result<(), OAuthError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some("application/x-www-form-urlencoded") => Ok(()),
        _ => Err(OAuthError::invalid_request(
            "the request body must be application/x-www-form-urlencoded",
        )),
    }
}

impl TokenForm {
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let mut form = Self::default();
        for (name, value) in form_urlencoded::parse(body) {
            // RFC 6749 §3.1: a parameter without a value is treated as omitted.
            if value.is_empty() {
                continue;
            }
            let slot = match name.as_ref() {
                "grant_type" => &mut form.grant_type,
                "client_id" => &mut form.client_id,
                "client_secret" => &mut form.client_secret,
                "scope" => &mut form.scope,
                _ => continue,
            };
            if slot.is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "the {name} parameter appears more than once"
                )));
            }
            *slot = Some(value.into_owned());
        }
        Ok(form)
    }
}

/// Reads `Authorization: Basic`. `Ok(None)` when there is no Authorization header;
/// any other scheme or a malformed value is a failed client authentication.
pub fn parse_basic(headers: &HeaderMap) -> Result<Option<BasicCredentials>, OAuthError> {
    let mut values = headers.get_all(header::AUTHORIZATION);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(OAuthError::invalid_request(
            "more than one Authorization header",
        ));
    }
    let value = value.to_str().map_err(|_| OAuthError::invalid_client())?;
    let (scheme, encoded) = value
        .trim()
        .split_once(' ')
        .ok_or_else(OAuthError::invalid_client)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client());
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| OAuthError::invalid_client())?;
    let decoded = String::from_utf8(decoded).map_err(|_| OAuthError::invalid_client())?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(OAuthError::invalid_client)?;
    Ok(Some(BasicCredentials {
        client_id: form_decode(id).ok_or_else(OAuthError::invalid_client)?,
        secret: form_decode(secret).ok_or_else(OAuthError::invalid_client)?,
    }))
}

/// `application/x-www-form-urlencoded` decoding of one value; `None` if malformed.
fn form_decode(value: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(value.len());
    let mut input = value.bytes();
    while let Some(b) = input.next() {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hi = char::from(input.next()?).to_digit(16)?;
                let lo = char::from(input.next()?).to_digit(16)?;
                bytes.push(u8::try_from(hi * 16 + lo).ok()?);
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).ok()
}

impl TokenRequest {
    /// Combines form and header into one request, or the RFC 6749 error for the first fault.
    pub fn from_parts(
        form: TokenForm,
        basic: Option<BasicCredentials>,
    ) -> Result<Self, OAuthError> {
        match form.grant_type.as_deref() {
            None => {
                return Err(OAuthError::invalid_request(
                    "the grant_type parameter is required",
                ));
            }
            Some("client_credentials") => {}
            Some(_) => return Err(OAuthError::unsupported_grant_type()),
        }
        let scope = match form.scope.as_deref() {
            None => None,
            Some(raw) => Some(parse_scope_list(raw).map_err(|error| {
                OAuthError::invalid_scope(format!("the scope parameter is malformed: {error}"))
            })?),
        };
        let (id, secret) = match basic {
            Some(basic) => {
                if form.client_secret.is_some() {
                    return Err(OAuthError::invalid_request(
                        "use one client authentication method, not both Basic and client_secret",
                    ));
                }
                if form
                    .client_id
                    .as_ref()
                    .is_some_and(|id| *id != basic.client_id)
                {
                    return Err(OAuthError::invalid_request(
                        "client_id in the body differs from the Basic credentials",
                    ));
                }
                (basic.client_id, basic.secret)
            }
            None => match (form.client_id, form.client_secret) {
                (Some(id), Some(secret)) => (id, secret),
                _ => return Err(OAuthError::invalid_client()),
            },
        };
        Ok(Self {
            client_id: ClientId::parse(&id).map_err(|_| OAuthError::invalid_client())?,
            secret: ClientSecret::parse(&secret).map_err(|_| OAuthError::invalid_client())?,
            scope,
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    fn headers(authorization: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(authorization).unwrap(),
        );
        map
    }

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let parsed = parse_basic(&headers(&basic("svc%2Da", "p%40ss+word")))
            .unwrap()
            .unwrap();
        assert_eq!(parsed.client_id, "svc-a");
        assert_eq!(parsed.secret, "p@ss word");
        assert!(parse_basic(&HeaderMap::new()).unwrap().is_none());
    }

    #[test]
    fn malformed_basic_is_invalid_client() {
        for bad in [
            "Basic",
            "Basic !!!",
            "Bearer abc",
            &format!("Basic {}", STANDARD.encode("no-colon")),
            &basic("a", "%zz"),
        ] {
            let error = parse_basic(&headers(bad)).unwrap_err();
            assert_eq!(error.code(), "invalid_client", "{bad}");
        }
    }

    #[test]
    fn repeated_parameters_are_refused() {
        let error = TokenForm::parse(b"grant_type=client_credentials&scope=a&scope=b").unwrap_err();
        assert_eq!(error.code(), "invalid_request");
        assert!(TokenForm::parse(b"grant_type=client_credentials&unknown=1&unknown=2").is_ok());
    }

    #[test]
    fn grant_type_is_checked_before_credentials() {
        let missing = TokenRequest::from_parts(TokenForm::parse(b"").unwrap(), None).unwrap_err();
        assert_eq!(missing.code(), "invalid_request");
        let other = TokenForm::parse(b"grant_type=password").unwrap();
        assert_eq!(
            TokenRequest::from_parts(other, None).unwrap_err().code(),
            "unsupported_grant_type"
        );
    }
}
