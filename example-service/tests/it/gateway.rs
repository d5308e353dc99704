//! The compose gateway for real: nginx with deploy/gateway/nginx.conf in front of one
//! token-service and one admin-service, used through the gateway's port only, as a
//! fidesops user would (one base URL for every endpoint).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use auth_core::testing::{Backend, TestDatabase, unavailable};
use serde_json::json;

use crate::cluster::{
    Process, ROOT_ID, ROOT_SECRET, TOKEN_SERVICE_ONLY, binary, free_port, redis_ping, service_env,
    signing_key_file,
};
use crate::http::{call, token_request};

const CONF: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/gateway/nginx.conf");

/// nginx from PATH (or Debian's /usr/sbin, often not on a user's PATH).
fn nginx_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file())
        .or_else(|| unavailable("nginx (for the gateway test)", "not found on PATH"))
}

/// deploy/gateway/nginx.conf with only the listen port, the upstream addresses and the
/// writable /tmp/ paths changed. Fails when the file no longer has what is replaced.
fn rewrite(conf: &str, listen: u16, token: u16, admin: u16, dir: &Path) -> String {
    let replacements = [
        ("listen 8080;", format!("listen 127.0.0.1:{listen};")),
        (
            "server token-service:8080;",
            format!("server 127.0.0.1:{token};"),
        ),
        (
            "server admin-service:8081;",
            format!("server 127.0.0.1:{admin};"),
        ),
        (" /tmp/", format!(" {}/", dir.display())),
    ];
    replacements
        .iter()
        .fold(conf.to_owned(), |conf, (from, to)| {
            assert!(
                conf.contains(from),
                "nginx.conf no longer contains {from:?}"
            );
            conf.replace(from, to)
        })
}

/// nginx in the foreground, stopped (SIGTERM, which also stops its workers) when dropped.
struct Gateway {
    child: Child,
    log: PathBuf,
    base: String,
}

impl Gateway {
    fn start(nginx: &Path, port: u16, token: u16, admin: u16, dir: &Path) -> Self {
        let conf = rewrite(
            &std::fs::read_to_string(CONF).unwrap(),
            port,
            token,
            admin,
            dir,
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = dir.join("nginx.log");
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.join("error.log"))
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap();
        Self {
            child,
            log,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the gateway proxies to token-service.
    async fn wait_ready(&mut self, http: &awc::Client) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let url = format!("{}/.well-known/jwks.json", self.base);
            if let Ok(response) = http.get(url).send().await
                && response.status().is_success()
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("nginx exited with {status}:\n{}", self.output());
            }
            assert!(
                Instant::now() < deadline,
                "the gateway never answered:\n{}",
                self.output()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        crate::cluster::sigterm(self.child.id());
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[actix_web::test]
async fn the_fidesops_tutorial_works_through_the_gateway_alone() {
    let Some(nginx) = nginx_binary() else { return };
    let Some(db) = TestDatabase::create(Backend::Postgres) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // nginx's workers run as an unprivileged user when the test runs as root.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let key = signing_key_file(dir.path());
    let (gateway_port, token_port, admin_port) = (free_port(), free_port(), free_port());
    let base = format!("http://127.0.0.1:{gateway_port}");
    // The issuer is the public URL: the gateway's.
    let mut extra = Vec::new();
    let redis_url =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let settings = auth_core::shared_redis::RedisSettings::new(redis_url.clone(), "ping");
    if redis_ping(&settings).is_ok() {
        extra.push(("REDIS_URL", redis_url));
        extra.push(("REDIS_KEY_PREFIX", format!("gateway{gateway_port}")));
    }
    let env = |addr_var: &str, port: u16| {
        let mut extra = extra.clone();
        extra.push((addr_var, format!("127.0.0.1:{port}")));
        service_env(&db, &key, &base, &extra)
    };
    let http = awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish();
    let mut token_service = Process::spawn(
        &binary("token-service"),
        token_port,
        &[],
        &env("TOKEN_SERVICE_ADDR", token_port),
        dir.path(),
    );
    // As in docker-compose.yml: admin-service without the root secret or a signing key,
    // verifying with the keys token-service publishes on the internal network.
    let mut admin_env = env("ADMIN_SERVICE_ADDR", admin_port);
    admin_env.retain(|(name, _)| !TOKEN_SERVICE_ONLY.contains(&name.as_str()));
    admin_env.push((
        "TOKEN_SERVICE_URL".to_owned(),
        format!("http://127.0.0.1:{token_port}"),
    ));
    let mut admin_service = Process::spawn(
        &binary("admin-service"),
        admin_port,
        &[],
        &admin_env,
        dir.path(),
    );
    token_service.wait_live().await;
    admin_service.wait_ready().await;
    let mut gateway = Gateway::start(&nginx, gateway_port, token_port, admin_port, dir.path());
    gateway.wait_ready(&http).await;

    // The tutorial, through the gateway only. 1. A token for the root client.
    let (request, body) = token_request(&http, &base, ROOT_ID, ROOT_SECRET);
    let root = call(request, Some(body)).await;
    assert_eq!(root.status, 200, "{}\n{}", root.json, gateway.output());
    assert_eq!(root.json["token_type"], "Bearer");
    assert_eq!(root.header("cache-control"), Some("no-store"));
    let root_token = root.json["access_token"].as_str().unwrap().to_owned();

    // 2. A client, its scopes given as a bare JSON array (fidesops' body).
    let admin = |method: &str, path: &str, token: &str| {
        http.request(method.parse().unwrap(), format!("{base}{path}"))
            .insert_header(("authorization", format!("Bearer {token}")))
            .insert_header(("content-type", "application/json"))
    };
    let created = call(
        admin("POST", "/api/v1/oauth/client", &root_token),
        Some(json!(["client:read"]).to_string()),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.json);
    let id = created.json["client_id"].as_str().unwrap().to_owned();
    let secret = created.json["client_secret"].as_str().unwrap().to_owned();

    // 3. A token for the new client, with its scope.
    let (request, body) = token_request(&http, &base, &id, &secret);
    let issued = call(request, Some(body)).await;
    assert_eq!(issued.status, 200, "{}", issued.json);
    assert_eq!(issued.json["scope"], "client:read");
    let client_token = issued.json["access_token"].as_str().unwrap().to_owned();

    // 4. The admin API with the new client's token.
    let listed = call(admin("GET", "/api/v1/oauth/client", &client_token), None).await;
    assert_eq!(listed.status, 200, "{}", listed.json);
    assert!(listed.json.to_string().contains(&id), "{}", listed.json);
    // ... and only within its scope.
    let refused = call(
        admin("POST", "/api/v1/oauth/client", &client_token),
        Some(json!(["client:read"]).to_string()),
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.json);

    // The well-known documents come from token-service, naming the gateway.
    let jwks = call(http.get(format!("{base}/.well-known/jwks.json")), None).await;
    let direct = call(
        http.get(format!("{}/.well-known/jwks.json", token_service.base)),
        None,
    )
    .await;
    assert_eq!(jwks.status, 200);
    assert!(jwks.json["keys"][0]["kid"].is_string(), "{}", jwks.json);
    assert_eq!(jwks.json, direct.json);
    let metadata = call(
        http.get(format!("{base}/.well-known/oauth-authorization-server")),
        None,
    )
    .await;
    assert_eq!(metadata.status, 200);
    assert_eq!(metadata.json["issuer"], base.as_str());
    assert_eq!(
        metadata.json["token_endpoint"],
        format!("{base}/api/v1/oauth/token")
    );

    // Token-service paths reach token-service: it answers a GET with its JSON 405, where
    // admin-service would have answered 404 or 401.
    for path in [
        "/api/v1/oauth/token",
        "/api/v1/oauth/revoke",
        "/api/v1/oauth/introspect",
    ] {
        let reply = call(http.get(format!("{base}{path}")), None).await;
        assert_eq!(reply.status, 405, "GET {path}: {}", reply.json);
        assert_eq!(reply.json["error"], "invalid_request", "GET {path}");
    }
    // The console is admin-service's: its page and files with their CSP, and its sign-in
    // relay (to token-service, answering a token the admin API takes).
    for path in ["/console", "/console/", "/console/assets/app.js"] {
        let reply = call(http.get(format!("{base}{path}")), None).await;
        assert_eq!(reply.status, 200, "GET {path}");
        assert!(
            reply
                .header("content-security-policy")
                .is_some_and(|csp| csp.starts_with("default-src 'none';")),
            "GET {path}: the answer is admin-service's"
        );
    }
    let sign_in_form = auth_core::testing::http::form(&[
        ("grant_type", "client_credentials"),
        ("client_id", ROOT_ID),
        ("client_secret", ROOT_SECRET),
    ]);
    let console_sign_in = call(
        http.post(format!("{base}/console/token"))
            .insert_header(("content-type", "application/x-www-form-urlencoded")),
        Some(sign_in_form),
    )
    .await;
    assert_eq!(console_sign_in.status, 200, "{}", console_sign_in.json);
    let console_token = console_sign_in.json["access_token"].as_str().unwrap();
    let listed = call(admin("GET", "/api/v1/oauth/client", console_token), None).await;
    assert_eq!(listed.status, 200, "{}", listed.json);

    // Every admin path reaches admin-service: without a token, its Bearer challenge, where
    // token-service would have answered 404.
    for (method, path) in [
        ("GET", "/api/v1/oauth/client"),
        ("POST", "/api/v1/oauth/client"),
        ("GET", "/api/v1/oauth/client/some-id"),
        ("DELETE", "/api/v1/oauth/client/some-id"),
        ("PUT", "/api/v1/oauth/client/some-id/scope"),
        ("POST", "/api/v1/oauth/client/some-id/secret"),
        ("POST", "/api/v1/oauth/client/some-id/revoke"),
        ("GET", "/api/v1/oauth/scope"),
        ("GET", "/api/v1/oauth/scopes"),
        ("DELETE", "/api/v1/oauth/scope/some:scope"),
        ("POST", "/api/v1/oauth/revocation"),
        ("GET", "/api/v1/oauth/audit"),
        // Dot segments are resolved before routing, and the upstream gets the resolved path.
        ("GET", "/.well-known/../api/v1/oauth/client"),
        ("GET", "/api/v1/oauth/token/../client"),
    ] {
        let reply = call(
            http.request(method.parse().unwrap(), format!("{base}{path}")),
            None,
        )
        .await;
        assert_eq!(reply.status, 401, "{method} {path}: {}", reply.json);
        assert!(
            reply
                .header("www-authenticate")
                .is_some_and(|h| h.starts_with("Bearer")),
            "{method} {path}: the answer is admin-service's"
        );
    }
    // Nothing else is proxied (health, OpenAPI, unknown paths): a JSON 404 from the
    // gateway or, under /api/v1/oauth/ and /.well-known/, from the service that owns it.
    for path in [
        "/",
        "/nope",
        "/health/ready",
        "/health/live",
        "/openapi.json",
        "/metrics",
        "/api/v1/oauthx",
        "/api/v1/oauth/nope",
        "/consolex",
        "/console/nope",
        "/.well-known/nope",
    ] {
        let reply = call(http.get(format!("{base}{path}")), None).await;
        assert_eq!(reply.status, 404, "GET {path}: {}", reply.json);
        assert_eq!(reply.json["error"], "not_found", "GET {path}");
        assert!(
            reply
                .header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "GET {path}"
        );
    }

    // The services themselves keep to their own routes: no admin route on token-service,
    // no token route on admin-service.
    let direct_admin_on_token = call(
        http.get(format!("{}/api/v1/oauth/client", token_service.base))
            .insert_header(("authorization", format!("Bearer {root_token}"))),
        None,
    )
    .await;
    assert_eq!(direct_admin_on_token.status, 404);
    let (request, body) = token_request(&http, &admin_service.base, ROOT_ID, ROOT_SECRET);
    assert_eq!(call(request, Some(body)).await.status, 404);

    // With token-service gone, the gateway answers a JSON 503, not an HTML page.
    token_service.sigterm();
    let status = token_service.wait_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "{}", token_service.output());
    let (request, body) = token_request(&http, &base, ROOT_ID, ROOT_SECRET);
    let unavailable = call(request, Some(body)).await;
    assert_eq!(unavailable.status, 503, "{}", unavailable.json);
    assert_eq!(unavailable.json["error"], "temporarily_unavailable");
    assert!(unavailable.header("retry-after").is_some());
}
