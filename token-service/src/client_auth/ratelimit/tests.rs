//! The limiter's windows on its local counters, with an injected clock.

use super::*;

fn limits(per_client: u32, per_address: u32) -> Limits {
    Limits {
        per_client,
        per_address,
        window: Duration::from_secs(60),
        failure_delay: Duration::ZERO,
    }
}

#[tokio::test]
async fn local_limits_block_past_the_count_and_name_the_wait() {
    let limiter = FailureLimiter::new(limits(3, 100), None);
    let address: IpAddr = "192.0.2.1".parse().unwrap();
    let start = Instant::now();
    for second in 0..3 {
        let now = start + Duration::from_secs(second);
        assert!(limiter.check("victim", Some(address), now).await.is_ok());
        limiter.record_failure("victim", Some(address), now).await;
    }
    let now = start + Duration::from_secs(10);
    let blocked = limiter
        .check("victim", Some(address), now)
        .await
        .unwrap_err();
    // The window started with the first failure: 50 s of it are left.
    assert_eq!(blocked.retry_after, Duration::from_secs(50));
    assert!(
        limiter
            .check("someone-else", Some(address), now)
            .await
            .is_ok(),
        "per client id"
    );
}

#[tokio::test]
async fn the_window_ends_and_a_new_one_starts_with_the_next_failure() {
    let limiter = FailureLimiter::new(limits(2, 100), None);
    let start = Instant::now();
    let at = |seconds: u64| start + Duration::from_secs(seconds);
    limiter.record_failure("victim", None, at(0)).await;
    limiter.record_failure("victim", None, at(1)).await;
    assert!(limiter.check("victim", None, at(59)).await.is_err());
    let last = limiter.check("victim", None, at(59)).await.unwrap_err();
    assert_eq!(last.retry_after, Duration::from_secs(1), "at least 1 s");
    assert!(
        limiter.check("victim", None, at(60)).await.is_ok(),
        "the window has ended"
    );
    // A failure after the window opens a new one, counted from zero.
    limiter.record_failure("victim", None, at(61)).await;
    assert!(limiter.check("victim", None, at(62)).await.is_ok());
    limiter.record_failure("victim", None, at(62)).await;
    let blocked = limiter.check("victim", None, at(63)).await.unwrap_err();
    assert_eq!(blocked.retry_after, Duration::from_secs(58));
}

#[tokio::test]
async fn addresses_are_limited_across_client_ids() {
    let limiter = FailureLimiter::new(limits(100, 2), None);
    let address: IpAddr = "2001:db8::1".parse().unwrap();
    let now = Instant::now();
    limiter.record_failure("a", Some(address), now).await;
    limiter.record_failure("b", Some(address), now).await;
    assert!(limiter.check("c", Some(address), now).await.is_err());
    assert!(
        limiter
            .check("c", Some("2001:db8::2".parse().unwrap()), now)
            .await
            .is_ok()
    );
}
