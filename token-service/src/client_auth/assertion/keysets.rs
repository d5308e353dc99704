//! Public keys fetched from `jwks_uri`s (trusted issuers' and clients'), cached per URL.
//!
//! A set is refreshed every [`REFRESH_AFTER`] (in the background: the request that notices
//! is answered from the keys it has) and when an assertion names a `kid` it does not hold,
//! but at most once per [`MIN_FETCH_INTERVAL`] (configurable) per URL, whatever the cause: a stream of
//! assertions with random `kid`s costs the issuer one fetch per interval. A failed fetch
//! keeps the keys already known, so a platform's endpoint being down does not stop its
//! workloads. Fetches are bounded: [`FETCH_TIMEOUT`], [`MAX_JWKS_BYTES`], no redirects,
//! https (or http on a loopback host, which the admin API alone lets through).
//!
//! In-cluster Kubernetes: a trusted issuer's keys fetched from the API server itself
//! (`KUBERNETES_API_SERVER`: the same scheme, host and port) carry the pod's own
//! service-account token (never a client's `jwks_uri`, never another host), re-read from its file for each fetch (the kubelet
//! rotates it), and trust the cluster CA, so an issuer registered with
//! `https://kubernetes.default.svc/openid/v1/jwks` works with no key copied by hand.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use auth_core::token::{JwkInput, VerifyingKey};
use prometheus_client::metrics::counter::Counter;
use serde::Deserialize;

use super::Refusal;

/// A key set older than this is refreshed.
pub const REFRESH_AFTER: Duration = Duration::from_secs(600);
/// The shortest interval between two fetches of one URL, by default
/// (`JWKS_MIN_REFETCH_SECS`).
pub const MIN_FETCH_INTERVAL: Duration = Duration::from_secs(30);
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest JWKS document read.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
/// Most keys kept of one set.
const MAX_KEYS: usize = 32;
/// Most URLs whose sets are cached (clients with a `jwks_uri` and issuers).
const MAX_SETS: usize = 10_000;

/// How fetches reach a Kubernetes API server from inside the cluster.
#[derive(Debug, Clone)]
pub struct InCluster {
    /// URLs starting with this (`https://kubernetes.default.svc`) carry the token.
    pub api_server: String,
    /// The pod's service-account token, re-read for each fetch.
    pub token_file: PathBuf,
}

/// Why the fetcher could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FetcherError {
    #[error("cannot read the CA bundle {path}: {reason}")]
    Ca { path: String, reason: String },
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

#[derive(Default)]
struct SetState {
    keys: HashMap<String, VerifyingKey>,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
}

struct RemoteSet {
    url: String,
    /// Fetched with the pod's service-account token (an issuer's keys on the API server).
    in_cluster: bool,
    state: RwLock<SetState>,
    fetching: tokio::sync::Mutex<()>,
}

/// The cached key sets, shared by every request.
pub struct KeySets {
    http: reqwest::Client,
    min_interval: Duration,
    in_cluster: Option<InCluster>,
    sets: Mutex<HashMap<String, Arc<RemoteSet>>>,
    fetches: Counter,
}

#[derive(Deserialize)]
struct Document {
    keys: Vec<serde_json::Value>,
}

impl KeySets {
    /// A fetcher trusting the system's roots plus the PEM bundles `ca_files` (a custom CA,
    /// the cluster's CA). `fetches` counts the fetches made.
    pub fn new(
        ca_files: &[PathBuf],
        in_cluster: Option<InCluster>,
        min_interval: Duration,
        fetches: Counter,
    ) -> Result<Self, FetcherError> {
        let mut certificates = Vec::new();
        for path in ca_files {
            let pem = std::fs::read(path).map_err(|error| FetcherError::Ca {
                path: path.display().to_string(),
                reason: error.to_string(),
            })?;
            let bundle =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|_| FetcherError::Ca {
                    path: path.display().to_string(),
                    reason: "not a PEM certificate bundle".to_owned(),
                })?;
            certificates.extend(bundle);
        }
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .tls_certs_merge(certificates)
            .build()
            .map_err(|error| FetcherError::Http(error.to_string()))?;
        Ok(Self {
            http,
            min_interval,
            in_cluster,
            sets: Mutex::default(),
            fetches,
        })
    }

    fn set(&self, url: &str, of_issuer: bool) -> Arc<RemoteSet> {
        let in_cluster = of_issuer
            && self
                .in_cluster
                .as_ref()
                .is_some_and(|cluster| same_origin(url, &cluster.api_server));
        let key = format!("{}{url}", if in_cluster { "k8s " } else { "" });
        let mut sets = self.sets.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(set) = sets.get(&key) {
            return Arc::clone(set);
        }
        if sets.len() >= MAX_SETS {
            sets.clear();
        }
        let set = Arc::new(RemoteSet {
            url: url.to_owned(),
            in_cluster,
            state: RwLock::default(),
            fetching: tokio::sync::Mutex::new(()),
        });
        sets.insert(key, Arc::clone(&set));
        set
    }

    /// The key `kid` (or, without a `kid`, the set's only key) of the set at `url`. Only a
    /// trusted issuer's set (`of_issuer`) may be fetched with the pod's own credentials, and
    /// only from the API server itself: a client's `jwks_uri` never is.
    pub async fn key(
        self: &Arc<Self>,
        url: &str,
        kid: Option<&str>,
        of_issuer: bool,
    ) -> Result<VerifyingKey, Refusal> {
        let set = self.set(url, of_issuer);
        let now = Instant::now();
        let (found, fetched_at, attempted_at) = {
            let state = set.state.read().unwrap_or_else(PoisonError::into_inner);
            (pick(&state.keys, kid), state.fetched_at, state.attempted_at)
        };
        let may_fetch = attempted_at.is_none_or(|at| now.duration_since(at) >= self.min_interval);
        if let Some(key) = found {
            if may_fetch && fetched_at.is_none_or(|at| now.duration_since(at) >= REFRESH_AFTER) {
                let (sets, set) = (Arc::clone(self), Arc::clone(&set));
                tokio::spawn(async move { sets.refresh(&set, attempted_at).await });
            }
            return Ok(key);
        }
        if !may_fetch {
            return Err(Refusal::UnknownKey);
        }
        self.refresh(&set, attempted_at).await;
        let state = set.state.read().unwrap_or_else(PoisonError::into_inner);
        pick(&state.keys, kid).ok_or(Refusal::UnknownKey)
    }

    /// Fetches the set once, unless another request did since `seen`.
    async fn refresh(&self, set: &RemoteSet, seen: Option<Instant>) {
        let _one_at_a_time = set.fetching.lock().await;
        if set
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .attempted_at
            != seen
        {
            return;
        }
        self.fetches.inc();
        let fetched = self.fetch(&set.url, set.in_cluster).await;
        let mut state = set.state.write().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        state.attempted_at = Some(now);
        match fetched {
            Ok(keys) => {
                state.keys = keys;
                state.fetched_at = Some(now);
            }
            Err(reason) => {
                tracing::warn!(url = %set.url, %reason, known_keys = state.keys.len(), "fetching a JWKS failed; keeping the keys known");
            }
        }
    }

    async fn fetch(
        &self,
        url: &str,
        in_cluster: bool,
    ) -> Result<HashMap<String, VerifyingKey>, String> {
        let mut request = self.http.get(url).header("accept", "application/json");
        if in_cluster && let Some(cluster) = &self.in_cluster {
            let path = cluster.token_file.clone();
            let token = auth_core::blocking::run(move || std::fs::read_to_string(path))
                .await
                .map_err(|_| "the blocking task failed".to_owned())?
                .map_err(|error| {
                    format!(
                        "cannot read the service-account token {}: {error}",
                        cluster.token_file.display()
                    )
                })?;
            request = request.bearer_auth(token.trim());
        }
        let mut response = request.send().await.map_err(|error| error.to_string())?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|error| error.to_string())? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(format!("larger than {MAX_JWKS_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        let document: Document =
            serde_json::from_slice(&body).map_err(|_| "not a JWK Set".to_owned())?;
        Ok(parse_keys(&document.keys))
    }
}

/// True when `url` has exactly the scheme, host and port of `origin` (an URL whose host
/// merely starts with the API server's name is another host).
pub fn same_origin(url: &str, origin: &str) -> bool {
    match (reqwest::Url::parse(url), reqwest::Url::parse(origin)) {
        (Ok(url), Ok(origin)) => {
            url.scheme() == origin.scheme()
                && url.host_str() == origin.host_str()
                && url.port_or_known_default() == origin.port_or_known_default()
        }
        _ => false,
    }
}

/// The usable signing keys of a JWKS's `keys`, by `kid` (others, such as encryption keys
/// or unsupported types, are skipped).
pub fn parse_keys(keys: &[serde_json::Value]) -> HashMap<String, VerifyingKey> {
    keys.iter()
        .filter_map(|value| serde_json::from_value::<JwkInput>(value.clone()).ok())
        .filter_map(|input| VerifyingKey::from_jwk(&input).ok())
        .take(MAX_KEYS)
        .map(|key| (key.kid().to_owned(), key))
        .collect()
}

/// `kid`'s key; without a `kid`, the only key of a set of one.
pub fn pick(keys: &HashMap<String, VerifyingKey>, kid: Option<&str>) -> Option<VerifyingKey> {
    match kid {
        Some(kid) => keys.get(kid).cloned(),
        None if keys.len() == 1 => keys.values().next().cloned(),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::same_origin;

    #[test]
    fn only_the_api_server_itself_is_the_api_server() {
        let api = "https://kubernetes.default.svc";
        assert!(same_origin(
            "https://kubernetes.default.svc/openid/v1/jwks",
            api
        ));
        assert!(same_origin(
            "https://kubernetes.default.svc:443/openid/v1/jwks",
            api
        ));
        for other in [
            "https://kubernetes.default.svc.evil.example/jwks",
            "https://kubernetes.default.svc@evil.example/jwks",
            "http://kubernetes.default.svc/openid/v1/jwks",
            "https://kubernetes.default.svc:8443/openid/v1/jwks",
            "not a url",
        ] {
            assert!(!same_origin(other, api), "{other}");
        }
    }
}
