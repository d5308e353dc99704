//! Redis faults with real processes: stopped, restarted empty, flushed; a Sentinel failover
//! under traffic. No revoked token is accepted anywhere at any point; issuance goes on;
//! revocations flow through Redis again once it is back, without restarting anything.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::cluster::{Cluster, ROOT_ID, ROOT_SECRET, RedisServer};

/// The fault tests run one at a time: while one has its Redis stopped, the other starts five
/// redis-servers on free ports and could take the stopped one's, which it restarts on.
/// Each test has a runtime (and thread) of its own, so holding the guard across `.await`
/// blocks nothing but the other fault test.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Asserts that no process accepts any of `revoked`, for `window`; counts the checks.
async fn never_accepted(cluster: &Cluster, revoked: &[&str], window: Duration) -> usize {
    let started = Instant::now();
    let mut checks = 0;
    loop {
        for token in revoked {
            for (process, verdict) in cluster.verdicts(token).await {
                assert_ne!(verdict, Some(true), "{process} accepted a revoked token");
                checks += 1;
            }
        }
        if started.elapsed() >= window {
            return checks;
        }
    }
}

/// Waits until every process accepts `token` again (Redis back and rebuilt), checking that
/// the revoked ones stay refused meanwhile.
async fn until_accepted_everywhere(cluster: &Cluster, token: &str, revoked: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let verdicts = cluster.verdicts(token).await;
        if verdicts.iter().all(|(_, v)| *v == Some(true)) {
            return;
        }
        assert!(Instant::now() < deadline, "never recovered: {verdicts:?}");
        never_accepted(cluster, revoked, Duration::ZERO).await;
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn revoke(cluster: &Cluster, root: &str, token: &str) {
    let (status, body) = cluster
        .admin(
            0,
            "POST",
            "/api/v1/oauth/revocation",
            root,
            Some(json!({ "token": token })),
        )
        .await;
    assert_eq!(status, 204, "{body}");
}

#[actix_web::test]
#[allow(clippy::await_holding_lock, reason = "see ONE_AT_A_TIME")]
async fn redis_stopped_restarted_and_flushed_never_lets_a_revoked_token_in() {
    let _alone = alone();
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let Some(cluster) = Cluster::start(&redis.url(), 1, 1).await else {
        return;
    };
    let (id, secret) = cluster.create_client(&["client:read"]).await;
    let root = cluster.token(0, ROOT_ID, ROOT_SECRET).await;

    // Normal operation.
    let first = cluster.token(0, &id, &secret).await;
    until_accepted_everywhere(&cluster, &first, &[]).await;
    revoke(&cluster, &root, &first).await;
    never_accepted(&cluster, &[&first], Duration::from_millis(200)).await;

    // Redis stops: a revocation still lands (in the database) and is honoured everywhere:
    // services with a database use it; the example service, without one, fails closed.
    let second = cluster.token(0, &id, &secret).await;
    redis.stop();
    revoke(&cluster, &root, &second).await;
    let mut checks = never_accepted(&cluster, &[&first, &second], Duration::from_secs(1)).await;
    let issued_while_down = cluster.token(0, &id, &secret).await;
    let verdicts = cluster.verdicts(&issued_while_down).await;
    assert!(
        verdicts
            .iter()
            .all(|(p, v)| *v == Some(true) || (p == "example-service" && v.is_none())),
        "valid tokens: accepted by services with a database, 503 without one: {verdicts:?}"
    );

    // Redis comes back empty: the cache is rebuilt from the database, nothing restarts.
    redis.restart().unwrap();
    until_accepted_everywhere(&cluster, &issued_while_down, &[&first, &second]).await;
    revoke(&cluster, &root, &issued_while_down).await;
    checks += never_accepted(
        &cluster,
        &[&first, &second, &issued_while_down],
        Duration::from_millis(300),
    )
    .await;

    // FLUSHALL: the emptied cache is not trusted, then rebuilt.
    let after_flush = cluster.token(0, &id, &secret).await;
    redis.flushall();
    checks += never_accepted(
        &cluster,
        &[&first, &second, &issued_while_down],
        Duration::from_secs(2),
    )
    .await;
    until_accepted_everywhere(
        &cluster,
        &after_flush,
        &[&first, &second, &issued_while_down],
    )
    .await;

    // And revocations flow through Redis once more.
    revoke(&cluster, &root, &after_flush).await;
    checks += never_accepted(&cluster, &[&after_flush], Duration::from_millis(300)).await;
    // Every check above asserted refusal: reaching here means none was accepted.
    eprintln!(
        "redis faults (stopped, restarted empty, flushed): {checks} checks of revoked tokens across 3 processes, revoked tokens accepted: 0"
    );
}

#[actix_web::test]
#[allow(clippy::await_holding_lock, reason = "see ONE_AT_A_TIME")]
async fn a_sentinel_failover_under_traffic_never_lets_a_revoked_token_in() {
    let _alone = alone();
    let dir = tempfile::tempdir().unwrap();
    let Some(group) = auth_core::testing::sentinel::SentinelGroup::start(dir.path()) else {
        return;
    };
    let Some(cluster) = Cluster::start(&group.url(), 1, 1).await else {
        return;
    };
    let (id, secret) = cluster.create_client(&["client:read"]).await;
    let root = cluster.token(0, ROOT_ID, ROOT_SECRET).await;
    let mut revoked: Vec<String> = Vec::new();
    let mut checks = 0;

    // Tokens issued and revoked, one after the other, before, during and after the
    // failover; every revoked token is checked everywhere right after its revocation and
    // again and again after.
    let round = |revoked: &mut Vec<String>| {
        let (cluster, root, id, secret) = (&cluster, &root, &id, &secret);
        let before: Vec<String> = revoked.clone();
        async move {
            let token = cluster.token(0, id, secret).await;
            revoke(cluster, root, &token).await;
            let mut all: Vec<&str> = before.iter().map(String::as_str).collect();
            all.push(&token);
            let checks = never_accepted(cluster, &all, Duration::ZERO).await;
            (token, checks)
        }
    };
    for _ in 0..5 {
        let (token, counted) = round(&mut revoked).await;
        revoked.push(token);
        checks += counted;
    }
    let old = group.start_failover();
    let started = Instant::now();
    loop {
        let (token, counted) = round(&mut revoked).await;
        revoked.push(token);
        checks += counted;
        if started.elapsed() > Duration::from_secs(3) && group.failed_over(old).is_some() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the failover did not complete"
        );
    }
    for _ in 0..5 {
        let (token, counted) = round(&mut revoked).await;
        revoked.push(token);
        checks += counted;
    }
    // Every process follows the new master without a restart: a new token is accepted
    // everywhere (the example service, without a database, only once its copy is
    // complete again) and a revocation reaches it.
    let fresh = cluster.token(0, &id, &secret).await;
    let all: Vec<&str> = revoked.iter().map(String::as_str).collect();
    until_accepted_everywhere(&cluster, &fresh, &all).await;
    revoke(&cluster, &root, &fresh).await;
    checks += never_accepted(&cluster, &[&fresh], Duration::from_millis(300)).await;
    eprintln!(
        "redis sentinel failover under traffic: {} tokens issued and revoked, {checks} checks of revoked tokens across 3 processes, revoked tokens accepted: 0",
        revoked.len() + 1
    );
}
