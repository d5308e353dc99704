//! Revocation reaches every process: 2 token-services, 2 admin-services and the example
//! service. Prints propagation p50/p99 over 200 revocations (recorded in docs/BENCHMARKS.md);
//! asserts only that every process refuses every revoked token, never a timing.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::cluster::{Cluster, ROOT_ID, ROOT_SECRET, shared_redis};

const REVOCATIONS: usize = 200;
const DEADLINE: Duration = Duration::from_secs(10);

/// Polls until every process refuses `token`; returns how long that took.
async fn until_refused_everywhere(cluster: &Cluster, token: &str) -> Duration {
    let started = Instant::now();
    loop {
        let verdicts = cluster.verdicts(token).await;
        if verdicts.iter().all(|(_, verdict)| *verdict == Some(false)) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < DEADLINE,
            "still not refused everywhere: {verdicts:?}"
        );
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[actix_web::test]
async fn revocations_reach_every_process() {
    let Some(redis) = shared_redis() else { return };
    let Some(cluster) = Cluster::start(&redis, 2, 2).await else {
        return;
    };
    let (id, secret) = cluster
        .create_client(&["client:read", "dataset:read"])
        .await;
    let root = cluster.token(0, ROOT_ID, ROOT_SECRET).await;

    let mut latencies = Vec::with_capacity(REVOCATIONS);
    for i in 0..REVOCATIONS {
        let token = cluster.token(i % 2, &id, &secret).await;
        let verdicts = cluster.verdicts(&token).await;
        assert!(
            verdicts.iter().all(|(_, v)| *v == Some(true)),
            "a fresh token is refused: {verdicts:?}"
        );

        let admin = i % 2;
        let (status, body) = if i % 10 == 9 {
            cluster
                .admin(
                    admin,
                    "POST",
                    &format!("/api/v1/oauth/client/{id}/revoke"),
                    &root,
                    None,
                )
                .await
        } else {
            cluster
                .admin(
                    admin,
                    "POST",
                    "/api/v1/oauth/revocation",
                    &root,
                    Some(json!({ "token": token })),
                )
                .await
        };
        assert_eq!(status, 204, "{body}");
        latencies.push(until_refused_everywhere(&cluster, &token).await);
    }

    // After a revoke-all, a new token works everywhere again.
    let fresh = cluster.token(1, &id, &secret).await;
    assert!(
        cluster
            .verdicts(&fresh)
            .await
            .iter()
            .all(|(_, v)| *v == Some(true))
    );

    latencies.sort_unstable();
    eprintln!(
        "revocation propagation over {REVOCATIONS} revocations (10% revoke-all), 5 processes: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&latencies, 50.0).as_secs_f64() * 1e3,
        percentile(&latencies, 99.0).as_secs_f64() * 1e3,
        latencies[latencies.len() - 1].as_secs_f64() * 1e3,
    );
}
