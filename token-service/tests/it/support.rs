//! `TestApp`: a token-service on its own port and its own database, with one helper per endpoint.

use std::collections::HashMap;

use auth_core::config::Env;
use auth_core::ids::ClientId;
use auth_core::scopes::parse_scope_list;
use auth_core::secret::{ClientSecret, SecretHash};
use auth_core::service::Service as _;
use auth_core::store::{Store, clients};
pub use auth_core::testing::http::{Reply, form};
use auth_core::testing::http::{listener, read};
use auth_core::testing::{Backend, TestDatabase, signing_key_file};
use auth_core::time::Timestamp;
use auth_core::token::TokenVerifier;
use base64::Engine as _;
use token_service::{AppState, Config};

/// How long a test waits for a service or a limiter to follow Redis's change channel
/// before it fails: generous, since CI runs every test at once on two cores. A bound on a
/// wait, not a timing assertion.
pub const FOLLOW_WITHIN: std::time::Duration = std::time::Duration::from_secs(30);

pub const ROOT_ID: &str = "root-client";
pub const ROOT_SECRET: &str = "root-secret-for-tests-only";
pub const ISSUER: &str = "https://auth.test.example";

/// Defines each named test case once per backend: `postgres::name` and `sqlite::name`
/// (`auth_core::on_both_backends!` with this crate's `TestApp`).
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        auth_core::on_both_backends!($crate::support::TestApp; $($case),*);
    };
}
pub(crate) use on_both_backends;

pub struct TestApp {
    pub base: String,
    pub store: Store,
    pub verifier: TokenVerifier,
    /// Signs tokens with the service's key, for cases a request cannot produce (expired).
    pub issuer: auth_core::token::TokenIssuer,
    http: awc::Client,
    /// The configuration it started with, for another replica on the same database.
    env: HashMap<String, String>,
    /// The database, owned by the first replica.
    _db: Option<TestDatabase>,
    _dir: std::sync::Arc<tempfile::TempDir>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, &[]).await
    }

    /// Starts a token-service with the test defaults overridden by `vars`.
    pub async fn spawn_with(backend: Backend, vars: &[(&str, &str)]) -> Option<Self> {
        let db = TestDatabase::create(backend)?;
        let dir = tempfile::tempdir().expect("temporary directory");
        let key_path = signing_key_file(dir.path());

        let mut env: HashMap<String, String> = HashMap::from([
            ("DATABASE_URL".into(), db.url_string()),
            ("DATABASE_POOL_SIZE".into(), "4".into()),
            ("OAUTH_ROOT_CLIENT_ID".into(), ROOT_ID.into()),
            ("OAUTH_ROOT_CLIENT_SECRET".into(), ROOT_SECRET.into()),
            ("OAUTH_ISSUER".into(), ISSUER.into()),
            (
                "OAUTH_SIGNING_KEY_FILE".into(),
                key_path.display().to_string(),
            ),
            // Tests fail authentication on purpose from 127.0.0.1; brute_force.rs sets its own.
            ("AUTH_FAILURES_PER_CLIENT".into(), "100000".into()),
            ("AUTH_FAILURES_PER_ADDRESS".into(), "100000".into()),
            // Answers refusals at once; brute_force.rs tests the delay.
            ("AUTH_FAILURE_DELAY_MS".into(), "0".into()),
        ]);
        for (name, value) in vars {
            env.insert((*name).into(), (*value).into());
        }
        Some(Self::start(env, Some(db), std::sync::Arc::new(dir)).await)
    }

    /// A token-service on PostgreSQL sharing the machine's Redis (`TEST_REDIS_URL`) under a
    /// key prefix of its own, with `vars` over the test defaults; `None` (skip) outside CI
    /// when Redis or PostgreSQL is unreachable.
    pub async fn spawn_with_redis(vars: &[(&str, &str)]) -> Option<Self> {
        let redis = auth_core::testing::redis_url()?;
        let prefix = auth_core::testing::redis_prefix();
        let mut all = vec![
            ("REDIS_URL", redis.as_str()),
            ("REDIS_KEY_PREFIX", prefix.as_str()),
        ];
        all.extend_from_slice(vars);
        Self::spawn_with(Backend::Postgres, &all).await
    }

    /// The Redis this service uses, as it reads it from its configuration.
    pub fn redis_settings(&self) -> auth_core::shared_redis::RedisSettings {
        auth_core::shared_redis::RedisSettings::from_env(&Env::from_fn(|name| {
            self.env.get(name).cloned()
        }))
        .expect("redis settings")
        .expect("REDIS_URL is set")
    }

    /// A second token-service process's worth of state (its own caches and limiter) on the
    /// same database and configuration: another replica.
    pub async fn replica(&self) -> Self {
        Self::start(self.env.clone(), None, std::sync::Arc::clone(&self._dir)).await
    }

    async fn start(
        env: HashMap<String, String>,
        db: Option<TestDatabase>,
        dir: std::sync::Arc<tempfile::TempDir>,
    ) -> Self {
        let config =
            Config::from_env(&Env::from_fn(|name| env.get(name).cloned())).expect("config");
        let state = AppState::build(&config).await.expect("state");
        let store = state.foundation.store.clone();
        let keyring = auth_core::keyring::Keyring::load(
            config.signing_key_file.as_deref(),
            &config.previous_signing_key_files,
        )
        .expect("keys");
        let verifier = keyring.verifier(&config.auth);
        let issuer = keyring.issuer(&config.auth);

        let (listener, base) = listener();
        let server = token_service::run(state, listener).expect("server");
        actix_web::rt::spawn(server);

        Self {
            base,
            store,
            verifier,
            issuer,
            http: awc::Client::default(),
            env,
            _db: db,
            _dir: dir,
        }
    }

    /// Inserts a client with `scopes` directly (admin-service is tested on its own).
    pub async fn create_client(&self, scopes: &str) -> (String, String) {
        let secret = ClientSecret::generate();
        let id = self
            .insert_client(SecretHash::of(&secret).as_str(), scopes)
            .await;
        (id, secret.expose().to_owned())
    }

    /// Inserts a client whose stored secret hash is `stored` (imported forms included).
    pub async fn insert_client(&self, stored: &str, scopes: &str) -> String {
        let id = ClientId::generate();
        let scopes = if scopes.is_empty() {
            Vec::new()
        } else {
            parse_scope_list(scopes).expect("scopes")
        };
        let hash = stored.to_owned();
        let id_text = id.as_str().to_owned();
        self.store
            .run(move |conn| {
                let now = Timestamp::now().as_micros();
                clients::insert(
                    conn,
                    &clients::NewClient {
                        id: id.as_str(),
                        secret_hash: hash.as_str(),
                        name: None,
                        description: None,
                        created_at: now,
                        updated_at: now,
                        tokens_valid_after: now,
                    },
                    &scopes,
                )
            })
            .await
            .expect("insert client");
        id_text
    }

    /// POST a raw body with a content type and extra headers.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<String>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .insert_header(("content-type", content_type));
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        read(request.send_body(body.into()).await.expect("request")).await
    }

    /// The token endpoint with a form body.
    pub async fn token_form(&self, pairs: &[(&str, &str)]) -> Reply {
        self.token_with_headers(pairs, &[]).await
    }

    pub async fn token_with_headers(
        &self,
        pairs: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let body = form(pairs);
        self.post_raw(
            "/api/v1/oauth/token",
            "application/x-www-form-urlencoded",
            body,
            headers,
        )
        .await
    }

    /// The token endpoint with client_secret_basic.
    pub async fn token_basic(&self, id: &str, secret: &str, pairs: &[(&str, &str)]) -> Reply {
        let authorization = basic(id, secret);
        self.token_with_headers(pairs, &[("authorization", &authorization)])
            .await
    }

    /// A token for the root client.
    pub async fn root_token(&self) -> Reply {
        self.token_form(&[
            ("grant_type", "client_credentials"),
            ("client_id", ROOT_ID),
            ("client_secret", ROOT_SECRET),
        ])
        .await
    }

    /// RFC 7009 revocation of `token` by client `id`.
    pub async fn revoke(&self, id: &str, secret: &str, token: &str) -> Reply {
        let body = form(&[
            ("token", token),
            ("client_id", id),
            ("client_secret", secret),
        ]);
        self.post_raw(
            "/api/v1/oauth/revoke",
            "application/x-www-form-urlencoded",
            body,
            &[],
        )
        .await
    }

    /// RFC 7662 introspection of `token`, asked by the root client.
    pub async fn introspect(&self, token: &str) -> Reply {
        let body = form(&[
            ("token", token),
            ("client_id", ROOT_ID),
            ("client_secret", ROOT_SECRET),
        ]);
        self.post_raw(
            "/api/v1/oauth/introspect",
            "application/x-www-form-urlencoded",
            body,
            &[],
        )
        .await
    }

    /// A counter or gauge from `/metrics` (0 when absent).
    pub async fn metric(&self, name: &str) -> f64 {
        let mut response = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .expect("request");
        let body = response.body().await.expect("body");
        let text = std::str::from_utf8(&body).expect("text");
        let key = format!("{name} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&key))
            .map_or(0.0, |value| value.parse().expect("a number"))
    }

    /// The stored secret hash of a client.
    pub async fn stored_hash(&self, id: &str) -> String {
        let id = ClientId::parse(id).expect("id");
        self.store
            .run(move |conn| clients::find(conn, &id))
            .await
            .expect("query")
            .expect("a live client")
            .secret_hash
    }

    /// A request with `method` and no body.
    pub async fn request_method(&self, method: &str, path: &str) -> Reply {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).expect("a method");
        read(
            self.http
                .request(method, format!("{}{path}", self.base))
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        read(
            self.http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .expect("request"),
        )
        .await
    }
}

pub fn basic(id: &str, secret: &str) -> String {
    let encode = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", encode(id), encode(secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}
