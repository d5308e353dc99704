//! Per-client limits: tokens issued and tokens revoked per minute, with a client's own
//! limits over the defaults, the root client exempt, and the counts shared by replicas
//! through Redis.

use actix_web::http::StatusCode;
use auth_core::ids::ClientId;
use auth_core::limits::ClientLimits;
use auth_core::store::clients;
use auth_core::testing::Backend;
use auth_core::time::Timestamp;

use crate::support::{ROOT_ID, ROOT_SECRET, Reply, TestApp};

async fn token(app: &TestApp, id: &str, secret: &str) -> Reply {
    app.token_form(&[
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ])
    .await
}

async fn active(app: &TestApp, token: &str) -> bool {
    let reply = app.introspect(token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["active"] == true
}

/// A 429 that names `what` and says when to retry.
fn assert_limit(reply: &Reply, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.body
    );
    assert_eq!(reply.error(), "rate_limited");
    let description = reply.body["error_description"].as_str().unwrap();
    assert!(description.contains(what), "{description}");
    let wait: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
}

async fn tokens(app: &TestApp, id: &str, secret: &str, n: usize) -> Vec<String> {
    let mut issued = Vec::new();
    for _ in 0..n {
        let reply = token(app, id, secret).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        issued.push(reply.token().to_owned());
    }
    issued
}

async fn set_limits(app: &TestApp, id: &str, limits: ClientLimits) {
    let id = ClientId::parse(id).unwrap();
    let set = app
        .store
        .run(move |conn| clients::set_limits(conn, &id, limits, Timestamp::now()))
        .await
        .unwrap();
    assert!(set);
}

#[actix_web::test]
async fn revocations_past_the_default_limit_are_refused_and_change_nothing() {
    let vars = [("CLIENT_REVOCATIONS_PER_MINUTE", "3")];
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, &vars).await else {
        return;
    };
    let (id, secret) = app.create_client("").await;
    let issued = tokens(&app, &id, &secret, 5).await;
    for token in &issued[..2] {
        assert_eq!(app.revoke(&id, &secret, token).await.status, StatusCode::OK);
    }
    // An unknown or garbage token stores nothing, so it counts nothing.
    assert_eq!(
        app.revoke(&id, &secret, "not.a.token").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.revoke(&id, &secret, &issued[2]).await.status,
        StatusCode::OK
    );
    let refused = app.revoke(&id, &secret, &issued[3]).await;
    assert_limit(&refused, "3 tokens revoked per minute");
    assert!(active(&app, &issued[3]).await, "nothing revoked");
    assert!(!active(&app, &issued[2]).await);
    assert_eq!(
        app.metric("oauth_client_limit_refusals_total{limit=\"revocations\"}")
            .await,
        1.0
    );
    // Issuance has no limit by default, and another client has its own count.
    tokens(&app, &id, &secret, 20).await;
    let (other, other_secret) = app.create_client("").await;
    let theirs = tokens(&app, &other, &other_secret, 1).await;
    assert_eq!(
        app.revoke(&other, &other_secret, &theirs[0]).await.status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn a_client_s_own_limits_replace_the_defaults_and_root_is_never_limited() {
    let vars = [
        ("CLIENT_TOKENS_PER_MINUTE", "1000"),
        ("CLIENT_REVOCATIONS_PER_MINUTE", "1"),
    ];
    let Some(app) = TestApp::spawn_with(Backend::Postgres, &vars).await else {
        return;
    };
    let (id, secret) = app.create_client("").await;
    set_limits(
        &app,
        &id,
        ClientLimits {
            tokens_per_minute: Some(2),
            revocations_per_minute: Some(0),
        },
    )
    .await;
    let issued = tokens(&app, &id, &secret, 2).await;
    assert_limit(
        &token(&app, &id, &secret).await,
        "2 tokens issued per minute",
    );
    // 0: no revocation limit for this client, whatever the default.
    for token in &issued {
        assert_eq!(app.revoke(&id, &secret, token).await.status, StatusCode::OK);
    }

    for _ in 0..5 {
        let reply = app.root_token().await;
        assert_eq!(reply.status, StatusCode::OK, "root is not limited");
        let token = reply.token().to_owned();
        let revoked = app.revoke(ROOT_ID, ROOT_SECRET, &token).await;
        assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    }
}

#[actix_web::test]
async fn replicas_count_against_the_same_limit_through_redis() {
    let Some(one) = TestApp::spawn_with_redis(&[("CLIENT_TOKENS_PER_MINUTE", "4")]).await else {
        return;
    };
    let two = one.replica().await;
    let (id, secret) = one.create_client("").await;
    tokens(&one, &id, &secret, 2).await;
    tokens(&two, &id, &secret, 2).await;
    assert_limit(
        &token(&one, &id, &secret).await,
        "4 tokens issued per minute",
    );
    assert_limit(
        &token(&two, &id, &secret).await,
        "4 tokens issued per minute",
    );
    let (other, other_secret) = one.create_client("").await;
    tokens(&two, &other, &other_secret, 1).await;
}
