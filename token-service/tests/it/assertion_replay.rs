//! `private_key_jwt` assertions used once across replicas sharing a Redis (one `SET NX`
//! each), and refused with 503 when that Redis does not answer.

use crate::assertions::{ClientKey, claims};
use crate::support::TestApp;

/// With Redis, the single use is recorded there (one `SET NX` per assertion), and holds
/// across replicas sharing it.
#[actix_web::test]
async fn with_redis_an_assertion_is_used_once_across_replicas() {
    let Some(app) = TestApp::spawn_with_redis(&[]).await else {
        return;
    };
    let key = ClientKey::ed25519();
    let id = app.client_with_key("", &key).await;
    let assertion = key.sign(&claims(&id));
    assert_eq!(app.token_with_assertion(&assertion, &[]).await.status, 200);
    let replica = app.replica().await;
    assert_eq!(
        replica.token_with_assertion(&assertion, &[]).await.status,
        401
    );
    let settings = app.redis_settings();
    let mut conn = settings
        .client()
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let recorded: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:jti:*", settings.key_prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        recorded.len(),
        1,
        "one key per assertion, in Redis: {recorded:?}"
    );
    let ttl: i64 = redis::cmd("TTL")
        .arg(&recorded[0])
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        (1..=130).contains(&ttl),
        "kept until the assertion expires: {ttl}"
    );
}

/// With Redis configured but gone, an assertion's single use cannot be checked against the
/// other replicas' records: it is refused with 503 (and a retry after Redis is back works),
/// never accepted unchecked.
#[actix_web::test]
async fn without_its_redis_an_assertion_is_refused_with_503() {
    let Some(mut redis) = auth_core::testing::redis_server::RedisServer::start() else {
        return;
    };
    let url = redis.url();
    let Some(app) = TestApp::spawn_with(
        auth_core::testing::Backend::Postgres,
        &[("REDIS_URL", url.as_str())],
    )
    .await
    else {
        return;
    };
    let key = ClientKey::ed25519();
    let id = app.client_with_key("", &key).await;
    assert_eq!(
        app.token_with_assertion(&key.sign(&claims(&id)), &[])
            .await
            .status,
        200
    );
    redis.stop();
    let assertion = key.sign(&claims(&id));
    let reply = app.token_with_assertion(&assertion, &[]).await;
    assert_eq!(reply.status, 503, "{:?}", reply.body);
    assert_eq!(reply.error(), "temporarily_unavailable");
    redis.restart().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let status = app.token_with_assertion(&assertion, &[]).await.status;
        if status == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still {status}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
