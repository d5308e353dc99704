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

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::RsaPrivateKey;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::token::{JwkInput, VerifyingKey};

/// Where a Kubernetes API server publishes its service-account signing keys.
pub const JWKS_PATH: &str = "/openid/v1/jwks";
/// The OpenID discovery document (OIDC Discovery 1.0 §4).
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// The subject prefix of Kubernetes service-account tokens.
pub const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";

const RSA_BITS: usize = 2048;
/// Spare keys kept ready per process.
const SPARE_KEYS: usize = 2;

/// One RSA signing key of the issuer, with its published JWK.
struct IssuerKey {
    kid: String,
    signer: rsa::pkcs1v15::SigningKey<Sha256>,
    jwk: Value,
}

impl IssuerKey {
    fn new(key: RsaPrivateKey) -> Self {
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        // The RFC 7638 thumbprint, as auth-core computes it for keys published without a kid.
        let input: JwkInput =
            serde_json::from_value(json!({ "kty": "RSA", "n": n, "e": e })).expect("an RSA JWK");
        let kid = VerifyingKey::from_jwk(&input)
            .expect("a 2048-bit RSA key is a valid JWK")
            .kid()
            .to_owned();
        let jwk = json!({
            "kty": "RSA",
            "n": n,
            "e": e,
            "kid": kid,
            "alg": "RS256",
            "use": "sig",
        });
        Self {
            kid,
            signer: rsa::pkcs1v15::SigningKey::new(key),
            jwk,
        }
    }

    /// `header.claims.signature`, RS256 over the two encoded parts.
    fn sign(&self, header: &Value, claims: &Value) -> String {
        let message = format!("{}.{}", encode_part(header), encode_part(claims));
        let signature = self.signer.sign(message.as_bytes()).to_vec();
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// A JWS part: base64url of the JSON, unpadded.
fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON values serialize"))
}

/// The keys an issuer publishes; `current` signs.
struct KeySet {
    current: Arc<IssuerKey>,
    published: Vec<Arc<IssuerKey>>,
}

/// What the HTTP handlers and the test share.
struct State {
    issuer: String,
    keys: Mutex<KeySet>,
    down: AtomicBool,
    bearer: Mutex<Option<String>>,
    jwks_fetches: AtomicU64,
    discovery_fetches: AtomicU64,
}

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

fn jwks(keys: &KeySet) -> Value {
    json!({ "keys": keys.published.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
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

/// Serves `state` on `listener` from a thread with its own actix system; returns the
/// handle that stops it.
fn serve(state: Arc<State>, listener: TcpListener) -> ServerHandle {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("test-issuer".to_owned())
        .spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let data = web::Data::from(state);
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .route(DISCOVERY_PATH, web::get().to(discovery))
                        .route(JWKS_PATH, web::get().to(jwks_document))
                        .default_service(web::to(not_found))
                })
                .workers(1)
                .disable_signals()
                .listen(listener)
                .expect("listen on the test issuer port")
                .run();
                let _ = sender.send(server.handle());
                let _ = server.await;
            });
        })
        .expect("start the test issuer thread");
    receiver.recv().expect("the test issuer started")
}

/// 503 while down, 401 without the required bearer token, else `None` (serve).
fn refusal(state: &State, request: &HttpRequest) -> Option<HttpResponse> {
    if state.down.load(Ordering::SeqCst) {
        return Some(HttpResponse::ServiceUnavailable().json(json!({
            "kind": "Status", "status": "Failure", "reason": "ServiceUnavailable", "code": 503,
        })));
    }
    let required = lock(&state.bearer).clone();
    if let Some(required) = required {
        let presented = request
            .headers()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        if presented != Some(required.as_str()) {
            return Some(HttpResponse::build(StatusCode::UNAUTHORIZED).json(json!({
                "kind": "Status", "status": "Failure", "reason": "Unauthorized", "code": 401,
            })));
        }
    }
    None
}

async fn discovery(state: web::Data<State>, request: HttpRequest) -> HttpResponse {
    if let Some(refusal) = refusal(&state, &request) {
        return refusal;
    }
    state.discovery_fetches.fetch_add(1, Ordering::SeqCst);
    HttpResponse::Ok().json(json!({
        "issuer": state.issuer,
        "jwks_uri": format!("{}{JWKS_PATH}", state.issuer),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks_document(state: web::Data<State>, request: HttpRequest) -> HttpResponse {
    if let Some(refusal) = refusal(&state, &request) {
        return refusal;
    }
    let body = jwks(&lock(&state.keys));
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .body(body.to_string())
}

async fn not_found(state: web::Data<State>, request: HttpRequest) -> HttpResponse {
    refusal(&state, &request).unwrap_or_else(|| HttpResponse::NotFound().finish())
}

/// The spare keys of this process, and whether a thread is making more.
struct Spares {
    keys: Mutex<Vec<RsaPrivateKey>>,
    refilling: AtomicBool,
}

fn spares() -> &'static Spares {
    static SPARES: OnceLock<Spares> = OnceLock::new();
    SPARES.get_or_init(|| Spares {
        keys: Mutex::new(Vec::new()),
        refilling: AtomicBool::new(false),
    })
}

fn generate_key() -> RsaPrivateKey {
    RsaPrivateKey::new(&mut rand::rngs::OsRng, RSA_BITS).expect("generate an RSA key")
}

/// A key no other issuer of this process has: a spare if one is ready, else a fresh one.
/// Either way the spares are topped up in the background.
fn take_key() -> RsaPrivateKey {
    let spare = lock(&spares().keys).pop();
    refill();
    spare.unwrap_or_else(generate_key)
}

fn refill() {
    let spares = spares();
    if spares.refilling.swap(true, Ordering::SeqCst) {
        return;
    }
    let started = std::thread::Builder::new()
        .name("test-issuer-keys".to_owned())
        .spawn(move || {
            while lock(&spares.keys).len() < SPARE_KEYS {
                let key = generate_key();
                lock(&spares.keys).push(key);
            }
            spares.refilling.store(false, Ordering::SeqCst);
        });
    if started.is_err() {
        spares.refilling.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};

    use super::*;

    async fn get(url: &str, bearer: Option<&str>) -> (u16, Value) {
        let mut request = reqwest::Client::new().get(url);
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The claims of `token` if it verifies against a key of `jwks` (by `kid`).
    fn verify(token: &str, jwks: &Value, audience: &str) -> Result<Value, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
        let kid = header.kid.ok_or("no kid")?;
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .ok_or("unknown kid")?;
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["alg"], "RS256");
        assert_eq!(jwk["use"], "sig");
        let key = DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap(),
            jwk["e"].as_str().unwrap(),
        )
        .map_err(|e| e.to_string())?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[audience]);
        jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn serves_discovery_and_jwks_and_its_tokens_verify() {
        let issuer = TestIssuer::start().await;
        let (status, discovery) = get(&issuer.discovery_url(), None).await;
        assert_eq!(status, 200);
        assert_eq!(discovery["issuer"], issuer.url());
        assert_eq!(discovery["jwks_uri"], issuer.jwks_uri());
        assert_eq!(
            discovery["id_token_signing_alg_values_supported"],
            json!(["RS256"])
        );
        assert_eq!(discovery["response_types_supported"], json!(["id_token"]));
        assert_eq!(discovery["subject_types_supported"], json!(["public"]));

        let (status, jwks) = get(&issuer.jwks_uri(), None).await;
        assert_eq!(status, 200);
        assert_eq!(jwks, issuer.jwks());
        assert_eq!(jwks["keys"][0]["kid"], issuer.kid().as_str());

        let subject = TestIssuer::service_account("payments", "api");
        let token = issuer.mint(
            &subject,
            &["https://auth.example", "other"],
            Duration::from_secs(600),
        );
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        let claims = verify(&token, &jwks, "https://auth.example").unwrap();
        assert_eq!(claims["iss"], issuer.url());
        assert_eq!(claims["sub"], "system:serviceaccount:payments:api");
        assert_eq!(claims["aud"], json!(["https://auth.example", "other"]));
        let iat = claims["iat"].as_i64().unwrap();
        assert_eq!(claims["nbf"].as_i64(), Some(iat));
        assert_eq!(claims["exp"].as_i64(), Some(iat + 600));
        let k8s = &claims["kubernetes.io"];
        assert_eq!(k8s["namespace"], "payments");
        assert_eq!(k8s["serviceaccount"]["name"], "api");
        assert_eq!(k8s["serviceaccount"]["uid"].as_str().unwrap().len(), 36);
        assert!(k8s["pod"]["name"].as_str().unwrap().starts_with("api-"));
        assert!(k8s["pod"]["uid"].is_string());

        // Arbitrary claims and headers, for bad-input tests.
        let custom = issuer.mint_claims(json!({ "iss": "elsewhere", "aud": "x", "exp": 1 }));
        let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(&custom)
            .unwrap()
            .claims;
        assert_eq!(claims["iss"], "elsewhere");
        let forged = issuer.mint_with(json!({ "alg": "HS256", "kid": "nope" }), json!({}));
        assert_eq!(
            jsonwebtoken::decode_header(&forged).unwrap().kid.as_deref(),
            Some("nope")
        );
        let none = TestIssuer::unsigned(&json!({ "alg": "none" }), &json!({ "sub": "x" }));
        let parts: Vec<&str> = none.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2], "", "no signature");
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, json!({ "alg": "none" }));
        // Not a Kubernetes subject: no kubernetes.io object.
        let plain = issuer.claims("spiffe://example.org/api", &["a"], Duration::from_secs(5));
        assert!(plain.get("kubernetes.io").is_none());
    }

    #[tokio::test]
    async fn rotation_changes_the_kid_and_may_keep_the_old_key() {
        let issuer = TestIssuer::start().await;
        let first = issuer.kid();
        let old_token = issuer.mint(
            "system:serviceaccount:a:b",
            &["aud"],
            Duration::from_secs(60),
        );

        let second = issuer.rotate(true);
        assert_ne!(second, first);
        assert_eq!(issuer.kid(), second);
        let (_, jwks) = get(&issuer.jwks_uri(), None).await;
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(kids, [second.as_str(), first.as_str()]);
        let new_token = issuer.mint(
            "system:serviceaccount:a:b",
            &["aud"],
            Duration::from_secs(60),
        );
        assert_eq!(
            jsonwebtoken::decode_header(&new_token).unwrap().kid,
            Some(second.clone())
        );
        verify(&old_token, &jwks, "aud").unwrap();
        verify(&new_token, &jwks, "aud").unwrap();

        let third = issuer.rotate(false);
        let (_, jwks) = get(&issuer.jwks_uri(), None).await;
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
        assert_eq!(jwks["keys"][0]["kid"], third.as_str());
        assert_eq!(verify(&old_token, &jwks, "aud").unwrap_err(), "unknown kid");
    }

    #[tokio::test]
    async fn down_answers_503_and_bearer_is_required_when_set_and_fetches_are_counted() {
        let issuer = TestIssuer::start().await;
        assert_eq!(issuer.jwks_fetches(), 0);
        assert_eq!(get(&issuer.jwks_uri(), None).await.0, 200);
        assert_eq!(get(&issuer.jwks_uri(), None).await.0, 200);
        assert_eq!(issuer.jwks_fetches(), 2);
        assert_eq!(get(&issuer.discovery_url(), None).await.0, 200);
        assert_eq!(issuer.discovery_fetches(), 1);
        assert_eq!(issuer.jwks_fetches(), 2, "discovery is not the JWKS");

        issuer.set_down(true);
        assert_eq!(get(&issuer.jwks_uri(), None).await.0, 503);
        assert_eq!(get(&issuer.discovery_url(), None).await.0, 503);
        assert_eq!(issuer.jwks_fetches(), 2, "a 503 serves no keys");
        issuer.set_down(false);

        issuer.require_bearer(Some("pod-token"));
        assert_eq!(get(&issuer.jwks_uri(), None).await.0, 401);
        assert_eq!(get(&issuer.jwks_uri(), Some("wrong")).await.0, 401);
        assert_eq!(get(&issuer.discovery_url(), None).await.0, 401);
        assert_eq!(get(&issuer.jwks_uri(), Some("pod-token")).await.0, 200);
        assert_eq!(get(&issuer.discovery_url(), Some("pod-token")).await.0, 200);
        assert_eq!(issuer.jwks_fetches(), 3);
        issuer.require_bearer(None);
        assert_eq!(get(&issuer.jwks_uri(), None).await.0, 200);
        assert_eq!(issuer.jwks_fetches(), 4);
    }

    #[tokio::test]
    async fn two_issuers_never_share_a_key() {
        let (a, b) = (TestIssuer::start().await, TestIssuer::start().await);
        assert_ne!(a.kid(), b.kid());
        assert_ne!(a.url(), b.url());
        let token = a.mint(
            "system:serviceaccount:a:b",
            &["aud"],
            Duration::from_secs(60),
        );
        assert!(verify(&token, &b.jwks(), "aud").is_err());
    }
}
