//! A test issuer that behaves like a Kubernetes API server's service-account issuer, for
//! the workload-identity tests: it publishes an OpenID discovery document and a JWKS over
//! HTTP on 127.0.0.1, and mints RS256 tokens shaped like projected service-account tokens.
//!
//! Tests can rotate its key (publishing the old one too, or not), take it down (every
//! request answers 503), require a bearer token on its endpoints (as an API server needs
//! the pod's own service-account token), and count how often its JWKS was served, to show
//! that a verifier caches keys and rate-limits refetches.
//!
//! The server runs on a thread of its own with its own actix system, so it works the same
//! from `#[actix_web::test]`, `#[tokio::test]` or a plain test; it stops when the
//! [`TestIssuer`] is dropped.
//!
//! RSA key generation is slow in debug builds, so the process keeps a few spare keys,
//! generated on a background thread: every key is used by one issuer only (two issuers
//! never share a key, so a token of one never verifies against the other's JWKS).
//!
//! The key material (signing keys, the published key set and the process's spare keys) is
//! in `keys`, the HTTP server in `server`; this module is the [`TestIssuer`] API.

mod keys;
mod server;

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::dev::ServerHandle;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use keys::{IssuerKey, KeySet, encode_part, jwks, take_key};
use server::{State, serve};

/// Where a Kubernetes API server publishes its service-account signing keys.
pub const JWKS_PATH: &str = "/openid/v1/jwks";
/// The OpenID discovery document (OIDC Discovery 1.0 §4).
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// The subject prefix of Kubernetes service-account tokens.
pub const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A Kubernetes-like token issuer serving discovery and JWKS on 127.0.0.1 (see the module
/// documentation). Dropping it stops the server.
pub struct TestIssuer {
    state: Arc<State>,
    handle: ServerHandle,
}

impl std::fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestIssuer")
            .field("issuer", &self.state.issuer)
            .finish_non_exhaustive()
    }
}

impl TestIssuer {
    /// Starts an issuer on a free port of 127.0.0.1, with one fresh RSA key.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a test issuer port");
        let port = listener.local_addr().expect("local address").port();
        let issuer = format!("http://127.0.0.1:{port}");
        let key = Arc::new(IssuerKey::new(take_key()));
        let state = Arc::new(State {
            issuer,
            keys: Mutex::new(KeySet {
                current: Arc::clone(&key),
                published: vec![key],
            }),
            down: AtomicBool::new(false),
            bearer: Mutex::new(None),
            jwks_fetches: AtomicU64::new(0),
            discovery_fetches: AtomicU64::new(0),
        });
        let handle = serve(Arc::clone(&state), listener);
        Self { state, handle }
    }

    /// The issuer identifier (`iss` of its tokens): its base URL, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.state.issuer
    }

    /// Where its keys are published.
    pub fn jwks_uri(&self) -> String {
        format!("{}{JWKS_PATH}", self.state.issuer)
    }

    /// Its discovery document's URL.
    pub fn discovery_url(&self) -> String {
        format!("{}{DISCOVERY_PATH}", self.state.issuer)
    }

    /// The `kid` of the key that signs now.
    pub fn kid(&self) -> String {
        lock(&self.state.keys).current.kid.clone()
    }

    /// The JWKS it serves now (`{"keys": [...]}`), for tests that register keys inline.
    pub fn jwks(&self) -> Value {
        jwks(&lock(&self.state.keys))
    }

    /// The subject of a Kubernetes service account: `system:serviceaccount:<ns>:<name>`.
    pub fn service_account(namespace: &str, name: &str) -> String {
        format!("{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}")
    }

    /// The claims of a projected service-account token issued now: `iss`, `sub`, `aud` (an
    /// array), `iat`, `nbf`, `exp` = now + `lifetime`, and, when `subject` is
    /// `system:serviceaccount:<ns>:<name>`, the `kubernetes.io` object (namespace, service
    /// account and pod, with stable made-up uids). Tests change a member and pass the
    /// result to [`mint_claims`](Self::mint_claims).
    pub fn claims(&self, subject: &str, audiences: &[&str], lifetime: Duration) -> Value {
        let now = unix_now();
        let lifetime = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
        let mut claims = json!({
            "iss": self.state.issuer,
            "sub": subject,
            "aud": audiences,
            "iat": now,
            "nbf": now,
            "exp": now.saturating_add(lifetime),
        });
        if let Some((namespace, name)) = subject
            .strip_prefix(SERVICE_ACCOUNT_PREFIX)
            .and_then(|rest| rest.split_once(':'))
        {
            claims["kubernetes.io"] = json!({
                "namespace": namespace,
                "serviceaccount": {
                    "name": name,
                    "uid": made_up_uid(&format!("serviceaccount/{namespace}/{name}")),
                },
                "pod": {
                    "name": format!("{name}-0"),
                    "uid": made_up_uid(&format!("pod/{namespace}/{name}-0")),
                },
            });
        }
        claims
    }

    /// A projected service-account token for `subject`, signed RS256 with the current key
    /// (header `alg` and `kid`, as the API server writes it). See [`claims`](Self::claims).
    pub fn mint(&self, subject: &str, audiences: &[&str], lifetime: Duration) -> String {
        self.mint_claims(self.claims(subject, audiences, lifetime))
    }

    /// A token with exactly these claims, signed RS256 with the current key.
    pub fn mint_claims(&self, claims: Value) -> String {
        let key = Arc::clone(&lock(&self.state.keys).current);
        key.sign(&json!({ "alg": "RS256", "kid": key.kid }), &claims)
    }

    /// A token with exactly this header and these claims, signed RS256 with the current key
    /// whatever the header says (for tests of forged headers: `alg: none`, `HS256`, an
    /// unknown `kid`, ...).
    pub fn mint_with(&self, header: Value, claims: Value) -> String {
        let key = Arc::clone(&lock(&self.state.keys).current);
        key.sign(&header, &claims)
    }

    /// An unsigned token, `header.claims.` with an empty signature (an `alg: none`
    /// forgery).
    pub fn unsigned(header: &Value, claims: &Value) -> String {
        format!("{}.{}.", encode_part(header), encode_part(claims))
    }

    /// A new key signs from now on and is published; the old keys stay published when
    /// `keep_old` (a rotation in progress), else only the new one is. Returns the new `kid`.
    pub fn rotate(&self, keep_old: bool) -> String {
        let key = Arc::new(IssuerKey::new(take_key()));
        let kid = key.kid.clone();
        let mut keys = lock(&self.state.keys);
        if !keep_old {
            keys.published.clear();
        }
        keys.published.insert(0, Arc::clone(&key));
        keys.current = key;
        kid
    }

    /// While down, every request answers 503.
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// With `Some(token)`, discovery and JWKS answer 401 unless the request carries
    /// `Authorization: Bearer <token>`; `None` serves anyone.
    pub fn require_bearer(&self, token: Option<&str>) {
        *lock(&self.state.bearer) = token.map(str::to_owned);
    }

    /// How many times the JWKS was served (200 answers only).
    pub fn jwks_fetches(&self) -> u64 {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    /// How many times the discovery document was served (200 answers only).
    pub fn discovery_fetches(&self) -> u64 {
        self.state.discovery_fetches.load(Ordering::SeqCst)
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        // The command is sent at once; the server thread ends on its own.
        drop(self.handle.stop(false));
    }
}

fn unix_now() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
}

/// A UUID-shaped value derived from `seed`, so the same account always has the same uid.
fn made_up_uid(seed: &str) -> String {
    let hex: String = Sha256::digest(seed.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests;
