//! Tests of the parent module.

use super::*;
use crate::shared_redis::RedisSettings;

#[test]
fn decide_compares_to_the_microsecond() {
    let at = Timestamp::from_micros;
    let before = |micros| Cutoff::Before(at(micros));
    assert_eq!(
        decide(false, before(1_000_001), at(1_000_000)),
        TokenStatus::RevokedByClientCutoff
    );
    assert_eq!(
        decide(false, before(1_000_000), at(1_000_000)),
        TokenStatus::Active
    );
    assert_eq!(decide(false, Cutoff::NONE, at(5)), TokenStatus::Active);
    assert_eq!(decide(true, Cutoff::NONE, at(5)), TokenStatus::RevokedToken);
    assert_eq!(
        decide(false, Cutoff::Deleted, at(i64::MAX - 1)),
        TokenStatus::UnknownClient
    );
}

#[test]
fn cutoffs_keep_their_wire_form_and_order() {
    assert_eq!(Cutoff::Deleted.to_wire(), i64::MAX);
    assert_eq!(Cutoff::from_wire(i64::MAX), Cutoff::Deleted);
    let at = Cutoff::Before(Timestamp::from_micros(42));
    assert_eq!(at.to_wire(), 42);
    assert_eq!(Cutoff::from_wire(42), at);
    assert!(Cutoff::NONE < at && at < Cutoff::Deleted);
    assert!(Cutoff::Before(Timestamp::from_micros(i64::MAX - 1)) < Cutoff::Deleted);
}

/// A verified token of a fresh client, as a resource server would check it.
fn verified_token(
    issuer: &crate::token::TokenIssuer,
    verifier: &crate::token::TokenVerifier,
) -> VerifiedToken {
    let now = Timestamp::now();
    let client = crate::ids::ClientId::generate();
    let token = issuer.issue(&client, &[], now).unwrap().access_token;
    verifier.verify(&token, now).unwrap()
}

#[tokio::test]
async fn a_follower_answers_from_its_copy_and_learns_by_snapshot_and_by_message() {
    use redis::AsyncCommands as _;
    let Some(url) = crate::testing::redis_url() else {
        return;
    };
    let prefix = crate::testing::redis_prefix();
    let metrics = Arc::new(Metrics::new());
    let config = RevocationConfig {
        redis: Some(RedisSettings::new(url.clone(), prefix.clone())),
        token_lifetime_secs: 3600,
        fail_open: false,
    };
    let revocations = Revocations::new(&config, Arc::clone(&metrics)).unwrap();
    let mut redis = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let key = |part: &str| format!("{prefix}:rev:{part}");
    let _: () = redis.set(key("ready"), "1").await.unwrap();
    let (signing, _) = crate::token::SigningKey::generate_ed25519().unwrap();
    let verifier = crate::token::TokenVerifier::new(
        [signing.verifying_key().clone()],
        "https://auth.test".into(),
        "https://auth.test".into(),
    );
    let issuer = crate::token::TokenIssuer::new(
        signing,
        "https://auth.test".into(),
        "https://auth.test".into(),
        3600,
    );

    revocations.start();
    let wait_for = |token: VerifiedToken, expected: TokenStatus| {
        let revocations = revocations.clone();
        async move {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            loop {
                if revocations.inner.shared.as_ref().unwrap().subscribed()
                    && revocations.inner.cache.is_complete()
                    && revocations.status(&token).await.unwrap() == expected
                {
                    return;
                }
                assert!(std::time::Instant::now() < deadline, "never {expected:?}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    };
    wait_for(verified_token(&issuer, &verifier), TokenStatus::Active).await;

    // Never seen before, yet answered from memory: no Redis round trip.
    let before = metrics.render();
    let fresh = verified_token(&issuer, &verifier);
    assert_eq!(
        revocations.status(&fresh).await.unwrap(),
        TokenStatus::Active
    );
    let after = metrics.render();
    let count = |text: &str, source: &str| {
        text.lines()
            .find(|l| {
                l.starts_with(&format!(
                    "revocation_checks_total{{source=\"{source}\",outcome=\"active\"}}"
                ))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    assert_eq!(count(&after, "cache") - count(&before, "cache"), 1.0);
    assert_eq!(count(&after, "redis"), count(&before, "redis"));

    // Written to Redis without a message, as a rebuild does, then announced by `r`.
    let silent = verified_token(&issuer, &verifier);
    let _: () = redis
        .set(key(&format!("jti:{}", silent.claims.jti)), "1")
        .await
        .unwrap();
    let _: () = redis.publish(key("events"), "r").await.unwrap();
    wait_for(silent, TokenStatus::RevokedToken).await;

    // Announced by a message alone.
    let announced = verified_token(&issuer, &verifier);
    let message = format!("j {}", announced.claims.jti);
    let _: () = redis.publish(key("events"), message).await.unwrap();
    wait_for(announced, TokenStatus::RevokedToken).await;

    // A client's cut-off, by message: its older tokens are refused.
    let older = verified_token(&issuer, &verifier);
    let cutoff = format!("c {} {}", older.client_id, older.issued_at.as_micros() + 1);
    let _: () = redis.publish(key("events"), cutoff).await.unwrap();
    wait_for(older, TokenStatus::RevokedByClientCutoff).await;

    let keys: Vec<String> = redis.keys(format!("{prefix}:*")).await.unwrap();
    if !keys.is_empty() {
        let _: () = redis.del(keys).await.unwrap();
    }
}
