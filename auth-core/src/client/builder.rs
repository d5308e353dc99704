//! [`TokenSourceBuilder`]: a token source's credential and options, checked once in
//! [`build`](TokenSourceBuilder::build).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use tokio::sync::Mutex;

use super::{Auth, Credential, FETCH_TIMEOUT, PrivateKey, TokenSource, TokenSourceError};
use crate::ids::ClientId;
use crate::secret::ClientSecret;

/// Builds a [`TokenSource`]; start with [`TokenSource::builder`]. `Debug` is redacted.
#[must_use]
pub struct TokenSourceBuilder {
    token_url: String,
    client_id: Option<ClientId>,
    credential: Option<Credential>,
    key_id: Option<Option<String>>,
    assertion_audience: Option<String>,
    scope: Option<String>,
    resources: Vec<String>,
    timeout: Duration,
}

impl fmt::Debug for TokenSourceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSourceBuilder")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

impl TokenSourceBuilder {
    pub(super) fn new(token_url: String) -> Self {
        Self {
            token_url,
            client_id: None,
            credential: None,
            key_id: None,
            assertion_audience: None,
            scope: None,
            resources: Vec::new(),
            timeout: FETCH_TIMEOUT,
        }
    }

    /// The client id: required with a secret or a private key; with a token file it is
    /// sent as `client_id` only when set.
    pub fn client_id(mut self, client_id: ClientId) -> Self {
        self.client_id = Some(client_id);
        self
    }

    /// The credential (replacing any set before).
    pub fn credential(mut self, credential: Credential) -> Self {
        self.credential = Some(credential);
        self
    }

    /// A client secret, sent as `client_secret_basic`.
    pub fn client_secret(self, secret: ClientSecret) -> Self {
        self.credential(Credential::SecretBasic(secret))
    }

    /// A client secret, sent as `client_secret_post` (form fields).
    pub fn client_secret_post(self, secret: ClientSecret) -> Self {
        self.credential(Credential::SecretPost(secret))
    }

    /// A private key signing `private_key_jwt` assertions.
    pub fn private_key(self, key: PrivateKey) -> Self {
        self.credential(Credential::PrivateKey(key))
    }

    /// A PEM private key file (Ed25519, P-256 or RSA of 2048 bits or more), read now.
    pub fn private_key_file(self, path: impl AsRef<Path>) -> Result<Self, TokenSourceError> {
        Ok(self.private_key(PrivateKey::from_pem_file(path.as_ref())?))
    }

    /// A token file, read again before each token request and sent as the assertion
    /// (a Kubernetes projected service-account token, say). `build` checks it is readable.
    pub fn token_file(self, path: impl Into<PathBuf>) -> Self {
        self.credential(Credential::TokenFile(path.into()))
    }

    /// The `kid` of `private_key_jwt` assertions: `Some(kid)`, or `None` for no `kid`
    /// header. Unset, it is the key's RFC 7638 thumbprint.
    pub fn key_id(mut self, kid: Option<String>) -> Self {
        self.key_id = Some(kid);
        self
    }

    /// The `aud` of `private_key_jwt` assertions, when the authorization server expects
    /// another value than the URL this source posts to (its issuer URL, or its public
    /// token endpoint URL behind a gateway).
    pub fn assertion_audience(mut self, audience: impl Into<String>) -> Self {
        self.assertion_audience = Some(audience.into());
        self
    }

    /// The space-separated scopes to ask for (a subset of the client's); unset, the token
    /// gets all of the client's scopes.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// One more audience to ask for (RFC 8707 `resource`); each is sent as its own
    /// `resource` parameter. None: the server's default audience.
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resources.push(resource.into());
        self
    }

    /// Audiences to ask for, in addition to those already given.
    pub fn resources<I, S>(mut self, resources: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.resources.extend(resources.into_iter().map(Into::into));
        self
    }

    /// How long a token request may take \[10 s\].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the URL, the resources and the credential (a token file must be readable
    /// now) and builds the source.
    pub fn build(self) -> Result<TokenSource, TokenSourceError> {
        let token_url = self.token_url.trim().to_owned();
        check_url(&token_url)?;
        for resource in &self.resources {
            check_resource(resource)?;
        }
        let mut credential = self.credential.ok_or(TokenSourceError::Incomplete(
            "no credential: set a client secret, a private key or a token file",
        ))?;
        if let (Some(kid), Credential::PrivateKey(key)) = (self.key_id, &mut credential) {
            *key = key.clone().with_key_id(kid);
        }
        let audience = self.assertion_audience.unwrap_or_else(|| token_url.clone());
        let auth = Auth::new(credential, self.client_id, audience)?;
        Ok(TokenSource {
            token_url,
            auth,
            scope: self.scope.filter(|scope| !scope.trim().is_empty()),
            resources: self.resources,
            // A redirect would re-post the credentials (a secret, an assertion) elsewhere.
            http: reqwest::Client::builder()
                .timeout(self.timeout)
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            cached: Mutex::new(None),
            fetches: AtomicU64::new(0),
        })
    }
}

fn check_url(url: &str) -> Result<(), TokenSourceError> {
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => Ok(()),
        Ok(parsed) => Err(TokenSourceError::InvalidUrl(format!(
            "scheme {:?}",
            parsed.scheme()
        ))),
        Err(error) => Err(TokenSourceError::InvalidUrl(error.to_string())),
    }
}

/// RFC 8707 §2: an absolute URI, without a fragment.
fn check_resource(resource: &str) -> Result<(), TokenSourceError> {
    match reqwest::Url::parse(resource) {
        Ok(parsed) if parsed.fragment().is_none() && !resource.contains(char::is_whitespace) => {
            Ok(())
        }
        _ => Err(TokenSourceError::InvalidResource(resource.to_owned())),
    }
}
