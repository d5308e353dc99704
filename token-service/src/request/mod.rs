//! The token request made typed: form body, Basic credentials, grant type and scope.
//!
//! Parsing follows RFC 6749: parameters may appear once (§3.2), empty ones count as
//! omitted (§3.1), unknown ones are ignored,
//! client credentials come from one method only (§2.3), and Basic credentials are
//! form-urlencoded before base64 (§2.3.1); since many client libraries skip that encoding,
//! a Basic secret whose raw form differs is also tried raw (`PresentedSecret`).

use actix_web::http::header::{self, HeaderMap};
use actix_web::{HttpRequest, web};
use auth_core::http::{self, BodyError};
use auth_core::ids::ClientId;
use auth_core::scopes::{Scope, parse_scope_list};
use auth_core::secret::{ClientSecret, PresentedSecret};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::client_auth::assertion::JWT_BEARER;
use crate::error::OAuthError;

/// Largest token request body accepted: room for an assertion a little over its own
/// limit (8 KiB), so an oversized one is refused as a failed client authentication.
pub const MAX_FORM_BYTES: usize = 16 * 1024;
/// Parameters that may appear more than once (RFC 8707 §2: one `resource` per audience).
const REPEATABLE: &[&str] = &["resource"];
/// Most `resource` parameters accepted in one request.
pub const MAX_RESOURCES: usize = 16;
/// Most form fields accepted, known or not.
pub const MAX_FORM_FIELDS: usize = 32;

/// A request for a token, with every part validated.
#[derive(Debug)]
pub struct TokenRequest {
    pub client: ClientAuth,
    /// `None`: every scope the client has.
    pub scope: Option<Vec<Scope>>,
    /// The audiences asked for (RFC 8707 `resource`), not yet checked against the
    /// client's; empty: the default audience.
    pub resources: Vec<String>,
}

/// How the client authenticates at the token endpoint.
pub enum ClientAuth {
    /// `client_secret_basic` or `client_secret_post`.
    Secret(ClientCredentials),
    /// `client_assertion` (RFC 7523 §2.2): `private_key_jwt` or a workload's platform
    /// token; `client_id` only when the form gave one.
    Assertion {
        client_id: Option<ClientId>,
        assertion: String,
    },
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Secret(credentials) => f.debug_tuple("Secret").field(credentials).finish(),
            Self::Assertion { client_id, .. } => f
                .debug_struct("Assertion")
                .field("client_id", client_id)
                .finish_non_exhaustive(),
        }
    }
}

/// Credentials presented in the `Authorization: Basic` header, not yet checked.
#[derive(Debug)]
pub struct BasicCredentials {
    client_id: String,
    secret: String,
    /// The secret as sent, when form-decoding changed it (`+`, `%`).
    raw_secret: Option<String>,
}

/// The recognised parameters of a form body, each present at most once.
#[derive(Debug, Default)]
pub struct Form {
    values: Vec<(&'static str, String)>,
}

/// The address a request came from: the peer, or with `trust_forwarded_for` (one trusted
/// proxy in front) the last `X-Forwarded-For` entry, the one that proxy appended.
pub fn client_address(
    request: &HttpRequest,
    trust_forwarded_for: bool,
) -> Option<std::net::IpAddr> {
    if trust_forwarded_for
        && let Some(forwarded) = request
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .last()
        && let Ok(address) = forwarded.trim().parse()
    {
        return Some(address);
    }
    request.peer_addr().map(|addr| addr.ip())
}

/// Reads a form endpoint's request: Basic credentials, content type, bounded body, form.
pub async fn read_form(
    request: &HttpRequest,
    payload: web::Payload,
    known: &[&'static str],
) -> Result<(Form, Option<BasicCredentials>), OAuthError> {
    let basic = parse_basic(request.headers())?;
    require_form_content_type(request.headers())?;
    let body = read_body(payload, MAX_FORM_BYTES).await?;
    Ok((Form::parse(&body, known)?, basic))
}

/// Reads the body up to `limit` bytes; more is refused without reading it all.
async fn read_body(payload: web::Payload, limit: usize) -> Result<web::Bytes, OAuthError> {
    http::read_body(payload, limit)
        .await
        .map_err(|error| match error {
            BodyError::Unreadable => {
                OAuthError::invalid_request("the request body could not be read")
            }
            BodyError::TooLarge(limit) => OAuthError::payload_too_large(limit),
        })
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

impl Form {
    /// Parses `body`, keeping the parameters named in `known` and ignoring the others.
    pub fn parse(body: &[u8], known: &[&'static str]) -> Result<Self, OAuthError> {
        let mut form = Self::default();
        for (index, (name, value)) in form_urlencoded::parse(body).enumerate() {
            if index >= MAX_FORM_FIELDS {
                return Err(OAuthError::invalid_request(format!(
                    "the form has more than {MAX_FORM_FIELDS} fields"
                )));
            }
            // RFC 6749 §3.1: a parameter without a value is treated as omitted.
            if value.is_empty() {
                continue;
            }
            let Some(name) = known.iter().copied().find(|known| *known == name) else {
                continue;
            };
            if !REPEATABLE.contains(&name) && form.values.iter().any(|(seen, _)| *seen == name) {
                return Err(OAuthError::invalid_request(format!(
                    "the {name} parameter appears more than once"
                )));
            }
            form.values.push((name, value.into_owned()));
        }
        Ok(form)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    fn take(&mut self, name: &str) -> Option<String> {
        let index = self.values.iter().position(|(n, _)| *n == name)?;
        Some(self.values.swap_remove(index).1)
    }

    /// Every value of a repeatable parameter, in the order sent.
    fn take_all(&mut self, name: &str) -> Vec<String> {
        let (taken, kept) = std::mem::take(&mut self.values)
            .into_iter()
            .partition(|(n, _)| *n == name);
        self.values = kept;
        taken.into_iter().map(|(_, value)| value).collect()
    }
}

/// Checked client credentials from exactly one method (RFC 6749 §2.3).
#[derive(Debug)]
pub struct ClientCredentials {
    pub client_id: ClientId,
    pub secret: PresentedSecret,
}

impl ClientCredentials {
    /// Takes `client_id`/`client_secret` from the form or the Basic header, never both.
    pub fn from_parts(
        form: &mut Form,
        basic: Option<BasicCredentials>,
    ) -> Result<Self, OAuthError> {
        let (form_id, form_secret) = (form.take("client_id"), form.take("client_secret"));
        let (id, secret, raw_secret) = match basic {
            Some(basic) => {
                if form_secret.is_some() {
                    return Err(OAuthError::invalid_request(
                        "use one client authentication method, not both Basic and client_secret",
                    ));
                }
                if form_id.as_ref().is_some_and(|id| *id != basic.client_id) {
                    return Err(OAuthError::invalid_request(
                        "client_id in the body differs from the Basic credentials",
                    ));
                }
                (basic.client_id, basic.secret, basic.raw_secret)
            }
            None => match (form_id, form_secret) {
                (Some(id), Some(secret)) => (id, secret, None),
                _ => return Err(OAuthError::invalid_client()),
            },
        };
        Ok(Self {
            client_id: ClientId::parse(&id).map_err(|_| OAuthError::invalid_client())?,
            secret: PresentedSecret {
                decoded: ClientSecret::parse(&secret).map_err(|_| OAuthError::invalid_client())?,
                // A raw form too long to be a secret is simply not tried.
                raw: raw_secret.and_then(|raw| ClientSecret::parse(&raw).ok()),
            },
        })
    }
}

impl ClientAuth {
    /// Secret credentials, or an assertion; never both (RFC 6749 §2.3).
    fn from_parts(form: &mut Form, basic: Option<BasicCredentials>) -> Result<Self, OAuthError> {
        let (kind, assertion) = (
            form.take("client_assertion_type"),
            form.take("client_assertion"),
        );
        if kind.is_none() && assertion.is_none() {
            return ClientCredentials::from_parts(form, basic).map(Self::Secret);
        }
        if basic.is_some() || form.get("client_secret").is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not both a secret and an assertion",
            ));
        }
        match (kind.as_deref(), assertion) {
            (Some(JWT_BEARER), Some(assertion)) => Ok(Self::Assertion {
                client_id: form
                    .take("client_id")
                    .map(|id| ClientId::parse(&id).map_err(|_| OAuthError::invalid_client()))
                    .transpose()?,
                assertion,
            }),
            _ => Err(OAuthError::invalid_client()),
        }
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
    // A secret that is not valid form encoding (a bare `%`) can only have been sent raw.
    let (decoded, raw_secret) = match form_decode(secret) {
        Some(decoded) if decoded == secret => (decoded, None),
        Some(decoded) => (decoded, Some(secret.to_owned())),
        None => (secret.to_owned(), None),
    };
    Ok(Some(BasicCredentials {
        client_id: form_decode(id).ok_or_else(OAuthError::invalid_client)?,
        secret: decoded,
        raw_secret,
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

/// The parameters of the token endpoint.
pub const TOKEN_PARAMS: &[&str] = &[
    "grant_type",
    "client_id",
    "client_secret",
    "scope",
    "client_assertion_type",
    "client_assertion",
    "resource",
];

impl TokenRequest {
    /// Combines form and header into one request, or the RFC 6749 error for the first fault.
    pub fn from_parts(mut form: Form, basic: Option<BasicCredentials>) -> Result<Self, OAuthError> {
        match form.get("grant_type") {
            None => {
                return Err(OAuthError::invalid_request(
                    "the grant_type parameter is required",
                ));
            }
            Some("client_credentials") => {}
            Some(_) => return Err(OAuthError::unsupported_grant_type()),
        }
        let scope = match form.get("scope") {
            None => None,
            Some(raw) => Some(parse_scope_list(raw).map_err(|error| {
                OAuthError::invalid_scope(format!("the scope parameter is malformed: {error}"))
            })?),
        };
        let resources = form.take_all("resource");
        if resources.len() > MAX_RESOURCES {
            return Err(OAuthError::invalid_target(format!(
                "at most {MAX_RESOURCES} resource parameters are accepted"
            )));
        }
        Ok(Self {
            client: ClientAuth::from_parts(&mut form, basic)?,
            scope,
            resources,
        })
    }
}

#[cfg(test)]
mod tests;
