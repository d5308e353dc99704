//! Workload identity: a Kubernetes-style service-account token from a trusted issuer
//! (`auth_core::testing::issuer::TestIssuer`, serving discovery and JWKS on loopback)
//! authenticates the client its subject is bound to, with no secret. Deleted issuers and
//! https key endpoints are in `workload_issuers`.

use std::time::Duration;

use auth_core::ids::ClientId;
use auth_core::store::federation::{self, Identity, TrustedIssuer};
use auth_core::testing::Backend;
use auth_core::testing::issuer::TestIssuer;
use auth_core::time::Timestamp;
use serde_json::json;

use crate::support::{ISSUER, Reply, TestApp};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
pub(crate) const HOUR: Duration = Duration::from_secs(3600);

impl TestApp {
    /// Registers `issuer` as trusted, its keys from its `jwks_uri` (or inline).
    pub(crate) async fn trust(&self, issuer: &TestIssuer, inline: bool) -> String {
        if inline {
            self.register(issuer, None, Some(issuer.jwks().to_string()))
                .await
        } else {
            self.register(issuer, Some(issuer.jwks_uri()), None).await
        }
    }

    /// Registers `issuer` with its keys at `jwks_uri` or inline (`jwks`).
    pub(crate) async fn register(
        &self,
        issuer: &TestIssuer,
        jwks_uri: Option<String>,
        jwks: Option<String>,
    ) -> String {
        let row = TrustedIssuer {
            id: ClientId::generate().as_str().to_owned(),
            issuer: issuer.url().to_owned(),
            jwks_uri,
            jwks,
            audiences: None,
            created_at: Timestamp::now().as_micros(),
        };
        let id = row.id.clone();
        assert!(
            self.store
                .run(move |conn| federation::insert_issuer(conn, &row))
                .await
                .unwrap()
        );
        id
    }

    /// A secret-less client with `scopes`, bound to `subjects` of `issuer`.
    pub(crate) async fn workload_client(
        &self,
        scopes: &str,
        issuer: &TestIssuer,
        subjects: &[&str],
    ) -> String {
        let id = self.insert_client("none", scopes).await;
        let client = ClientId::parse(&id).unwrap();
        let wanted: Vec<Identity> = subjects
            .iter()
            .map(|subject| Identity {
                issuer: issuer.url().to_owned(),
                subject: (*subject).to_owned(),
            })
            .collect();
        self.store
            .run(move |conn| federation::replace_identities(conn, &client, &wanted))
            .await
            .unwrap()
            .unwrap();
        id
    }

    pub(crate) async fn token_for_workload(&self, platform_token: &str) -> Reply {
        self.token_form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", platform_token),
        ])
        .await
    }
}

pub(crate) fn service_account(name: &str) -> String {
    TestIssuer::service_account("payments", name)
}

auth_core::on_both_backends!(
    crate::support::TestApp;
    a_bound_service_account_gets_its_clients_token,
    the_most_specific_binding_wins,
    bad_platform_tokens_get_the_same_401,
);

async fn a_bound_service_account_gets_its_clients_token(app: TestApp) {
    let issuer = TestIssuer::start().await;
    app.trust(&issuer, false).await;
    let api = service_account("api");
    let id = app.workload_client("client:read", &issuer, &[&api]).await;
    let platform_token = issuer.mint(&api, &[ISSUER], HOUR);
    let reply = app.token_for_workload(&platform_token).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["scope"], "client:read");
    let verified = app
        .verifier
        .verify(reply.token(), Timestamp::now())
        .unwrap();
    assert_eq!(verified.client_id.as_str(), id);
    // Platform tokens are reused until they expire: no single use for them.
    assert_eq!(app.token_for_workload(&platform_token).await.status, 200);
    // The token never outlives the platform token.
    let short = issuer.mint(&api, &[ISSUER], Duration::from_secs(90));
    let reply = app.token_for_workload(&short).await;
    assert_eq!(reply.status, 200);
    let expires_in = reply.body["expires_in"].as_i64().unwrap();
    assert!((85..=90).contains(&expires_in), "{expires_in}");
    // An inline JWKS works the same.
    let inline = TestIssuer::start().await;
    app.trust(&inline, true).await;
    app.workload_client("", &inline, &[&api]).await;
    assert_eq!(
        app.token_for_workload(&inline.mint(&api, &[ISSUER], HOUR))
            .await
            .status,
        200
    );
}

async fn the_most_specific_binding_wins(app: TestApp) {
    let issuer = TestIssuer::start().await;
    app.trust(&issuer, false).await;
    let namespace = app
        .workload_client("scope:read", &issuer, &["system:serviceaccount:payments:*"])
        .await;
    let api = app
        .workload_client("client:read", &issuer, &[&service_account("api")])
        .await;
    for (name, expected) in [("api", &api), ("worker", &namespace)] {
        let reply = app
            .token_for_workload(&issuer.mint(&service_account(name), &[ISSUER], HOUR))
            .await;
        assert_eq!(reply.status, 200, "{name}");
        let verified = app
            .verifier
            .verify(reply.token(), Timestamp::now())
            .unwrap();
        assert_eq!(verified.client_id.as_str(), expected, "{name}");
    }
    let elsewhere = TestIssuer::service_account("billing", "api");
    let reply = app
        .token_for_workload(&issuer.mint(&elsewhere, &[ISSUER], HOUR))
        .await;
    assert_eq!(reply.status, 401, "no binding for another namespace");
    // Two clients cannot bind the same exact subject.
    let other = app.insert_client("none", "").await;
    let client = ClientId::parse(&other).unwrap();
    let taken = vec![Identity {
        issuer: issuer.url().to_owned(),
        subject: service_account("api"),
    }];
    let bound = app
        .store
        .run(move |conn| federation::replace_identities(conn, &client, &taken))
        .await
        .unwrap();
    assert!(matches!(bound, Err(federation::BindError::Taken(_))));
}

async fn bad_platform_tokens_get_the_same_401(app: TestApp) {
    let issuer = TestIssuer::start().await;
    app.trust(&issuer, false).await;
    let api = service_account("api");
    app.workload_client("", &issuer, &[&api]).await;
    let stranger = TestIssuer::start().await;
    let now = Timestamp::now().as_secs();
    let with = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut claims = issuer.claims(&api, &[ISSUER], HOUR);
        change(&mut claims);
        issuer.mint_claims(claims)
    };
    let cases = [
        ("another audience", issuer.mint(&api, &["https://elsewhere.example"], HOUR)),
        ("expired", with(&|c| {
            c["iat"] = json!(now - 7200);
            c["nbf"] = json!(now - 7200);
            c["exp"] = json!(now - 61);
        })),
        ("not valid yet", with(&|c| c["nbf"] = json!(now + 300))),
        ("expired within the clock skew (a token would expire at once)", with(&|c| c["exp"] = json!(now - 5))),
        ("an untrusted issuer", stranger.mint(&api, &[ISSUER], HOUR)),
        ("a trusted issuer's name, another's key", {
            let mut claims = stranger.claims(&api, &[ISSUER], HOUR);
            claims["iss"] = json!(issuer.url());
            stranger.mint_with(json!({"alg": "RS256", "kid": issuer.kid()}), claims)
        }),
        ("alg none", issuer.mint_with(json!({"alg": "none", "kid": issuer.kid()}), issuer.claims(&api, &[ISSUER], HOUR))),
        ("HS256", issuer.mint_with(json!({"alg": "HS256", "kid": issuer.kid()}), issuer.claims(&api, &[ISSUER], HOUR))),
        ("an embedded jwk", issuer.mint_with(
            json!({"alg": "RS256", "kid": issuer.kid(), "jwk": issuer.jwks()["keys"][0]}),
            issuer.claims(&api, &[ISSUER], HOUR),
        )),
        ("an x5u header", issuer.mint_with(
            json!({"alg": "RS256", "kid": issuer.kid(), "x5u": "https://attacker.example/cert"}),
            issuer.claims(&api, &[ISSUER], HOUR),
        )),
        ("an unbound subject", issuer.mint(&service_account("intruder"), &[ISSUER], HOUR)),
        ("a wrongly typed sub", with(&|c| c["sub"] = json!(42))),
    ];
    let mut bodies = Vec::new();
    for (name, token) in &cases {
        let reply = app.token_for_workload(token).await;
        assert_eq!(reply.status, 401, "{name}: {:?}", reply.body);
        bodies.push(reply.body.clone());
    }
    assert!(
        bodies.windows(2).all(|pair| pair[0] == pair[1]),
        "one body for every cause"
    );
    assert_eq!(
        app.token_for_workload(&issuer.mint(&api, &[ISSUER], HOUR))
            .await
            .status,
        200
    );
}

/// The issuer rotates its key: a token with the new `kid` makes the service refetch, and
/// the known keys keep working while the issuer is down.
#[actix_web::test]
async fn keys_follow_rotation_and_survive_the_issuer_going_down() {
    let Some(app) = TestApp::spawn_with(Backend::Postgres, &[("JWKS_MIN_REFETCH_SECS", "1")]).await
    else {
        return;
    };
    let issuer = TestIssuer::start().await;
    app.trust(&issuer, false).await;
    let api = service_account("api");
    app.workload_client("", &issuer, &[&api]).await;
    assert_eq!(
        app.token_for_workload(&issuer.mint(&api, &[ISSUER], HOUR))
            .await
            .status,
        200
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    issuer.rotate(false);
    let rotated = issuer.mint(&api, &[ISSUER], HOUR);
    assert_eq!(
        app.token_for_workload(&rotated).await.status,
        200,
        "refetched on the new kid"
    );
    issuer.set_down(true);
    assert_eq!(
        app.token_for_workload(&issuer.mint(&api, &[ISSUER], HOUR))
            .await
            .status,
        200,
        "known keys keep working while the issuer is down"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fetches = issuer.jwks_fetches();
    issuer.rotate(false);
    assert_eq!(
        app.token_for_workload(&issuer.mint(&api, &[ISSUER], HOUR))
            .await
            .status,
        401,
        "a key published while the issuer is down cannot be had"
    );
    assert_eq!(
        issuer.jwks_fetches(),
        fetches,
        "a down issuer serves nothing"
    );
}

/// A stream of assertions naming random `kid`s costs the issuer at most one fetch per
/// interval (30 s by default), however many arrive.
#[actix_web::test]
async fn random_kids_cause_at_most_one_fetch_per_interval() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let issuer = TestIssuer::start().await;
    app.trust(&issuer, false).await;
    let api = service_account("api");
    app.workload_client("", &issuer, &[&api]).await;
    assert_eq!(
        app.token_for_workload(&issuer.mint(&api, &[ISSUER], HOUR))
            .await
            .status,
        200
    );
    let before = issuer.jwks_fetches();
    assert_eq!(before, 1);
    for attempt in 0..50 {
        let forged = issuer.mint_with(
            json!({"alg": "RS256", "kid": format!("random-{attempt}")}),
            issuer.claims(&api, &[ISSUER], HOUR),
        );
        assert_eq!(app.token_for_workload(&forged).await.status, 401);
    }
    assert_eq!(
        issuer.jwks_fetches(),
        before,
        "no fetch within the interval"
    );
    assert_eq!(app.metric("jwks_fetches_total").await, 1.0);
}

/// In a cluster the API server serves its keys only to callers with a service-account
/// token: the service presents its own pod's token, read from its file.
#[actix_web::test]
async fn the_api_server_is_asked_with_the_pods_own_token() {
    let issuer = TestIssuer::start().await;
    issuer.require_bearer(Some("the-pods-own-token"));
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "the-pods-own-token\n").unwrap();
    let token_path = token_file.display().to_string();
    let Some(app) = TestApp::spawn_with(
        Backend::Postgres,
        &[
            ("KUBERNETES_API_SERVER", issuer.url()),
            ("KUBERNETES_TOKEN_FILE", &token_path),
            ("JWKS_MIN_REFETCH_SECS", "1"),
        ],
    )
    .await
    else {
        return;
    };
    app.trust(&issuer, false).await;
    let api = service_account("api");
    app.workload_client("", &issuer, &[&api]).await;
    assert_eq!(
        app.token_for_workload(&issuer.mint(&api, &[ISSUER], HOUR))
            .await
            .status,
        200
    );

    // A client's jwks_uri on the API server is fetched like any URL, never with the pod's
    // token: a client cannot borrow the service's credentials, there or anywhere else.
    let client = app.insert_client("none", "").await;
    let client_id = ClientId::parse(&client).unwrap();
    let uri = issuer.jwks_uri();
    app.store
        .run(move |conn| federation::set_keys(conn, &client_id, None, Some(&uri), Timestamp::now()))
        .await
        .unwrap();
    let now = Timestamp::now().as_secs();
    let assertion = issuer.mint_with(
        json!({"alg": "RS256", "kid": issuer.kid()}),
        json!({"iss": client, "sub": client, "aud": ISSUER, "iat": now, "exp": now + 60,
               "jti": "borrowing-the-pods-token"}),
    );
    assert_eq!(app.token_for_workload(&assertion).await.status, 401);

    // Without the token (another service, not configured for the cluster) nothing works.
    let Some(outsider) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    outsider.trust(&issuer, false).await;
    outsider.workload_client("", &issuer, &[&api]).await;
    assert_eq!(
        outsider
            .token_for_workload(&issuer.mint(&api, &[ISSUER], HOUR))
            .await
            .status,
        401
    );
}
