//! The verified-credentials cache, with a real Redis: warm requests skip the database, and any
//! change to the client, announced by another process, takes effect at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use auth_core::ids::ClientId;
use auth_core::metrics::Metrics;
use auth_core::revocation::{Cutoff, Revocations};
use auth_core::scopes::parse_scope_list;
use auth_core::secret::{ClientSecret, SecretHash};
use auth_core::store::clients;
use auth_core::time::Timestamp;

use crate::support::{FOLLOW_WITHIN, Reply, TestApp};

const GRANT: (&str, &str) = ("grant_type", "client_credentials");

async fn cache_count(app: &TestApp, result: &str) -> f64 {
    let response = awc::Client::default()
        .get(format!("{}/metrics", app.base))
        .send()
        .await;
    let text = String::from_utf8(response.unwrap().body().await.unwrap().to_vec()).unwrap();
    let key = format!("secret_verification_cache_total{{result=\"{result}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&key))
        .map_or(0.0, |v| v.parse().unwrap())
}

/// Polls the token endpoint until `done` holds (2 s at most); changes arrive by pub/sub.
async fn until(app: &TestApp, id: &str, secret: &str, done: impl Fn(&Reply) -> bool) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let reply = app
            .token_form(&[GRANT, ("client_id", id), ("client_secret", secret)])
            .await;
        if done(&reply) || Instant::now() > deadline {
            return reply;
        }
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
}

#[actix_web::test]
async fn warm_requests_skip_the_database_and_changes_evict_at_once() {
    let Some(app) = TestApp::spawn_with_redis(&[]).await else {
        return;
    };
    // Another process's view: it changes clients and announces it, as admin-service does.
    let config = auth_core::revocation::RevocationConfig {
        redis: Some(app.redis_settings()),
        token_lifetime_secs: 3600,
        fail_open: false,
    };
    let other = Revocations::new(&config, Arc::new(Metrics::new())).unwrap();
    // The cache is used once the service follows the channel; wait for the first hit.
    let (id, secret) = app.create_client("client:read").await;
    let first = until(&app, &id, &secret, |_| true).await;
    assert_eq!(first.status, StatusCode::OK);
    let deadline = Instant::now() + FOLLOW_WITHIN;
    while cache_count(&app, "hit").await == 0.0 {
        assert!(
            Instant::now() < deadline,
            "warm requests never hit the cache"
        );
        app.token_form(&[GRANT, ("client_id", &id), ("client_secret", &secret)])
            .await;
    }
    let (hits, misses) = (
        cache_count(&app, "hit").await,
        cache_count(&app, "miss").await,
    );
    for _ in 0..5 {
        let reply = app
            .token_form(&[GRANT, ("client_id", &id), ("client_secret", &secret)])
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(app.verifier.verify(reply.token(), Timestamp::now()).is_ok());
    }
    assert_eq!(cache_count(&app, "hit").await - hits, 5.0);
    assert_eq!(
        cache_count(&app, "miss").await - misses,
        0.0,
        "no stored-hash check on warm requests"
    );
    let wrong = app
        .token_form(&[GRANT, ("client_id", &id), ("client_secret", "ocs_wrong")])
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNAUTHORIZED,
        "a wrong secret never matches the cache"
    );

    // Scopes added elsewhere: the next tokens carry them.
    let client = ClientId::parse(&id).unwrap();
    let target = client.clone();
    app.store
        .run(move |conn| {
            clients::replace_scopes(
                conn,
                &target,
                &parse_scope_list("client:read scope:read").unwrap(),
                Timestamp::now(),
            )
        })
        .await
        .unwrap();
    other.publish_client_changed(&id).await;
    let widened = until(&app, &id, &secret, |r| {
        r.body["scope"] == "client:read scope:read"
    })
    .await;
    assert_eq!(widened.body["scope"], "client:read scope:read");

    // Rotation without grace elsewhere: the old secret stops working.
    let new_secret = ClientSecret::generate();
    let hash = SecretHash::of(&new_secret);
    let target = client.clone();
    let now = Timestamp::now();
    app.store
        .run(move |conn| clients::rotate_secret(conn, &target, &hash, None, now))
        .await
        .unwrap();
    other.publish_cutoff(&id, Cutoff::Before(now)).await;
    let old = until(&app, &id, &secret, |r| r.status == StatusCode::UNAUTHORIZED).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let fresh = until(&app, &id, new_secret.expose(), |r| {
        r.status == StatusCode::OK
    })
    .await;
    assert_eq!(fresh.status, StatusCode::OK);

    // Deletion elsewhere: no more tokens.
    let target = client.clone();
    app.store
        .run(move |conn| clients::soft_delete(conn, &target, Timestamp::now()))
        .await
        .unwrap();
    other.publish_cutoff(&id, Cutoff::Deleted).await;
    let gone = until(&app, &id, new_secret.expose(), |r| {
        r.status == StatusCode::UNAUTHORIZED
    })
    .await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
}
