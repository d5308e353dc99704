//! The SDK against a test double of the token endpoint: a local server that records each
//! request's form and `Authorization` header and answers a token.

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use super::*;

#[derive(Debug, Clone)]
struct Captured {
    authorization: Option<String>,
    form: Vec<(String, String)>,
}

impl Captured {
    fn all(&self, name: &str) -> Vec<&str> {
        self.form
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn one(&self, name: &str) -> Option<&str> {
        let values = self.all(name);
        assert!(values.len() <= 1, "{name} sent {} times", values.len());
        values.first().copied()
    }
}

struct TokenEndpoint {
    url: String,
    captured: Arc<Mutex<Vec<Captured>>>,
    _server: actix_web::dev::ServerHandle,
}

impl TokenEndpoint {
    /// Answers every request with a fresh token, or with 401 `invalid_client` when
    /// `refuse`.
    async fn start(refuse: bool) -> Self {
        let (listener, base) = crate::testing::http::listener();
        let captured = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&captured);
        let server = HttpServer::new(move || {
            let shared = Arc::clone(&shared);
            App::new().route(
                "/api/v1/oauth/token",
                web::post().to(move |request: HttpRequest, body: web::Bytes| {
                    let shared = Arc::clone(&shared);
                    async move {
                        let mut captured = shared.lock().unwrap();
                        captured.push(Captured {
                            authorization: request
                                .headers()
                                .get("authorization")
                                .map(|v| v.to_str().unwrap().to_owned()),
                            form: form_urlencoded::parse(&body).into_owned().collect(),
                        });
                        if refuse {
                            return HttpResponse::Unauthorized()
                                .json(serde_json::json!({ "error": "invalid_client" }));
                        }
                        HttpResponse::Ok().json(serde_json::json!({
                            "access_token": format!("at-{}", captured.len()),
                            "token_type": "Bearer",
                            "expires_in": 3600,
                            "scope": "client:read",
                        }))
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self {
            url: format!("{base}/api/v1/oauth/token"),
            captured,
            _server: handle,
        }
    }

    fn requests(&self) -> Vec<Captured> {
        self.captured.lock().unwrap().clone()
    }

    fn last(&self) -> Captured {
        self.requests()
            .pop()
            .expect("a request reached the endpoint")
    }
}

#[actix_web::test]
async fn private_key_jwt_sends_a_fresh_signed_assertion_each_time() {
    let endpoint = TokenEndpoint::start(false).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client-key.pem");
    std::fs::write(&path, p256_pem()).unwrap();
    let key = PrivateKey::from_pem_file(&path).unwrap();
    let source = TokenSource::builder(&endpoint.url)
        .client_id(client_id())
        .private_key_file(&path)
        .unwrap()
        .scope("client:read")
        .resources(["https://a.example", "https://b.example"])
        .build()
        .unwrap();
    assert_eq!(source.token().await.unwrap().value, "at-1");
    let first = endpoint.last();
    assert_eq!(
        first.authorization, None,
        "no Basic header with an assertion"
    );
    assert_eq!(first.one("grant_type"), Some("client_credentials"));
    assert_eq!(
        first.one("client_assertion_type"),
        Some(JWT_BEARER_ASSERTION_TYPE)
    );
    assert_eq!(first.one("client_id"), Some("orders-service"));
    assert_eq!(first.one("client_secret"), None);
    assert_eq!(first.one("scope"), Some("client:read"));
    assert_eq!(
        first.all("resource"),
        ["https://a.example", "https://b.example"]
    );
    let assertion = first.one("client_assertion").unwrap();
    let header = jsonwebtoken::decode_header(assertion).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    assert_eq!(header.kid.as_deref(), Some(key.thumbprint()));
    let claims = verify(assertion, &key.public_jwk(), &endpoint.url);
    check_assertion_claims(&claims, &endpoint.url);

    // Cached: no second request until invalidated, then a new assertion.
    assert_eq!(source.token().await.unwrap().value, "at-1");
    assert_eq!(endpoint.requests().len(), 1);
    source.invalidate().await;
    assert_eq!(source.token().await.unwrap().value, "at-2");
    let second = endpoint.last();
    let second_claims = verify(
        second.one("client_assertion").unwrap(),
        &key.public_jwk(),
        &endpoint.url,
    );
    assert_ne!(
        second_claims["jti"], claims["jti"],
        "a fresh jti per request"
    );
    assert_eq!(source.fetch_count(), 2);
}

#[actix_web::test]
async fn the_assertion_audience_can_be_set() {
    let endpoint = TokenEndpoint::start(false).await;
    let (key, _) = PrivateKey::generate_ed25519().unwrap();
    let jwk = key.public_jwk();
    let source = TokenSource::builder(&endpoint.url)
        .client_id(client_id())
        .private_key(key)
        .key_id(Some("mine".to_owned()))
        .assertion_audience("https://auth.example")
        .build()
        .unwrap();
    source.token().await.unwrap();
    let assertion = endpoint.last().one("client_assertion").unwrap().to_owned();
    assert_eq!(
        jsonwebtoken::decode_header(&assertion)
            .unwrap()
            .kid
            .as_deref(),
        Some("mine")
    );
    let claims = verify(&assertion, &jwk, "https://auth.example");
    check_assertion_claims(&claims, "https://auth.example");
}

#[actix_web::test]
async fn the_token_file_is_read_again_before_each_request() {
    let endpoint = TokenEndpoint::start(false).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    std::fs::write(&path, "first.platform.token\n").unwrap();
    let source = TokenSource::builder(&endpoint.url)
        .token_file(&path)
        .build()
        .unwrap();
    source.token().await.unwrap();
    let first = endpoint.last();
    assert_eq!(first.authorization, None);
    assert_eq!(
        first.one("client_assertion_type"),
        Some(JWT_BEARER_ASSERTION_TYPE)
    );
    assert_eq!(first.one("client_assertion"), Some("first.platform.token"));
    assert_eq!(
        first.one("client_id"),
        None,
        "no client_id unless configured"
    );

    // The kubelet rotates the token: the next request sends the new one.
    std::fs::write(&path, "second.platform.token").unwrap();
    source.invalidate().await;
    source.token().await.unwrap();
    assert_eq!(
        endpoint.last().one("client_assertion"),
        Some("second.platform.token")
    );

    // Emptied or removed: a clear error naming the file, and no request.
    std::fs::write(&path, "").unwrap();
    source.invalidate().await;
    let error = source.token().await.unwrap_err().to_string();
    assert!(error.contains(&path.display().to_string()), "{error}");
    assert!(error.contains("empty"), "{error}");
    std::fs::remove_file(&path).unwrap();
    let error = source.token().await.unwrap_err().to_string();
    assert!(error.contains(&path.display().to_string()), "{error}");
    assert_eq!(endpoint.requests().len(), 2);

    // With a client id configured, it is sent too.
    std::fs::write(&path, "third.platform.token").unwrap();
    let source = TokenSource::builder(&endpoint.url)
        .client_id(client_id())
        .token_file(&path)
        .build()
        .unwrap();
    source.token().await.unwrap();
    let last = endpoint.last();
    assert_eq!(last.one("client_id"), Some("orders-service"));
    assert_eq!(last.one("client_assertion"), Some("third.platform.token"));
}

#[actix_web::test]
async fn secrets_go_in_basic_or_in_the_form() {
    let endpoint = TokenEndpoint::start(false).await;
    let secret = ClientSecret::parse("ocs_a+b/c=d").unwrap();
    let basic = TokenSource::builder(&endpoint.url)
        .client_id(client_id())
        .client_secret(secret.clone())
        .build()
        .unwrap();
    basic.token().await.unwrap();
    let request = endpoint.last();
    let expected =
        base64::engine::general_purpose::STANDARD.encode("orders-service:ocs_a%2Bb%2Fc%3Dd");
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Basic {expected}").as_str())
    );
    assert_eq!(request.one("client_secret"), None);
    assert_eq!(request.one("client_assertion"), None);
    assert_eq!(request.one("resource"), None);
    assert_eq!(request.one("scope"), None);

    let post = TokenSource::builder(&endpoint.url)
        .client_id(client_id())
        .client_secret_post(secret)
        .resource("https://api.example")
        .build()
        .unwrap();
    post.token().await.unwrap();
    let request = endpoint.last();
    assert_eq!(request.authorization, None);
    assert_eq!(request.one("client_id"), Some("orders-service"));
    assert_eq!(request.one("client_secret"), Some("ocs_a+b/c=d"));
    assert_eq!(request.all("resource"), ["https://api.example"]);
}

#[actix_web::test]
async fn a_refusal_names_the_error_and_never_the_credential() {
    let endpoint = TokenEndpoint::start(true).await;
    let (key, pem) = PrivateKey::generate_ed25519().unwrap();
    let source = TokenSource::builder(&endpoint.url)
        .client_id(client_id())
        .private_key(key)
        .build()
        .unwrap();
    let error = source.token().await.unwrap_err();
    let text = format!("{error} {error:?} {source:?}");
    assert!(text.contains("invalid_client"), "{text}");
    let assertion = endpoint.last().one("client_assertion").unwrap().to_owned();
    assert!(!text.contains(&assertion), "{text}");
    let key_body: String = pem.lines().nth(1).unwrap().to_owned();
    assert!(!text.contains(&key_body), "{text}");
}
