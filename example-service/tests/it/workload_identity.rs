//! Secret-less clients end to end: set up through admin-service's API, authenticated by the
//! SDK (`auth_core::client`) at real token-service processes sharing one database and
//! Redis, their tokens accepted by example-service.

use std::time::{Duration, Instant};

use auth_core::client::{PrivateKey, TokenSource};
use auth_core::ids::ClientId;
use auth_core::testing::issuer::TestIssuer;
use auth_core::time::Timestamp;
use serde_json::json;

use crate::cluster::{Cluster, ISSUER, ROOT_ID, ROOT_SECRET, form, shared_redis};

const HOUR: Duration = Duration::from_secs(3600);

impl Cluster {
    /// POST a form to token-service `index`'s token endpoint: (status, body).
    async fn token_form(&self, index: usize, pairs: &[(&str, &str)]) -> (u16, serde_json::Value) {
        let mut response = self
            .http
            .post(format!("{}/api/v1/oauth/token", self.tokens[index].base))
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .send_body(form(pairs))
            .await
            .unwrap();
        let body = response.body().await.unwrap();
        (
            response.status().as_u16(),
            serde_json::from_slice(&body).unwrap_or_default(),
        )
    }

    async fn example_status(&self, path: &str, token: &str) -> u16 {
        self.http
            .get(format!("{}{path}", self.example.base))
            .insert_header(("authorization", format!("Bearer {token}")))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

/// The change channel delivers in milliseconds, not synchronously: polls until `check`
/// answers `expected`, failing after 10 s.
async fn until<F, Fut>(what: &str, expected: u16, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = u16>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = check().await;
        if status == expected {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: still {status}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

fn token_url(cluster: &Cluster, index: usize) -> String {
    format!("{}/api/v1/oauth/token", cluster.tokens[index].base)
}

/// A Kubernetes-style workload: the issuer is registered and the service account bound to
/// a secret-less client through the admin API; the SDK reads the projected token from its
/// file; changing the binding stops the old workload on every replica at once.
#[actix_web::test]
async fn a_workload_authenticates_with_its_platform_token_alone() {
    let Some(redis) = shared_redis() else { return };
    let Some(cluster) = Cluster::start(&redis, 2, 1).await else {
        return;
    };
    let issuer = TestIssuer::start().await;
    let root = cluster.token(0, ROOT_ID, ROOT_SECRET).await;
    let (status, body) = cluster
        .admin(
            0,
            "POST",
            "/api/v1/oauth/issuer",
            &root,
            Some(json!({"issuer": issuer.url(), "jwks_uri": issuer.jwks_uri()})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let api = TestIssuer::service_account("payments", "api");
    let (status, body) = cluster
        .admin(
            0,
            "POST",
            "/api/v1/oauth/client",
            &root,
            Some(json!({
                "scopes": ["dataset:read"],
                "identities": [{"issuer": issuer.url(), "subject": api}],
            })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("client_secret").is_none(), "secret-less: {body}");
    let client_id = body["client_id"].as_str().unwrap().to_owned();

    // The kubelet's projected token, in a file the SDK re-reads before each request.
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, issuer.mint(&api, &[ISSUER], HOUR)).unwrap();
    let source = TokenSource::builder(token_url(&cluster, 0))
        .token_file(&token_file)
        .build()
        .unwrap();
    let token = source.token().await.unwrap();
    assert_eq!(token.scope, "dataset:read");
    assert_eq!(cluster.example_status("/datasets", &token.value).await, 200);

    // Both replicas accept the platform token, as often as the platform reuses it.
    let platform_token = std::fs::read_to_string(&token_file).unwrap();
    for index in [0, 1, 1] {
        let (status, body) = cluster
            .token_form(
                index,
                &[
                    ("grant_type", "client_credentials"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &platform_token),
                ],
            )
            .await;
        assert_eq!(status, 200, "replica {index}: {body}");
    }

    // Rebinding the client to another service account: as soon as the change reaches them
    // (milliseconds, over the change channel), every replica refuses the old workload
    // (each had remembered its token), and its older tokens go.
    let (status, body) = cluster
        .admin(
            0,
            "PUT",
            &format!("/api/v1/oauth/client/{client_id}/identities"),
            &root,
            Some(json!([{"issuer": issuer.url(), "subject": TestIssuer::service_account("payments", "worker")}])),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for index in [0, 1] {
        let pairs = [
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", platform_token.as_str()),
        ];
        until(
            &format!("replica {index} refusing the unbound workload"),
            401,
            || async { cluster.token_form(index, &pairs).await.0 },
        )
        .await;
    }
    until("its older token refused", 401, || {
        cluster.example_status("/datasets", &token.value)
    })
    .await;
}

/// `private_key_jwt` through the SDK: the service holds a private key, the client only
/// its public half; an assertion is single use across replicas.
#[actix_web::test]
async fn a_service_authenticates_with_its_private_key() {
    let Some(redis) = shared_redis() else { return };
    let Some(cluster) = Cluster::start(&redis, 2, 1).await else {
        return;
    };
    let (key, pem) = PrivateKey::generate_ed25519().unwrap();
    let root = cluster.token(0, ROOT_ID, ROOT_SECRET).await;
    let (status, body) = cluster
        .admin(
            0,
            "POST",
            "/api/v1/oauth/client",
            &root,
            Some(json!({"scopes": ["dataset:read"], "keys": [key.public_jwk()]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("client_secret").is_none());
    let client_id = ClientId::parse(body["client_id"].as_str().unwrap()).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("client-key.pem");
    std::fs::write(&key_file, pem.as_bytes()).unwrap();
    let source = TokenSource::builder(token_url(&cluster, 1))
        .client_id(client_id.clone())
        .private_key_file(&key_file)
        .unwrap()
        // The service's identity is its issuer URL, not the address it is reached at.
        .assertion_audience(ISSUER)
        .build()
        .unwrap();
    let token = source.token().await.unwrap();
    assert_eq!(cluster.example_status("/datasets", &token.value).await, 200);

    // One assertion, two replicas: the second use is a replay.
    let assertion = key.assertion(&client_id, ISSUER, Timestamp::now()).unwrap();
    let pairs = [
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion.as_str()),
    ];
    assert_eq!(cluster.token_form(0, &pairs).await.0, 200);
    let (status, body) = cluster.token_form(1, &pairs).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client");

    // Replacing the key revokes the tokens issued under the old one, everywhere.
    let (other, _) = PrivateKey::generate_ed25519().unwrap();
    let (status, _) = cluster
        .admin(
            0,
            "PUT",
            &format!("/api/v1/oauth/client/{client_id}/keys"),
            &root,
            Some(json!({"keys": [other.public_jwk()]})),
        )
        .await;
    assert_eq!(status, 200);
    until("the token of the replaced key refused", 401, || {
        cluster.example_status("/datasets", &token.value)
    })
    .await;
    // And, once the change reached its replica, the old key gets no token.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        source.invalidate().await;
        if source.token().await.is_err() {
            break;
        }
        assert!(Instant::now() < deadline, "the old key still works");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A more specific binding wins as soon as it exists, even for a platform token every
/// replica already remembered as another client's (DESIGN: "the most specific binding
/// wins"): adding it announces every client bound through that issuer.
#[actix_web::test]
async fn a_new_exact_binding_takes_over_from_a_remembered_pattern() {
    let Some(redis) = shared_redis() else { return };
    let Some(cluster) = Cluster::start(&redis, 2, 1).await else {
        return;
    };
    let issuer = TestIssuer::start().await;
    let root = cluster.token(0, ROOT_ID, ROOT_SECRET).await;
    let register = json!({"issuer": issuer.url(), "jwks_uri": issuer.jwks_uri()});
    let (status, _) = cluster
        .admin(0, "POST", "/api/v1/oauth/issuer", &root, Some(register))
        .await;
    assert_eq!(status, 201);
    let create = |subject: String| json!({"scopes": [], "identities": [{"issuer": issuer.url(), "subject": subject}]});
    let (_, namespace) = cluster
        .admin(
            0,
            "POST",
            "/api/v1/oauth/client",
            &root,
            Some(create("system:serviceaccount:payments:*".to_owned())),
        )
        .await;
    let api = TestIssuer::service_account("payments", "api");
    let platform_token = issuer.mint(&api, &[ISSUER], HOUR);
    let pairs = [
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", platform_token.as_str()),
    ];
    // Whose token it is, as example-service sees it (GET /whoami).
    let client_of = |body: serde_json::Value| {
        let token = body["access_token"].as_str().unwrap_or_default().to_owned();
        let request = cluster
            .http
            .get(format!("{}/whoami", cluster.example.base))
            .insert_header(("authorization", format!("Bearer {token}")));
        async move {
            let mut response = request.send().await.unwrap();
            let caller: serde_json::Value = response.json().await.unwrap_or_default();
            caller["client_id"].as_str().unwrap_or_default().to_owned()
        }
    };
    for index in [0, 1] {
        let (status, body) = cluster.token_form(index, &pairs).await;
        assert_eq!(status, 200);
        assert_eq!(
            client_of(body).await,
            namespace["client_id"].as_str().unwrap()
        );
    }
    let (status, exact) = cluster
        .admin(
            0,
            "POST",
            "/api/v1/oauth/client",
            &root,
            Some(create(api.clone())),
        )
        .await;
    assert_eq!(status, 200, "{exact}");
    let exact_id = exact["client_id"].as_str().unwrap().to_owned();
    for index in [0, 1] {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = cluster.token_form(index, &pairs).await;
            assert_eq!(status, 200);
            if client_of(body).await == exact_id {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "replica {index} keeps the pattern's client"
            );
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
