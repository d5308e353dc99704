//! Redis faults with real processes: stopped, restarted empty, flushed; a Sentinel failover
//! under traffic; Cluster nodes restarted. Once a revocation has reached every process (by
//! message, within milliseconds of admin-service's answer), no fault lets the token in
//! again anywhere; issuance goes on; revocations flow through Redis again once it is back,
//! without restarting anything.

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

/// Revokes `token` through admin-service#0, then waits until no process accepts it. The
/// revoker knows at once; the others learn it from a message within milliseconds
/// (`propagation.rs` measures how long), not before admin-service answers. A revocation
/// that has reached every process must then stay in force through every fault.
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
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let verdicts = cluster.verdicts(token).await;
        if verdicts.iter().all(|(_, verdict)| *verdict != Some(true)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "a revocation never reached every process: {verdicts:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
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

#[actix_web::test]
#[allow(clippy::await_holding_lock, reason = "see ONE_AT_A_TIME")]
async fn a_redis_cluster_carries_revocations_through_restarts_and_a_failover() {
    let _alone = alone();
    let dir = tempfile::tempdir().unwrap();
    let Some(mut redis) = auth_core::testing::redis_cluster::RedisCluster::start(dir.path()) else {
        return;
    };
    let Some(cluster) = Cluster::start(&redis.url(), 2, 1).await else {
        return;
    };
    let (id, secret) = cluster.create_client(&["client:read"]).await;
    let root = cluster.token(0, ROOT_ID, ROOT_SECRET).await;

    let first = cluster.token(0, &id, &secret).await;
    until_accepted_everywhere(&cluster, &first, &[]).await;
    revoke(&cluster, &root, &first).await;
    let mut checks = never_accepted(&cluster, &[&first], Duration::from_millis(300)).await;

    // The revocation keys, the log and the channel share a hash tag: one master holds
    // them all (one change is one script on one shard); the others hold none. Every
    // process follows the sharded channel there.
    let group = format!("{{{}:rev}}", cluster.prefix);
    let owner = redis.port_of(&group);
    let all_subscribed = |redis: &auth_core::testing::redis_cluster::RedisCluster| {
        let deadline = Instant::now() + Duration::from_secs(20);
        let channel = format!("{group}:events");
        while redis.shard_subscribers(&channel) < 4 {
            assert!(
                Instant::now() < deadline,
                "not every process subscribed again"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    all_subscribed(&redis);
    for port in redis.masters() {
        let keys = redis.keys(port, &format!("{group}:*"));
        if port == owner {
            assert!(
                keys.iter().any(|k| k.ends_with(":log"))
                    && keys.iter().any(|k| k.contains(":jti:")),
                "{keys:?}"
            );
        } else {
            assert!(keys.is_empty(), "{port}: {keys:?}");
        }
    }

    // Another master restarts: the Cluster connections to it drop and every follower
    // subscribes again; revocations keep flowing.
    let other = redis
        .masters()
        .into_iter()
        .find(|port| *port != owner)
        .unwrap();
    redis.restart(other);
    all_subscribed(&redis);
    let second = cluster.token(1, &id, &secret).await;
    until_accepted_everywhere(&cluster, &second, &[&first]).await;
    revoke(&cluster, &root, &second).await;
    checks += never_accepted(&cluster, &[&first, &second], Duration::from_millis(300)).await;

    // The master holding the revocations restarts empty: no process trusts the emptied
    // cache; those with a database rebuild it, and the example service loads it back.
    redis.restart(owner);
    checks += never_accepted(&cluster, &[&first, &second], Duration::from_secs(1)).await;
    all_subscribed(&redis);
    let third = cluster.token(0, &id, &secret).await;
    until_accepted_everywhere(&cluster, &third, &[&first, &second]).await;
    revoke(&cluster, &root, &third).await;
    checks += never_accepted(
        &cluster,
        &[&first, &second, &third],
        Duration::from_millis(300),
    )
    .await;

    // The master holding the revocations fails over to its replica while tokens are
    // issued and revoked: the subscriptions there end (the slot moved), every follower
    // subscribes on the new master and catches up; no revoked token is accepted meanwhile.
    let mut revoked = vec![first, second, third];
    let new_master = redis.start_failover(&group);
    let started = Instant::now();
    let mut during = 0;
    loop {
        let token = cluster.token(0, &id, &secret).await;
        revoke(&cluster, &root, &token).await;
        revoked.push(token);
        during += 1;
        let all: Vec<&str> = revoked.iter().map(String::as_str).collect();
        checks += never_accepted(&cluster, &all, Duration::ZERO).await;
        // Some rounds land while the failover runs (one may wait it out), more after it.
        if during >= 8
            && started.elapsed() > Duration::from_secs(2)
            && redis.failed_over(&group, new_master)
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the failover did not complete"
        );
    }
    all_subscribed(&redis);
    let fresh = cluster.token(1, &id, &secret).await;
    let all: Vec<&str> = revoked.iter().map(String::as_str).collect();
    until_accepted_everywhere(&cluster, &fresh, &all).await;
    revoke(&cluster, &root, &fresh).await;
    checks += never_accepted(&cluster, &[&fresh], Duration::from_millis(300)).await;

    // The example service refused revoked tokens from its own copy, which it trusts only
    // while the sharded channel's messages reach it.
    let metrics = cluster
        .http
        .get(format!("{}/metrics", cluster.example.base))
        .send()
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    let metrics = String::from_utf8_lossy(&metrics);
    let from_copy = metrics
        .lines()
        .find(|line| {
            line.starts_with(r#"revocation_checks_total{source="cache",outcome="revoked"}"#)
        })
        .and_then(|line| line.rsplit(' ').next()?.parse::<u64>().ok());
    assert!(from_copy.is_some_and(|n| n > 0), "{metrics}");
    eprintln!(
        "redis cluster (3 masters with replicas; another master restarted, the revocations' master restarted empty, then failed over under traffic with {during} tokens issued and revoked meanwhile): {checks} checks of revoked tokens across 4 processes, revoked tokens accepted: 0"
    );
}
