//! The counters' windows on local counters and announcements, with an injected clock; and
//! counters two replicas share through a real Redis Cluster.

use super::*;
use crate::testing::redis_cluster::RedisCluster;

fn keys(limit: u32) -> Vec<Counted> {
    vec![("client:a".to_owned(), limit)]
}

#[tokio::test]
async fn record_refuses_the_first_event_past_the_limit_and_check_blocks_until_the_window_ends() {
    let counters = WindowCounters::new(Duration::from_secs(60), None, "test");
    let start = Instant::now();
    let at = |seconds: u64| start + Duration::from_secs(seconds);
    for second in 0..3 {
        assert!(counters.check(&keys(3), at(second)).await.is_ok());
        assert!(
            counters.record(&keys(3), at(second)).await.is_ok(),
            "{second}"
        );
    }
    // The third event reached the limit: the next is refused before it is counted...
    let blocked = counters.check(&keys(3), at(10)).await.unwrap_err();
    assert_eq!(blocked.retry_after, Duration::from_secs(50));
    assert_eq!(blocked.retry_after_secs(), 50);
    // ...and one counted anyway (another replica's block not yet known) is the excess.
    let over = counters.record(&keys(3), at(10)).await.unwrap_err();
    assert_eq!(over.retry_after, Duration::from_secs(50));
    assert!(
        counters.check(&keys(3), at(60)).await.is_ok(),
        "a new window"
    );
    assert!(counters.record(&keys(3), at(60)).await.is_ok());
}

#[tokio::test]
async fn announcements_block_a_key_until_its_window_ends() {
    let counters = WindowCounters::new(Duration::from_secs(60), None, "test");
    let start = Instant::now();
    counters.on_event(Event::Subscribed, start);
    assert!(counters.following());
    counters.on_event(Event::Message(Some("30000 client:victim".into())), start);
    counters.on_event(Event::Message(Some("20000 addr:192.0.2.9".into())), start);
    for bad in ["", "soon client:x", "client:y", "-5 client:z"] {
        counters.on_event(Event::Message(Some(bad.into())), start);
    }
    counters.on_event(Event::Message(None), start);
    let at = |seconds: u64| start + Duration::from_secs(seconds);
    let key = |name: &str| vec![(name.to_owned(), 100)];
    let blocked = counters.check(&key("client:victim"), at(10)).await;
    assert_eq!(blocked.unwrap_err().retry_after, Duration::from_secs(20));
    let both = [key("client:other"), key("addr:192.0.2.9")].concat();
    let blocked = counters.check(&both, at(10)).await;
    assert_eq!(
        blocked.unwrap_err().retry_after,
        Duration::from_secs(10),
        "the address"
    );
    for id in ["client:x", "client:y", "client:z"] {
        assert!(counters.check(&key(id), at(10)).await.is_ok(), "{id}");
    }
    let both = [key("client:victim"), key("addr:192.0.2.9")].concat();
    assert!(counters.check(&both, at(30)).await.is_ok(), "both ended");
    counters.on_event(Event::Lost, at(30));
    assert!(!counters.following());
}

#[test]
fn retry_after_is_at_least_a_second_and_rounds_up() {
    assert_eq!(
        Blocked::after(Duration::from_millis(10)).retry_after_secs(),
        1
    );
    assert_eq!(
        Blocked::after(Duration::from_millis(1500)).retry_after_secs(),
        2
    );
}

/// Two replicas' counters on a three-master Cluster: keys of one event live on different
/// masters, counts are shared, and a key one replica takes to its limit is blocked at the
/// other by the announcement on the sharded channel (checks then cost no round trip).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_counters_and_blocks_through_a_redis_cluster() {
    let dir = tempfile::tempdir().unwrap();
    if let Some(cluster) = RedisCluster::start(dir.path()) {
        replicas_share_counters_and_blocks_through(&cluster).await;
    }
}

/// The same over TLS only (`rediss+cluster://`, a CA and client certificate of the test's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_counters_and_blocks_through_a_tls_redis_cluster() {
    let dir = tempfile::tempdir().unwrap();
    if let Some(cluster) = RedisCluster::start_tls(dir.path()) {
        replicas_share_counters_and_blocks_through(&cluster).await;
    }
}

async fn replicas_share_counters_and_blocks_through(cluster: &RedisCluster) {
    let env = cluster.env();
    let env = crate::config::Env::from_fn(|name| {
        env.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    });
    let redis = RedisSettings::from_env(&env).unwrap().unwrap();
    let window = Duration::from_secs(60);
    let (a, b) = (
        WindowCounters::new(window, Some(&redis), "test"),
        WindowCounters::new(window, Some(&redis), "test"),
    );
    // Keys whose slots belong to different masters.
    let names: Vec<String> = (0..40).map(|i| format!("client:{i}")).collect();
    let owner = |name: &String| cluster.port_of(&format!("authsvc:test:{name}"));
    let first = names[0].clone();
    let second = names
        .iter()
        .find(|name| owner(name) != owner(&first))
        .expect("keys on two masters")
        .clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(a.following() && b.following()) {
        assert!(Instant::now() < deadline, "never followed the channel");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let both = vec![(first.clone(), 100), (second.clone(), 4)];
    let now = Instant::now();
    for replica in [&a, &b, &a] {
        assert!(replica.record(&both, now).await.is_ok());
    }
    // The fourth event, at the other replica, takes `second` to its limit (counted in
    // Redis across both) and is announced.
    assert!(b.record(&both, now).await.is_ok());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match a.check(&[(second.clone(), 4)], Instant::now()).await {
            Err(blocked) => {
                assert!(blocked.retry_after <= window);
                break;
            }
            Ok(()) => assert!(Instant::now() < deadline, "the block never reached a"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        a.check(&[(first, 100)], Instant::now()).await.is_ok(),
        "only the key at its limit is blocked"
    );
}
