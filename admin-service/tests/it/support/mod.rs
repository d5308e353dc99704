//! `TestApp`: a token-service and an admin-service built from one environment (one
//! database, one signing key, one root client), each on its own port, with one helper per
//! endpoint; `Reply` and `Raw` in `reply`, the shared assertions in `checks`.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use auth_core::config::Env;
use auth_core::service::Service as _;
use auth_core::testing::http::{form, listener, read};
use auth_core::testing::{Backend, TestDatabase};
use auth_core::token::SigningKey;
use serde_json::{Value, json};

mod checks;
mod listing;
mod reply;
pub use checks::*;
pub use listing::{next, query};
pub use reply::{Raw, Reply};

pub const ROOT_ID: &str = "root-client";
pub const ROOT_SECRET: &str = "root-secret-for-tests-only";
pub const ISSUER: &str = "https://auth.test.example";

const CLIENTS: &str = "/api/v1/oauth/client";
const SCOPES: &str = "/api/v1/oauth/scope";
const ISSUERS: &str = "/api/v1/oauth/issuer";

/// Defines each named test case once per backend: `postgres::name` and `sqlite::name`
/// (`auth_core::on_both_backends!` with this crate's `TestApp`).
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        auth_core::on_both_backends!($crate::support::TestApp; $($case),*);
    };
}
pub(crate) use on_both_backends;

/// A client created through the API, with a token fetched right after.
pub struct TestClient {
    pub id: String,
    pub secret: String,
    pub token: String,
}

pub struct TestApp {
    pub token_base: String,
    pub admin_base: String,
    /// The key both services sign and verify with, to forge tokens in tests.
    pub signing_key: SigningKey,
    http: awc::Client,
    db: TestDatabase,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// Starts both services on `backend`; `None` when it is unreachable outside CI.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        let db = TestDatabase::create(backend)?;
        let dir = tempfile::tempdir().expect("temporary directory");
        let key_path = dir.path().join("signing-key.pem");
        let (signing_key, pem) = SigningKey::generate_ed25519().expect("key");
        std::fs::write(&key_path, pem).expect("write key");

        let shared = [
            ("DATABASE_URL", db.url_string()),
            ("DATABASE_POOL_SIZE", "4".into()),
            ("OAUTH_ROOT_CLIENT_ID", ROOT_ID.into()),
            ("OAUTH_ISSUER", ISSUER.into()),
        ];
        let token_env: HashMap<String, String> = shared
            .iter()
            .cloned()
            .chain([
                ("OAUTH_ROOT_CLIENT_SECRET", ROOT_SECRET.into()),
                ("OAUTH_SIGNING_KEY_FILE", key_path.display().to_string()),
                // Every test request comes from 127.0.0.1 and many fail on purpose:
                // brute-force limits are tested in token-service's suite, not here.
                ("AUTH_FAILURES_PER_CLIENT", "100000".into()),
                ("AUTH_FAILURES_PER_ADDRESS", "100000".into()),
            ])
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        let env = Env::from_fn(|name| token_env.get(name).cloned());

        let token_config = token_service::Config::from_env(&env).expect("token-service config");
        let token_state = token_service::AppState::build(&token_config)
            .await
            .expect("token-service state");
        let (token_listener, token_base) = listener();
        actix_web::rt::spawn(
            token_service::run(token_state, token_listener).expect("token-service"),
        );

        // admin-service gets no private key and no root secret: it verifies with the keys
        // token-service publishes.
        let admin_env: HashMap<String, String> = shared
            .iter()
            .cloned()
            .chain([("TOKEN_SERVICE_URL", token_base.clone())])
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        let env = Env::from_fn(|name| admin_env.get(name).cloned());
        let admin_config = admin_service::Config::from_env(&env).expect("admin-service config");
        let admin_state = admin_service::AppState::build(&admin_config)
            .await
            .expect("admin-service state");
        let (admin_listener, admin_base) = listener();
        actix_web::rt::spawn(
            admin_service::run(admin_state, admin_listener).expect("admin-service"),
        );

        let app = Self {
            token_base,
            admin_base,
            signing_key,
            http: awc::Client::builder()
                .timeout(Duration::from_secs(60))
                .finish(),
            db,
            _dir: dir,
        };
        app.wait_ready().await;
        Some(app)
    }

    /// Waits until admin-service is ready: its database answers and token-service's keys
    /// are loaded (fetched in the background at start).
    async fn wait_ready(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let ready = self
                .http
                .get(format!("{}/health/ready", self.admin_base))
                .send()
                .await
                .is_ok_and(|response| response.status() == StatusCode::OK);
            if ready {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "admin-service never became ready"
            );
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    // --- token-service -----------------------------------------------------------------

    pub async fn token(&self, id: &str, secret: &str) -> Reply {
        self.token_form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .await
    }

    pub async fn token_with_scope(&self, id: &str, secret: &str, scope: &str) -> Reply {
        self.token_form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("scope", scope),
        ])
        .await
    }

    pub async fn root_token(&self) -> Reply {
        self.token(ROOT_ID, ROOT_SECRET).await
    }

    async fn token_form(&self, pairs: &[(&str, &str)]) -> Reply {
        let response = self
            .http
            .post(format!("{}/api/v1/oauth/token", self.token_base))
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .send_body(form(pairs))
            .await
            .expect("token request");
        read(response).await
    }

    /// An access token for these credentials; panics unless the token-service grants one.
    pub async fn access_token(&self, id: &str, secret: &str) -> String {
        let reply = self.token(id, secret).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "token for {id}: {}",
            reply.body
        );
        reply.token().to_owned()
    }

    /// A root access token.
    pub async fn root(&self) -> String {
        self.access_token(ROOT_ID, ROOT_SECRET).await
    }

    /// Creates a client with `scopes` as root and fetches a token for it.
    pub async fn new_client(&self, scopes: &[&str]) -> TestClient {
        let reply = self.create_client(&self.root().await, json!(scopes)).await;
        assert_eq!(reply.status, StatusCode::OK, "create: {}", reply.body);
        let (id, secret) = (reply.client_id().to_owned(), reply.secret().to_owned());
        let token = self.access_token(&id, &secret).await;
        TestClient { id, secret, token }
    }

    /// Runs `statement` on the test database directly, behind the services' back (as
    /// another replica or an import would).
    pub async fn sql(&self, statement: &str) {
        use diesel::RunQueryDsl as _;
        let store = auth_core::store::Store::new(&self.db.url, 1);
        let statement = statement.to_owned();
        store
            .run(move |conn| Ok(diesel::sql_query(statement).execute(conn)?))
            .await
            .unwrap_or_else(|e| panic!("SQL on the test database: {e}"));
    }

    /// How many clients the API lists.
    pub async fn client_count(&self) -> i64 {
        let reply = self.list_clients(&self.root().await, "").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["total"].as_i64().unwrap()
    }

    // --- admin-service -----------------------------------------------------------------

    pub async fn create_client(&self, token: &str, body: Value) -> Reply {
        self.json(Method::POST, CLIENTS.into(), token, &body).await
    }

    /// `query` without the `?`, e.g. `page=2&size=10`, or empty.
    pub async fn list_clients(&self, token: &str, query: &str) -> Reply {
        self.bare(Method::GET, with_query(CLIENTS, query), token)
            .await
    }

    pub async fn get_client(&self, token: &str, id: &str) -> Reply {
        self.bare(Method::GET, format!("{CLIENTS}/{id}"), token)
            .await
    }

    pub async fn delete_client(&self, token: &str, id: &str) -> Reply {
        self.bare(Method::DELETE, format!("{CLIENTS}/{id}"), token)
            .await
    }

    pub async fn get_scopes(&self, token: &str, id: &str) -> Reply {
        self.bare(Method::GET, format!("{CLIENTS}/{id}/scope"), token)
            .await
    }

    pub async fn put_scopes(&self, token: &str, id: &str, body: Value) -> Reply {
        self.json(Method::PUT, format!("{CLIENTS}/{id}/scope"), token, &body)
            .await
    }

    pub async fn get_limits(&self, token: &str, id: &str) -> Reply {
        self.bare(Method::GET, format!("{CLIENTS}/{id}/limits"), token)
            .await
    }

    pub async fn put_limits(&self, token: &str, id: &str, body: Value) -> Reply {
        self.json(Method::PUT, format!("{CLIENTS}/{id}/limits"), token, &body)
            .await
    }

    pub async fn rotate_secret(&self, token: &str, id: &str, body: Option<Value>) -> Reply {
        let path = format!("{CLIENTS}/{id}/secret");
        match body {
            Some(body) => self.json(Method::POST, path, token, &body).await,
            None => self.bare(Method::POST, path, token).await,
        }
    }

    pub async fn put_keys(&self, token: &str, id: &str, body: Value) -> Reply {
        self.json(Method::PUT, format!("{CLIENTS}/{id}/keys"), token, &body)
            .await
    }

    pub async fn put_identities(&self, token: &str, id: &str, body: Value) -> Reply {
        self.json(
            Method::PUT,
            format!("{CLIENTS}/{id}/identities"),
            token,
            &body,
        )
        .await
    }

    pub async fn create_issuer(&self, token: &str, body: Value) -> Reply {
        self.json(Method::POST, ISSUERS.into(), token, &body).await
    }

    pub async fn list_issuers(&self, token: &str) -> Reply {
        self.bare(Method::GET, ISSUERS.into(), token).await
    }

    pub async fn get_issuer(&self, token: &str, id: &str) -> Reply {
        self.bare(Method::GET, format!("{ISSUERS}/{id}"), token)
            .await
    }

    pub async fn delete_issuer(&self, token: &str, id: &str) -> Reply {
        self.bare(Method::DELETE, format!("{ISSUERS}/{id}"), token)
            .await
    }

    pub async fn registry(&self, token: &str) -> Reply {
        self.bare(Method::GET, SCOPES.into(), token).await
    }

    pub async fn add_scope(&self, token: &str, name: &str) -> Reply {
        self.json(Method::POST, SCOPES.into(), token, &json!({ "name": name }))
            .await
    }

    pub async fn remove_scope(&self, token: &str, name: &str) -> Reply {
        self.bare(Method::DELETE, format!("{SCOPES}/{name}"), token)
            .await
    }

    pub async fn audit(&self, token: &str, query: &str) -> Reply {
        self.bare(Method::GET, with_query("/api/v1/oauth/audit", query), token)
            .await
    }

    async fn bare(&self, method: Method, path: String, token: &str) -> Reply {
        self.request(method, &path, Some(token), None).await
    }

    async fn json(&self, method: Method, path: String, token: &str, body: &Value) -> Reply {
        self.request(method, &path, Some(token), Some(Raw::json(body)))
            .await
    }

    /// Any admin request, with `Authorization: Bearer <token>` when a token is given.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Raw>,
    ) -> Reply {
        let headers = token
            .map(|t| {
                vec![(
                    header::AUTHORIZATION,
                    HeaderValue::from_str(&format!("Bearer {t}")).unwrap(),
                )]
            })
            .unwrap_or_default();
        self.send(method, path, headers, body).await
    }

    /// Any admin request with exactly these extra headers (repeats allowed).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: Vec<(HeaderName, HeaderValue)>,
        body: Option<Raw>,
    ) -> Reply {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.admin_base));
        for (name, value) in headers {
            request = request.append_header((name, value));
        }
        let response = match body {
            Some(raw) => {
                request
                    .insert_header((header::CONTENT_TYPE, raw.content_type))
                    .send_body(raw.bytes)
                    .await
            }
            None => request.send().await,
        };
        read(response.unwrap_or_else(|e| panic!("admin request {path}: {e}"))).await
    }
}

fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}
