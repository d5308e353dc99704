//! The two HTTP APIs authctl talks to: the token endpoint (one client-credentials grant per
//! invocation) and the admin API (bearer token). Nothing else: never the database.
//!
//! Every answer is mapped to [`Error`] here, so each command only sees JSON or an error
//! that already carries its exit code.

use std::fmt;
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use crate::error::{Error, Result};

/// The admin API's path prefix.
const API_PREFIX: [&str; 3] = ["api", "v1", "oauth"];
/// The token endpoint's path, appended to a `--token-url` that has no path of its own.
const TOKEN_PATH: &str = "api/v1/oauth/token";
/// Items asked per page when following a listing's `next` cursors (the API's maximum).
const PAGE_SIZE: &str = "100";

/// A client secret: never printed, never in `Debug`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Where the service is and who is calling.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub token_url: Url,
    pub admin_url: Url,
    pub client_id: String,
    pub client_secret: Secret,
    pub timeout: Duration,
}

/// What the token endpoint granted.
#[derive(Debug, Clone)]
pub struct Granted {
    pub client_id: String,
    pub access_token: Secret,
    pub scopes: Vec<String>,
    pub expires_in: Option<u64>,
}

/// The admin API, with a token of the caller's.
pub struct Api {
    http: reqwest::Client,
    admin_url: Url,
    token: Secret,
}

/// A URL given by the operator: absolute, http or https.
pub fn parse_url(name: &str, raw: &str) -> Result<Url> {
    let url = Url::parse(raw)
        .map_err(|error| Error::usage(format!("{name} is not a URL ({error}): {raw:?}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::usage(format!(
            "{name} must be an http or https URL: {raw:?}"
        )));
    }
    Ok(url)
}

/// The token endpoint of `url`: `url` itself, or the service's token path when `url` is
/// only a base (`https://auth.example.com`).
pub fn token_endpoint(mut url: Url) -> Url {
    if url.path() == "/" || url.path().is_empty() {
        url.set_path(TOKEN_PATH);
    }
    url
}

fn http_client(timeout: Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("authctl/", env!("CARGO_PKG_VERSION")))
        // A redirect would re-send the credentials (the secret, a bearer token) elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| Error::usage(format!("cannot set up the HTTP client: {error}")))
}

/// Gets a token with the client-credentials grant (client_secret_post).
pub async fn grant(credentials: &Credentials) -> Result<(reqwest::Client, Granted)> {
    let http = http_client(credentials.timeout)?;
    let url = credentials.token_url.clone();
    let request = http.post(url.clone()).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", credentials.client_id.as_str()),
        ("client_secret", credentials.client_secret.expose()),
    ]);
    let body = answer(&Method::POST, &url, request.send().await)
        .await?
        .ok_or_else(|| unexpected(&url, "an empty answer instead of a token"))?;
    let access_token = body["access_token"]
        .as_str()
        .ok_or_else(|| unexpected(&url, "an answer without access_token"))?;
    let granted = Granted {
        client_id: credentials.client_id.clone(),
        access_token: Secret::new(access_token.to_owned()),
        scopes: body["scope"]
            .as_str()
            .map(|s| s.split(' ').map(str::to_owned).collect())
            .unwrap_or_default(),
        expires_in: body["expires_in"].as_u64(),
    };
    Ok((http, granted))
}

impl Api {
    /// Logs in: one token for this invocation.
    pub async fn login(credentials: &Credentials) -> Result<(Self, Granted)> {
        let (http, granted) = grant(credentials).await?;
        let api = Self {
            http,
            admin_url: credentials.admin_url.clone(),
            token: granted.access_token.clone(),
        };
        Ok((api, granted))
    }

    /// The admin URL of `/api/v1/oauth/<segments...>` (each segment percent-encoded), with
    /// `query`.
    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.admin_url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(API_PREFIX).extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// Sends a request; `Ok(None)` for an answer without a body (204).
    pub async fn send(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Option<Value>> {
        let url = self.url(segments, query);
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(self.token.expose());
        if let Some(body) = body {
            request = request.json(body);
        }
        answer(&method, &url, request.send().await).await
    }

    /// A GET whose answer must have a body.
    pub async fn get(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Value> {
        let url = self.url(segments, query);
        self.send(Method::GET, segments, query, None)
            .await?
            .ok_or_else(|| unexpected(&url, "an empty answer"))
    }

    /// A request whose answer must have a body.
    pub async fn call(&self, method: Method, segments: &[&str], body: &Value) -> Result<Value> {
        let url = self.url(segments, &[]);
        self.send(method, segments, &[], Some(body))
            .await?
            .ok_or_else(|| unexpected(&url, "an empty answer"))
    }

    /// One page of a paginated listing, from `after` (the first page without it).
    pub async fn page(&self, segments: &[&str], after: Option<&str>) -> Result<Page> {
        self.page_where(segments, &[], after).await
    }

    /// One page of a listing narrowed by its `filters` (query parameters), from `after`.
    pub async fn page_where(
        &self,
        segments: &[&str],
        filters: &[(&str, &str)],
        after: Option<&str>,
    ) -> Result<Page> {
        let mut query = vec![("size", PAGE_SIZE)];
        query.extend_from_slice(filters);
        if let Some(after) = after {
            query.push(("after", after));
        }
        let url = self.url(segments, &query);
        let body = self.get(segments, &query).await?;
        let Value::Array(items) = body["items"].clone() else {
            return Err(unexpected(&url, "a listing without items"));
        };
        Ok(Page {
            items,
            next: body["next"].as_str().map(str::to_owned),
        })
    }

    /// Every item of a paginated listing, following its `next` cursors to the end.
    pub async fn list_all(&self, segments: &[&str]) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.page(segments, after.as_deref()).await?;
            items.extend(page.items);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(items),
            }
        }
    }
}

/// A page of a listing and the cursor of the next one.
pub struct Page {
    pub items: Vec<Value>,
    pub next: Option<String>,
}

/// The JSON of a 2xx answer (`None` without a body), or the error it means.
async fn answer(
    method: &Method,
    url: &Url,
    sent: reqwest::Result<reqwest::Response>,
) -> Result<Option<Value>> {
    let response = sent.map_err(|error| {
        Error::Unavailable(format!(
            "cannot reach {}: {}",
            shown(url),
            error_chain(&error)
        ))
    })?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|error| {
        Error::Unavailable(format!(
            "{method} {}: the answer could not be read: {}",
            shown(url),
            error_chain(&error)
        ))
    })?;
    let body: Option<Value> = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice(&bytes).ok()
    };
    if status.is_success() {
        return match (body, bytes.is_empty()) {
            (Some(body), _) => Ok(Some(body)),
            (None, true) => Ok(None),
            (None, false) => Err(unexpected(url, "an answer that is not JSON")),
        };
    }
    let code = body
        .as_ref()
        .and_then(|b| b["error"].as_str())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error"))
        .to_owned();
    let description = body
        .as_ref()
        .and_then(|b| b["error_description"].as_str())
        .unwrap_or_default()
        .to_owned();
    if status.is_client_error() {
        Err(Error::Refused {
            method: method.to_string(),
            path: url.path().to_owned(),
            status: status.as_u16(),
            code,
            description,
        })
    } else {
        Err(Error::Unavailable(format!(
            "{method} {}: the service failed ({}): {code}: {description}",
            url.path(),
            status_text(status)
        )))
    }
}

fn status_text(status: StatusCode) -> String {
    status.as_u16().to_string()
}

fn unexpected(url: &Url, what: &str) -> Error {
    Error::Unavailable(format!("{} gave {what}", shown(url)))
}

/// A URL as shown in messages: without its query (a cursor is noise) or user information.
fn shown(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    shown.to_string()
}

/// An error and its sources, as reqwest's top-level message alone says little.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
