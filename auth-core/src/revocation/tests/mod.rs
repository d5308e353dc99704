//! Tests of the parent module: decisions and wire forms here, the shared cache followed
//! through a real Redis in `follower` (with the fixture below).

mod follower;

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

/// A follower (a verifier without a database) and a writer on one Redis prefix, with the
/// token issuer and verifier of a test.
struct Fixture {
    follower: Revocations,
    writer: Revocations,
    metrics: Arc<Metrics>,
    redis: redis::aio::MultiplexedConnection,
    prefix: String,
    issuer: crate::token::TokenIssuer,
    verifier: crate::token::TokenVerifier,
}

impl Fixture {
    /// `None` when Redis is unavailable and the test may be skipped.
    async fn start() -> Option<Self> {
        Self::start_on(crate::testing::redis_url()?).await
    }

    /// On the Redis at `url`.
    async fn start_on(url: String) -> Option<Self> {
        use redis::AsyncCommands as _;
        let prefix = crate::testing::redis_prefix();
        let config = RevocationConfig {
            redis: Some(RedisSettings::new(url.clone(), prefix.clone())),
            token_lifetime_secs: 3600,
            fail_open: false,
        };
        let metrics = Arc::new(Metrics::new());
        let follower = Revocations::new(&config, Arc::clone(&metrics)).unwrap();
        let writer = Revocations::new(&config, Arc::new(Metrics::new())).unwrap();
        let mut redis = redis::Client::open(url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        // A database process marks the cache complete after building it.
        let _: () = redis.set(format!("{prefix}:rev:ready"), "1").await.unwrap();
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
        follower.start();
        let fixture = Self {
            follower,
            writer,
            metrics,
            redis,
            prefix,
            issuer,
            verifier,
        };
        fixture.wait_for(fixture.token(), TokenStatus::Active).await;
        Some(fixture)
    }

    fn token(&self) -> VerifiedToken {
        verified_token(&self.issuer, &self.verifier)
    }

    fn key(&self, part: &str) -> String {
        format!("{}:rev:{part}", self.prefix)
    }

    /// Waits until the follower's own copy (complete) gives `expected`.
    async fn wait_for(&self, token: VerifiedToken, expected: TokenStatus) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if self.follower.inner.cache.is_complete()
                && self.follower.inner.cache.lookup(
                    token.claims.jti.as_str(),
                    token.client_id.as_str(),
                    token.issued_at.as_micros(),
                ) == Some(expected)
            {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "never {expected:?}");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    async fn revoke(&self, token: &VerifiedToken) {
        let expires = Timestamp::now().plus_secs(3600);
        self.writer
            .publish_token_revoked(&token.claims.jti, expires, true)
            .await;
    }

    /// The follower's count of copy loads of a kind (`snapshot` or `log`).
    fn loads(&self, how: &str) -> f64 {
        metric(
            &self.metrics.render(),
            &format!("revocation_copy_loads_total{{how=\"{how}\"}}"),
        )
    }

    async fn clean_up(mut self) {
        use redis::AsyncCommands as _;
        let keys: Vec<String> = self.redis.keys(format!("{}:*", self.prefix)).await.unwrap();
        if !keys.is_empty() {
            let _: () = self.redis.del(keys).await.unwrap();
        }
    }
}

/// The value of the metric line starting with `name` (0 when absent).
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
}
