//! How a token source authenticates at the token endpoint: a client secret (Basic or form),
//! a private key that signs a fresh `private_key_jwt` assertion per request, or a token
//! file a platform keeps fresh (a Kubernetes projected service-account token) sent as the
//! assertion. None of them is ever logged or put in an error.

use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::{PrivateKey, TokenSourceError};
use crate::ids::ClientId;
use crate::secret::ClientSecret;
use crate::time::Timestamp;

/// `client_assertion_type` of both assertion kinds (RFC 7523 §2.2).
pub const JWT_BEARER_ASSERTION_TYPE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// A token file longer than this is refused (a platform token is a few KiB at most).
pub const MAX_TOKEN_FILE_BYTES: u64 = 64 * 1024;

/// What a token source presents. `Debug` never shows a secret or a key.
#[derive(Clone)]
pub enum Credential {
    /// `client_secret_basic`: the secret in an `Authorization: Basic` header.
    SecretBasic(ClientSecret),
    /// `client_secret_post`: `client_id` and `client_secret` as form fields.
    SecretPost(ClientSecret),
    /// `private_key_jwt`: an assertion signed with this key, fresh for each request.
    PrivateKey(PrivateKey),
    /// Workload identity: the token in this file, read again before each request (the
    /// kubelet rotates projected service-account tokens), sent as the assertion.
    TokenFile(PathBuf),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SecretBasic(_) => f.write_str("SecretBasic([redacted])"),
            Self::SecretPost(_) => f.write_str("SecretPost([redacted])"),
            Self::PrivateKey(key) => f.debug_tuple("PrivateKey").field(key).finish(),
            Self::TokenFile(path) => f.debug_tuple("TokenFile").field(path).finish(),
        }
    }
}

/// A credential with everything it needs: checked once, when the source is built.
#[derive(Clone)]
pub(super) enum Auth {
    SecretBasic {
        client_id: ClientId,
        secret: ClientSecret,
    },
    SecretPost {
        client_id: ClientId,
        secret: ClientSecret,
    },
    PrivateKey {
        client_id: ClientId,
        key: PrivateKey,
        /// The assertion's `aud`.
        audience: String,
    },
    TokenFile {
        client_id: Option<ClientId>,
        path: PathBuf,
    },
}

impl Auth {
    /// Pairs `credential` with the client id it needs: a secret or a key needs one; a token
    /// file does not (its `sub` says who the workload is), and sends it only when given.
    pub(super) fn new(
        credential: Credential,
        client_id: Option<ClientId>,
        audience: String,
    ) -> Result<Self, TokenSourceError> {
        let required = |method: &'static str| {
            client_id
                .clone()
                .ok_or(TokenSourceError::Incomplete(method))
        };
        Ok(match credential {
            Credential::SecretBasic(secret) => Self::SecretBasic {
                client_id: required("client_secret_basic")?,
                secret,
            },
            Credential::SecretPost(secret) => Self::SecretPost {
                client_id: required("client_secret_post")?,
                secret,
            },
            Credential::PrivateKey(key) => Self::PrivateKey {
                client_id: required("private_key_jwt")?,
                key,
                audience,
            },
            Credential::TokenFile(path) => {
                // Checked at start-up too, so a wrong path is a configuration error.
                read_token_file(&path)?;
                Self::TokenFile { client_id, path }
            }
        })
    }

    pub(super) fn method(&self) -> &'static str {
        match self {
            Self::SecretBasic { .. } => "client_secret_basic",
            Self::SecretPost { .. } => "client_secret_post",
            Self::PrivateKey { .. } => "private_key_jwt",
            Self::TokenFile { .. } => "workload_identity",
        }
    }

    pub(super) fn client_id(&self) -> Option<&ClientId> {
        match self {
            Self::SecretBasic { client_id, .. }
            | Self::SecretPost { client_id, .. }
            | Self::PrivateKey { client_id, .. } => Some(client_id),
            Self::TokenFile { client_id, .. } => client_id.as_ref(),
        }
    }

    /// Adds the credential to a token request: a header, or form fields appended to `form`.
    pub(super) fn apply(
        &self,
        request: reqwest::RequestBuilder,
        form: &mut Vec<(&'static str, String)>,
        now: Timestamp,
    ) -> Result<reqwest::RequestBuilder, TokenSourceError> {
        match self {
            Self::SecretBasic { client_id, secret } => {
                return Ok(request.basic_auth(
                    form_encode(client_id.as_str()),
                    Some(form_encode(secret.expose())),
                ));
            }
            Self::SecretPost { client_id, secret } => {
                form.push(("client_id", client_id.as_str().to_owned()));
                form.push(("client_secret", secret.expose().to_owned()));
            }
            Self::PrivateKey {
                client_id,
                key,
                audience,
            } => {
                let assertion = key.assertion(client_id, audience, now)?;
                form.push((
                    "client_assertion_type",
                    JWT_BEARER_ASSERTION_TYPE.to_owned(),
                ));
                form.push(("client_assertion", assertion));
                form.push(("client_id", client_id.as_str().to_owned()));
            }
            Self::TokenFile { client_id, path } => {
                form.push((
                    "client_assertion_type",
                    JWT_BEARER_ASSERTION_TYPE.to_owned(),
                ));
                form.push(("client_assertion", read_token_file(path)?));
                if let Some(client_id) = client_id {
                    form.push(("client_id", client_id.as_str().to_owned()));
                }
            }
        }
        Ok(request)
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Auth");
        debug.field("method", &self.method());
        if let Self::PrivateKey { key, .. } = self {
            debug.field("key", key);
        }
        if let Self::TokenFile { path, .. } = self {
            debug.field("path", path);
        }
        debug.finish_non_exhaustive()
    }
}

/// The token in `path`, without surrounding white space. An unreadable, empty, oversized or
/// non-UTF-8 file is an error naming the path, never the content.
pub(super) fn read_token_file(path: &Path) -> Result<String, TokenSourceError> {
    let failed = |reason: String| TokenSourceError::TokenFile {
        path: path.to_owned(),
        reason,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_TOKEN_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|error| failed(error.to_string()))?;
    if bytes.len() as u64 > MAX_TOKEN_FILE_BYTES {
        return Err(failed(format!("longer than {MAX_TOKEN_FILE_BYTES} bytes")));
    }
    let text = String::from_utf8(bytes).map_err(|_| failed("not UTF-8 text".to_owned()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(failed("empty".to_owned()));
    }
    Ok(token.to_owned())
}

/// RFC 6749 §2.3.1: Basic credentials are form-urlencoded first.
fn form_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
