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

#[tokio::test]
async fn a_follower_answers_from_its_copy_and_learns_each_change_by_one_message() {
    use redis::AsyncCommands as _;
    let Some(mut fixture) = Fixture::start().await else {
        return;
    };
    // Never seen before, yet answered from memory: no Redis round trip.
    let before = fixture.metrics.render();
    let fresh = fixture.token();
    assert_eq!(
        fixture.follower.status(&fresh).await.unwrap(),
        TokenStatus::Active
    );
    let after = fixture.metrics.render();
    let checks =
        |source: &str| format!("revocation_checks_total{{source=\"{source}\",outcome=\"active\"}}");
    assert_eq!(
        metric(&after, &checks("cache")) - metric(&before, &checks("cache")),
        1.0
    );
    assert_eq!(
        metric(&after, &checks("redis")),
        metric(&before, &checks("redis"))
    );

    // One message each: a token, a client's cut-off (its older tokens are refused).
    let revoked = fixture.token();
    fixture.revoke(&revoked).await;
    fixture.wait_for(revoked, TokenStatus::RevokedToken).await;
    let older = fixture.token();
    let cutoff = Cutoff::Before(Timestamp::from_micros(older.issued_at.as_micros() + 1));
    fixture
        .writer
        .publish_cutoff(older.client_id.as_str(), cutoff)
        .await;
    fixture
        .wait_for(older, TokenStatus::RevokedByClientCutoff)
        .await;

    // Written to Redis without a message, as a rebuild does, then announced by `r`: a
    // snapshot is merged.
    let silent = fixture.token();
    let expires = Timestamp::now().plus_secs(3600).as_secs();
    let _: () = fixture
        .redis
        .set(fixture.key(&format!("jti:{}", silent.claims.jti)), expires)
        .await
        .unwrap();
    let shared = fixture.writer.inner.shared.as_ref().unwrap();
    shared
        .change(shared::Change::Rebuilt, shared::Announce::Always)
        .await
        .unwrap();
    fixture.wait_for(silent, TokenStatus::RevokedToken).await;
    assert_eq!(
        fixture.loads("snapshot"),
        2.0,
        "at start and after the rebuild"
    );
    assert_eq!(fixture.loads("log"), 0.0);
    fixture.clean_up().await;
}

/// A rebuild writes keys from the database and announces them only when it ends. A
/// revocation committed while it runs may find its key written already: the process that
/// made it still announces it, or every copy would go on accepting the token until the
/// rebuild ends (never, if the rebuilding process dies). A token revoked again, and the
/// syncer's repairs, which find most keys there, announce only what Redis lacked.
#[tokio::test]
async fn a_change_whose_key_a_rebuild_wrote_first_is_still_announced_by_its_maker() {
    use redis::AsyncCommands as _;
    let Some(mut fixture) = Fixture::start().await else {
        return;
    };
    let shared = fixture.writer.inner.shared.as_ref().unwrap();
    let token = fixture.token();
    let expires = Timestamp::now().plus_secs(3600);
    let jti = token.claims.jti.as_str();
    let rebuilt = shared::Change::Token {
        jti,
        expires_at: expires.as_secs(),
    };
    shared.write_silently(&[rebuilt]).await.unwrap();
    fixture
        .writer
        .publish_token_revoked(&token.claims.jti, expires, true)
        .await;
    fixture
        .wait_for(token.clone(), TokenStatus::RevokedToken)
        .await;

    let older = fixture.token();
    let cutoff = older.issued_at.as_micros() + 1;
    let client = older.client_id.as_str();
    let rebuilt = shared::Change::Cutoff {
        client_id: client,
        cutoff,
        keep_ms: 3_600_000,
    };
    shared.write_silently(&[rebuilt]).await.unwrap();
    let at = Cutoff::Before(Timestamp::from_micros(cutoff));
    fixture.writer.publish_cutoff(client, at).await;
    fixture
        .wait_for(older, TokenStatus::RevokedByClientCutoff)
        .await;

    // Revoked again, or repaired by a syncer: Redis has the key, nothing is announced.
    let seq_key = fixture.key("seq");
    let before: u64 = fixture.redis.get(&seq_key).await.unwrap();
    fixture
        .writer
        .publish_token_revoked(&token.claims.jti, expires, false)
        .await;
    let repaired = shared
        .token_revoked(jti, expires.as_secs(), shared::Announce::IfNews)
        .await
        .unwrap();
    assert!(!repaired, "the key was there");
    let after: u64 = fixture.redis.get(&seq_key).await.unwrap();
    assert_eq!(after, before, "nothing announced");
    fixture.clean_up().await;
}

#[tokio::test]
async fn a_missed_message_is_read_back_from_the_log_without_a_snapshot() {
    use redis::AsyncCommands as _;
    let Some(mut fixture) = Fixture::start().await else {
        return;
    };
    // A change logged and written, as the script does, but whose message never arrived.
    let missed = fixture.token();
    let expires = Timestamp::now().plus_secs(3600).as_secs();
    let change = format!("j {} {expires}", missed.claims.jti);
    let previous: Option<String> = fixture.redis.get(fixture.key("chain")).await.unwrap();
    let previous = previous.map(|link| u64::from_str_radix(&link, 16).unwrap());
    let link = format!("{:016x}", shared::next_link(previous, &change));
    let seq: u64 = fixture.redis.incr(fixture.key("seq"), 1).await.unwrap();
    let _: () = fixture
        .redis
        .set(fixture.key("chain"), &link)
        .await
        .unwrap();
    let _: () = redis::cmd("XADD")
        .arg(fixture.key("log"))
        .arg(format!("{seq}-0"))
        .arg("m")
        .arg(&change)
        .arg("c")
        .arg(&link)
        .query_async(&mut fixture.redis)
        .await
        .unwrap();
    // The next message shows the gap.
    let next = fixture.token();
    fixture.revoke(&next).await;
    fixture.wait_for(next, TokenStatus::RevokedToken).await;
    fixture.wait_for(missed, TokenStatus::RevokedToken).await;
    assert_eq!(fixture.loads("log"), 1.0);
    assert_eq!(fixture.loads("snapshot"), 1.0, "only the one at start");
    // And the sequence goes on from there.
    let later = fixture.token();
    fixture.revoke(&later).await;
    fixture.wait_for(later, TokenStatus::RevokedToken).await;
    assert_eq!(fixture.loads("log") + fixture.loads("snapshot"), 2.0);
    fixture.clean_up().await;
}

#[tokio::test]
async fn a_changed_history_is_merged_from_a_snapshot_keeping_what_the_copy_knew() {
    use redis::AsyncCommands as _;
    let Some(mut fixture) = Fixture::start().await else {
        return;
    };
    let known = fixture.token();
    fixture.revoke(&known).await;
    fixture
        .wait_for(known.clone(), TokenStatus::RevokedToken)
        .await;
    // A failover to a replica that had not received the last write: the revocation, its
    // number and its log entry are gone.
    let _: () = fixture
        .redis
        .del(&[
            fixture.key("seq"),
            fixture.key("log"),
            fixture.key("chain"),
            fixture.key(&format!("jti:{}", known.claims.jti)),
        ])
        .await
        .unwrap();
    let after = fixture.token();
    fixture.revoke(&after).await;
    fixture.wait_for(after, TokenStatus::RevokedToken).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while fixture.loads("snapshot") < 2.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no snapshot after the history changed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    fixture.wait_for(known, TokenStatus::RevokedToken).await;
    fixture.clean_up().await;
}

#[tokio::test]
async fn a_rebuild_announced_while_a_snapshot_loads_is_loaded_too() {
    use redis::AsyncCommands as _;
    // A server of the test's own: what its clients are doing tells when the snapshot runs.
    let Some(server) = crate::testing::redis_server::RedisServer::start() else {
        return;
    };
    let Some(mut fixture) = Fixture::start_on(server.url()).await else {
        return;
    };
    // Enough keys that a snapshot takes a while to read.
    let expires = Timestamp::now().plus_secs(3600).as_secs();
    let mut pipe = redis::pipe();
    for _ in 0..100_000 {
        let key = fixture.key(&format!("jti:{}", crate::ids::random_id()));
        pipe.set(key, expires).ignore();
    }
    let _: () = pipe.query_async(&mut fixture.redis).await.unwrap();
    let shared = fixture.writer.inner.shared.as_ref().unwrap();
    shared
        .change(shared::Change::Rebuilt, shared::Announce::Always)
        .await
        .unwrap();
    // While the follower reads that snapshot, another rebuild writes a key and is
    // announced: it must be loaded too, without any further message.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let clients: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query_async(&mut fixture.redis)
            .await
            .unwrap();
        if clients.contains("cmd=scan") || clients.contains("cmd=mget") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no snapshot started");
    }
    let late = fixture.token();
    let _: () = fixture
        .redis
        .set(fixture.key(&format!("jti:{}", late.claims.jti)), expires)
        .await
        .unwrap();
    shared
        .change(shared::Change::Rebuilt, shared::Announce::Always)
        .await
        .unwrap();
    fixture.wait_for(late, TokenStatus::RevokedToken).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while fixture.loads("snapshot") < 3.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the second rebuild was not loaded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(fixture.follower.inner.cache.revoked_len() > 100_000);
}
