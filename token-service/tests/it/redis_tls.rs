//! Redis over TLS (`rediss://`), as managed services run it: a redis-server of the test's
//! own that speaks only TLS and requires a client certificate, with a CA the test made.
//! Two replicas share revocations and per-client counts through it; a client without the
//! right CA or certificate is refused by the handshake.

use actix_web::http::StatusCode;
use auth_core::shared_redis::RedisSettings;
use auth_core::testing::Backend;
use auth_core::testing::redis_server::{RedisServer, ping};

use crate::support::{Reply, TestApp};

async fn ask(app: &TestApp, id: &str, secret: &str) -> Reply {
    app.token_form(&[
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ])
    .await
}

#[actix_web::test]
async fn replicas_share_revocations_and_limits_over_mutual_tls() {
    let dir = tempfile::tempdir().unwrap();
    let Some(redis) = RedisServer::start_tls(dir.path()) else {
        return;
    };
    let tls = redis.tls_files().unwrap().clone();
    assert_eq!(ping(&redis.settings("t")).unwrap(), "PONG");

    // The handshake refuses a client that trusts another CA, or shows no certificate.
    let other_dir = tempfile::tempdir().unwrap();
    let Some(other) = RedisServer::start_tls(other_dir.path()) else {
        return;
    };
    let wrong_ca = RedisSettings::from_env(&auth_core::config::Env::from_fn(|name| match name {
        "REDIS_URL" => Some(redis.url()),
        "REDIS_CA_FILE" => Some(other.tls_files().unwrap().ca.display().to_string()),
        "REDIS_CLIENT_CERT_FILE" => Some(tls.client_cert.display().to_string()),
        "REDIS_CLIENT_KEY_FILE" => Some(tls.client_key.display().to_string()),
        _ => None,
    }))
    .unwrap()
    .unwrap();
    assert!(ping(&wrong_ca).is_err(), "a server signed by another CA");
    let no_certificate =
        RedisSettings::from_env(&auth_core::config::Env::from_fn(|name| match name {
            "REDIS_URL" => Some(redis.url()),
            "REDIS_CA_FILE" => Some(tls.ca.display().to_string()),
            _ => None,
        }))
        .unwrap()
        .unwrap();
    assert!(ping(&no_certificate).is_err(), "no client certificate");
    let plain = RedisSettings::new(format!("redis://127.0.0.1:{}", redis.port), "t");
    assert!(ping(&plain).is_err(), "the server speaks only TLS");

    let prefix = "tlstest";
    let mut vars: Vec<(&str, String)> = redis.env();
    vars.push(("REDIS_KEY_PREFIX", prefix.to_owned()));
    vars.push(("CLIENT_TOKENS_PER_MINUTE", "3".to_owned()));
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let Some(one) = TestApp::spawn_with(Backend::Postgres, &vars).await else {
        return;
    };
    let two = one.replica().await;
    let (id, secret) = one.create_client("").await;
    let first = ask(&one, &id, &secret).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(ask(&two, &id, &secret).await.status, StatusCode::OK);
    assert_eq!(ask(&one, &id, &secret).await.status, StatusCode::OK);
    // The fourth token of the minute is refused, whichever replica is asked: the count is
    // in the TLS Redis.
    let refused = ask(&two, &id, &secret).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    assert!(!redis.keys(&format!("{prefix}:usage:")).is_empty());

    // A revocation on one replica is written to the TLS Redis and refused by the other.
    let token = first.token().to_owned();
    let revoked = one.revoke(&id, &secret, &token).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert_eq!(two.introspect(&token).await.body["active"], false);
    assert!(!redis.keys(&format!("{prefix}:rev:")).is_empty());
}
