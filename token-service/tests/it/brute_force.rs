//! Brute-force protection: failed authentications limited per client id and per address,
//! shared across replicas through Redis, never locking out a client already in use.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use auth_core::shared_redis::RedisSettings;
use auth_core::testing::{Backend, redis_prefix, redis_url};
use token_service::client_auth::ratelimit::{FailureLimiter, Limits};

use crate::support::{FOLLOW_WITHIN, ROOT_ID, Reply, TestApp};

const GRANT: (&str, &str) = ("grant_type", "client_credentials");

fn assert_limited(reply: &Reply) {
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.body
    );
    assert_eq!(reply.error(), "rate_limited");
    let wait: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
}

#[actix_web::test]
async fn failures_per_client_id_are_limited() {
    let vars = [("AUTH_FAILURES_PER_CLIENT", "3")];
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, &vars).await else {
        return;
    };
    let (id, secret) = app.create_client("").await;
    let (other, other_secret) = app.create_client("").await;
    for _ in 0..3 {
        let reply = app
            .token_form(&[GRANT, ("client_id", &id), ("client_secret", "ocs_guess")])
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    assert_limited(
        &app.token_form(&[GRANT, ("client_id", &id), ("client_secret", "ocs_guess")])
            .await,
    );
    // A cold client under attack waits for the window; the limit holds even for the right secret.
    assert_limited(
        &app.token_form(&[GRANT, ("client_id", &id), ("client_secret", &secret)])
            .await,
    );
    let unrelated = app
        .token_form(&[
            GRANT,
            ("client_id", &other),
            ("client_secret", &other_secret),
        ])
        .await;
    assert_eq!(
        unrelated.status,
        StatusCode::OK,
        "other clients are not affected"
    );
}

#[actix_web::test]
async fn failures_per_address_are_limited_and_root_is_limited_too() {
    let vars = [("AUTH_FAILURES_PER_ADDRESS", "4")];
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, &vars).await else {
        return;
    };
    for i in 0..4 {
        let id = format!("cid_guess{i}");
        let reply = app
            .token_form(&[GRANT, ("client_id", &id), ("client_secret", "ocs_guess")])
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    assert_limited(
        &app.token_form(&[GRANT, ("client_id", "cid_fresh"), ("client_secret", "x")])
            .await,
    );
    assert_limited(
        &app.token_form(&[
            GRANT,
            ("client_id", ROOT_ID),
            ("client_secret", "guess-guess-guess"),
        ])
        .await,
    );
}

#[actix_web::test]
async fn counters_are_shared_across_replicas_through_redis() {
    let Some(redis) = redis_url() else { return };
    let shared = RedisSettings::new(redis, redis_prefix());
    let limits = Limits {
        per_client: 2,
        per_address: 100,
        window: Duration::from_secs(30),
        failure_delay: Duration::ZERO,
    };
    let one = FailureLimiter::new(limits, Some(&shared));
    let two = FailureLimiter::new(limits, Some(&shared));
    let deadline = Instant::now() + FOLLOW_WITHIN;
    while !(one.following() && two.following()) {
        assert!(
            Instant::now() < deadline,
            "the limiter channel was never followed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let address = Some("198.51.100.7".parse().unwrap());
    one.record_failure("victim", address, Instant::now()).await;
    assert!(one.check("victim", address, Instant::now()).await.is_ok());
    two.record_failure("victim", address, Instant::now()).await;
    // `two` reached the limit and blocked the key; `one` learns of it from the announcement.
    while one.check("victim", address, Instant::now()).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "failures on another replica count"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let blocked = two
        .check("victim", address, Instant::now())
        .await
        .unwrap_err();
    assert!(blocked.retry_after <= Duration::from_secs(30));
    assert!(
        two.check("bystander", address, Instant::now())
            .await
            .is_ok()
    );
}

#[actix_web::test]
async fn a_replica_that_missed_a_block_learns_it_from_its_next_failure() {
    let Some(redis) = redis_url() else { return };
    let shared = RedisSettings::new(redis, redis_prefix());
    let limits = Limits {
        per_client: 2,
        per_address: 100,
        window: Duration::from_secs(30),
        failure_delay: Duration::ZERO,
    };
    let early = FailureLimiter::new(limits, Some(&shared));
    early.record_failure("victim", None, Instant::now()).await;
    early.record_failure("victim", None, Instant::now()).await;
    assert!(early.check("victim", None, Instant::now()).await.is_err());
    // Started after the announcement: it cannot know yet.
    let late = FailureLimiter::new(limits, Some(&shared));
    let deadline = Instant::now() + FOLLOW_WITHIN;
    while !late.following() {
        assert!(
            Instant::now() < deadline,
            "the limiter channel was never followed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(late.check("victim", None, Instant::now()).await.is_ok());
    late.record_failure("victim", None, Instant::now()).await;
    let blocked = late
        .check("victim", None, Instant::now())
        .await
        .unwrap_err();
    assert!(blocked.retry_after <= Duration::from_secs(30));
    assert!(
        blocked.retry_after >= Duration::from_secs(29),
        "the shared window's end"
    );
}

#[actix_web::test]
async fn a_client_in_use_is_not_locked_out_by_an_attack_on_its_id() {
    let Some(app) = TestApp::spawn_with_redis(&[("AUTH_FAILURES_PER_CLIENT", "3")]).await else {
        return;
    };
    let (id, secret) = app.create_client("client:read").await;
    // Warm the cache (it is used once the service follows Redis).
    let deadline = Instant::now() + FOLLOW_WITHIN;
    loop {
        let reply = app
            .token_form(&[GRANT, ("client_id", &id), ("client_secret", &secret)])
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        let metrics = awc::Client::default()
            .get(format!("{}/metrics", app.base))
            .send()
            .await;
        let text = String::from_utf8(metrics.unwrap().body().await.unwrap().to_vec()).unwrap();
        if text.contains("secret_verification_cache_total{result=\"hit\"}") {
            break;
        }
        assert!(Instant::now() < deadline, "the cache never warmed");
    }
    for _ in 0..5 {
        app.token_form(&[GRANT, ("client_id", &id), ("client_secret", "ocs_guess")])
            .await;
    }
    assert_limited(
        &app.token_form(&[GRANT, ("client_id", &id), ("client_secret", "ocs_guess")])
            .await,
    );
    let legitimate = app
        .token_form(&[GRANT, ("client_id", &id), ("client_secret", &secret)])
        .await;
    assert_eq!(legitimate.status, StatusCode::OK, "{}", legitimate.body);
}

#[actix_web::test]
async fn refusals_are_answered_after_the_failure_delay_and_successes_are_not() {
    let vars = [
        ("AUTH_FAILURE_DELAY_MS", "300"),
        ("AUTH_FAILURES_PER_CLIENT", "2"),
    ];
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, &vars).await else {
        return;
    };
    let (id, _) = app.create_client("").await;
    let delay = Duration::from_millis(300);
    let timed = |secret: &'static str| {
        let (app, id) = (&app, id.clone());
        async move {
            let started = Instant::now();
            let reply = app
                .token_form(&[GRANT, ("client_id", &id), ("client_secret", secret)])
                .await;
            (reply, started.elapsed())
        }
    };
    let (wrong, waited) = timed("ocs_guess").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(waited >= delay, "401 after {waited:?}");
    let started = Instant::now();
    let unknown = app
        .token_form(&[GRANT, ("client_id", "cid_nobody"), ("client_secret", "x")])
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(started.elapsed() >= delay, "an unknown client waits alike");
    timed("ocs_guess").await;
    let (limited, waited) = timed("ocs_guess").await;
    assert_limited(&limited);
    assert!(waited >= delay, "429 after {waited:?}");
    // Other clients are not held up by the refusals (only lower bounds are asserted: no
    // timing of a success).
    let (other, other_secret) = app.create_client("").await;
    let ok = app
        .token_form(&[
            GRANT,
            ("client_id", &other),
            ("client_secret", &other_secret),
        ])
        .await;
    assert_eq!(ok.status, StatusCode::OK);
}
