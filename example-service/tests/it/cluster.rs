//! System tests' set-up: the workspace's built binaries as real processes
//! (`auth_core::testing::process`), each on its own port, stopped when dropped, and a
//! cluster of them. `scripts/test` builds every binary before the tests run.

use std::path::PathBuf;
use std::time::Duration;

use auth_core::testing::{Backend, TestDatabase};
use auth_core::token::SigningKey;

pub const ROOT_ID: &str = "root";
pub const ROOT_SECRET: &str = "system-test-root-secret";
pub const ISSUER: &str = "http://auth.system-test";

pub use auth_core::testing::process::{Process, free_port, sigterm, wait_exit};

/// A binary of this workspace: this crate's own, or one built next to it.
pub fn binary(name: &str) -> PathBuf {
    if name == "example-service" {
        return PathBuf::from(env!("CARGO_BIN_EXE_example-service"));
    }
    auth_core::testing::process::binary(name)
}

/// The environment every service process of a system test needs: database, root client,
/// issuer, a signing key file shared by all, a cheap bcrypt cost; then `extra`, whose
/// entries win over those (a variable set twice takes its last value).
pub fn service_env(
    db: &TestDatabase,
    key: &std::path::Path,
    issuer: &str,
    extra: &[(&str, String)],
) -> Vec<(String, String)> {
    [
        ("DATABASE_URL", db.url_string()),
        ("DATABASE_POOL_SIZE", "4".into()),
        ("OAUTH_ROOT_CLIENT_ID", ROOT_ID.into()),
        ("OAUTH_ROOT_CLIENT_SECRET", ROOT_SECRET.into()),
        ("OAUTH_ISSUER", issuer.into()),
        ("OAUTH_SIGNING_KEY_FILE", key.display().to_string()),
        ("RUST_LOG", "warn".into()),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| ((*k).to_owned(), v.clone()))
    .collect()
}

/// The variables only token-service may hold: admin-service processes never get them.
pub const TOKEN_SERVICE_ONLY: [&str; 2] = ["OAUTH_SIGNING_KEY_FILE", "OAUTH_ROOT_CLIENT_SECRET"];

pub use auth_core::testing::signing_key_file;

pub use auth_core::testing::redis_server::{RedisServer, ping as redis_ping};

/// The shared Redis of the machine (`TEST_REDIS_URL`); skipped outside CI if unreachable.
pub use auth_core::testing::redis_url as shared_redis;

/// token-service, admin-service and example-service processes on one database and Redis.
pub struct Cluster {
    pub tokens: Vec<Process>,
    pub admins: Vec<Process>,
    pub example: Process,
    pub http: awc::Client,
    /// `REDIS_KEY_PREFIX` of every process.
    pub prefix: String,
    /// The signing key file every service shares.
    key: PathBuf,
    _db: TestDatabase,
    _dir: tempfile::TempDir,
}

impl Cluster {
    pub async fn start(
        redis_url: &str,
        token_services: usize,
        admin_services: usize,
    ) -> Option<Self> {
        let db = TestDatabase::create(Backend::Postgres)?;
        let dir = tempfile::tempdir().unwrap();
        let key = signing_key_file(dir.path());
        let prefix = format!("systest{}", free_port());
        let common = service_env(
            &db,
            &key,
            ISSUER,
            &[
                ("REDIS_URL", redis_url.into()),
                ("REDIS_KEY_PREFIX", prefix.clone()),
            ],
        );
        let with = |extra: &[(&str, String)]| {
            let mut env = common.clone();
            env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
            env
        };
        let http = awc::Client::builder()
            .timeout(Duration::from_secs(10))
            .finish();
        let spawn = |name: &str, addr_var: &str, n: usize, extra: &[(&str, String)]| {
            (0..n)
                .map(|_| {
                    let port = free_port();
                    let mut env = with(extra);
                    env.push((addr_var.to_owned(), format!("127.0.0.1:{port}")));
                    if name == "admin-service" {
                        env.retain(|(name, _)| !TOKEN_SERVICE_ONLY.contains(&name.as_str()));
                    }
                    Process::spawn(&binary(name), port, &[], &env, dir.path())
                })
                .collect::<Vec<Process>>()
        };
        let mut tokens = spawn("token-service", "TOKEN_SERVICE_ADDR", token_services, &[]);
        // admin-service holds no private key and no root secret: it verifies with the keys
        // the first token-service publishes.
        let jwks_from = [("TOKEN_SERVICE_URL", tokens[0].base.clone())];
        let mut admins = spawn(
            "admin-service",
            "ADMIN_SERVICE_ADDR",
            admin_services,
            &jwks_from,
        );
        for process in tokens.iter_mut().chain(admins.iter_mut()) {
            process.wait_ready().await;
        }
        let port = free_port();
        let mut example = Process::spawn(
            &binary("example-service"),
            port,
            &[],
            &with(&[
                ("EXAMPLE_SERVICE_ADDR", format!("127.0.0.1:{port}")),
                ("TOKEN_SERVICE_URL", tokens[0].base.clone()),
            ]),
            dir.path(),
        );
        example.wait_live().await;
        Some(Self {
            tokens,
            admins,
            example,
            http,
            prefix,
            key,
            _db: db,
            _dir: dir,
        })
    }

    async fn send(
        &self,
        request: awc::ClientRequest,
        body: Option<String>,
    ) -> (u16, serde_json::Value) {
        let sent = match body {
            Some(body) => request.send_body(body).await,
            None => request.send().await,
        };
        let mut response = sent.unwrap_or_else(|error| {
            let logs: Vec<String> = self
                .tokens
                .iter()
                .chain(&self.admins)
                .chain([&self.example])
                .map(|p| format!("--- {}:\n{}", p.name, p.output()))
                .collect();
            panic!("request failed: {error}\n{}", logs.join("\n"))
        });
        let bytes = response.body().await.unwrap();
        (
            response.status().as_u16(),
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }

    /// A token signed with the cluster's own key and issuer for `client_id`, but for
    /// `audience`: what a token minted for another service looks like.
    pub fn token_for_audience(&self, client_id: &str, audience: &str) -> String {
        let key = SigningKey::from_pem_file(&self.key).unwrap();
        auth_core::token::TokenIssuer::new(key, ISSUER.into(), audience.into(), 3600)
            .issue(
                &auth_core::ids::ClientId::parse(client_id).unwrap(),
                &[],
                auth_core::time::Timestamp::now(),
            )
            .unwrap()
            .access_token
    }

    /// A token from token-service `index`.
    pub async fn token(&self, index: usize, id: &str, secret: &str) -> String {
        let body = form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ]);
        let request = self
            .http
            .post(format!("{}/api/v1/oauth/token", self.tokens[index].base))
            .insert_header(("content-type", "application/x-www-form-urlencoded"));
        let (status, body) = self.send(request, Some(body)).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// An admin call through admin-service `index`.
    pub async fn admin(
        &self,
        index: usize,
        method: &str,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.admins[index].base);
        let request = match method {
            "GET" => self.http.get(url),
            "POST" => self.http.post(url),
            "PUT" => self.http.put(url),
            "DELETE" => self.http.delete(url),
            other => panic!("method {other}"),
        }
        .insert_header(("authorization", format!("Bearer {token}")))
        .insert_header(("content-type", "application/json"));
        self.send(request, body.map(|b| b.to_string())).await
    }

    /// Creates a client with `scopes` using the root client; returns (id, secret).
    pub async fn create_client(&self, scopes: &[&str]) -> (String, String) {
        let root = self.token(0, ROOT_ID, ROOT_SECRET).await;
        let (status, body) = self
            .admin(
                0,
                "POST",
                "/api/v1/oauth/client",
                &root,
                Some(serde_json::json!(scopes)),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        (
            body["client_id"].as_str().unwrap().to_owned(),
            body["client_secret"].as_str().unwrap().to_owned(),
        )
    }

    /// Every process's verdict on `token`: for each, `Some(true)` accepted, `Some(false)`
    /// refused as invalid, `None` could not tell (503).
    pub async fn verdicts(&self, token: &str) -> Vec<(String, Option<bool>)> {
        let mut verdicts = Vec::new();
        for (i, admin) in self.admins.iter().enumerate() {
            let (status, _) = self
                .admin(i, "GET", "/api/v1/oauth/client?size=1", token, None)
                .await;
            verdicts.push((
                format!("admin-service#{i} {}", admin.base),
                status_verdict(status),
            ));
        }
        for token_service in &self.tokens {
            let request = self
                .http
                .post(format!("{}/api/v1/oauth/introspect", token_service.base))
                .insert_header(("content-type", "application/x-www-form-urlencoded"));
            let body = form(&[
                ("token", token),
                ("client_id", ROOT_ID),
                ("client_secret", ROOT_SECRET),
            ]);
            let (status, body) = self.send(request, Some(body)).await;
            let verdict = match status {
                200 => Some(body["active"] == true),
                503 => None,
                other => panic!("introspection answered {other}: {body}"),
            };
            verdicts.push((format!("token-service {}", token_service.base), verdict));
        }
        let request = self
            .http
            .get(format!("{}/whoami", self.example.base))
            .insert_header(("authorization", format!("Bearer {token}")));
        let (status, _) = self.send(request, None).await;
        verdicts.push(("example-service".to_owned(), status_verdict(status)));
        verdicts
    }
}

fn status_verdict(status: u16) -> Option<bool> {
    match status {
        200 => Some(true),
        401 => Some(false),
        503 => None,
        other => panic!("unexpected status {other}"),
    }
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        serializer.append_pair(k, v);
    }
    serializer.finish()
}
