//! A follower and a writer on one Redis prefix: changes by message, gaps read back from the
//! log, snapshots after a rebuild or a changed history.

use super::*;

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
    // Enough keys that a snapshot takes a while to read; written 10,000 at a time, as one
    // pipeline of all of them could outlast the connection's response timeout on a busy
    // machine (it did once in CI).
    let expires = Timestamp::now().plus_secs(3600).as_secs();
    for _ in 0..10 {
        let mut pipe = redis::pipe();
        for _ in 0..10_000 {
            let key = fixture.key(&format!("jti:{}", crate::ids::random_id()));
            pipe.set(key, expires).ignore();
        }
        let _: () = pipe.query_async(&mut fixture.redis).await.unwrap();
    }
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
