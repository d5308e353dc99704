//! Stored secrets: generated ones are SHA-256 and never meet bcrypt; imported ones (bcrypt,
//! fidesops' salted SHA-512) verify once and are upgraded; Basic credentials that a
//! library did not form-encode still authenticate; unknown client and wrong secret cost
//! the same.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use auth_core::testing::Backend;
use sha2::{Digest as _, Sha512};

use crate::support::{ROOT_ID, TestApp, on_both_backends};

const GRANT: (&str, &str) = ("grant_type", "client_credentials");

on_both_backends!(
    generated_secrets_are_sha256_and_never_run_bcrypt,
    an_imported_bcrypt_hash_verifies_once_and_is_upgraded,
    a_fidesops_sha512_hash_verifies_and_is_upgraded,
    basic_secrets_with_reserved_characters_work_raw_or_encoded,
);

async fn token(app: &TestApp, id: &str, secret: &str) -> StatusCode {
    app.token_form(&[GRANT, ("client_id", id), ("client_secret", secret)])
        .await
        .status
}

async fn generated_secrets_are_sha256_and_never_run_bcrypt(app: TestApp) {
    let (id, secret) = app.create_client("client:read").await;
    assert!(app.stored_hash(&id).await.starts_with("sha256$"));
    for _ in 0..3 {
        assert_eq!(token(&app, &id, &secret).await, StatusCode::OK);
    }
    assert_eq!(
        token(&app, &id, "ocs_wrong").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.metric("bcrypt_verifications_total").await, 0.0);
}

async fn an_imported_bcrypt_hash_verifies_once_and_is_upgraded(app: TestApp) {
    // As fidesops stored it (after hex-decoding): a bcrypt string with its own salt.
    let secret = "3f7c9a1e5b2d4c6f8a0b1c2d3e4f5a6b";
    let id = app
        .insert_client(&bcrypt::hash(secret, 4).unwrap(), "client:read")
        .await;
    assert_eq!(
        token(&app, &id, "not-the-secret").await,
        StatusCode::UNAUTHORIZED
    );
    assert!(
        app.stored_hash(&id).await.starts_with("$2b$"),
        "a failure upgrades nothing"
    );
    let before = app.metric("bcrypt_verifications_total").await;
    assert_eq!(token(&app, &id, secret).await, StatusCode::OK);
    assert_eq!(app.metric("bcrypt_verifications_total").await - before, 1.0);
    assert!(
        app.stored_hash(&id).await.starts_with("sha256$"),
        "upgraded"
    );
    assert_eq!(app.metric("secret_hash_upgrades_total").await, 1.0);
    for _ in 0..3 {
        assert_eq!(token(&app, &id, secret).await, StatusCode::OK);
    }
    assert_eq!(
        token(&app, &id, "not-the-secret").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.metric("bcrypt_verifications_total").await - before,
        1.0,
        "bcrypt ran once"
    );
}

async fn a_fidesops_sha512_hash_verifies_and_is_upgraded(app: TestApp) {
    // fidesops before mid-2022: hex SHA-512 of the secret followed by the client's salt.
    let (secret, salt) = (
        "a1b2c3d4e5f60718293a4b5c6d7e8f90",
        "$2b$12$ZmlkZXNvcHMtc2FsdC0x",
    );
    let digest = Sha512::digest(format!("{secret}{salt}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let id = app
        .insert_client(&format!("fidesops-sha512${hex}${salt}"), "")
        .await;
    assert_eq!(token(&app, &id, "wrong").await, StatusCode::UNAUTHORIZED);
    assert_eq!(token(&app, &id, secret).await, StatusCode::OK);
    assert!(app.stored_hash(&id).await.starts_with("sha256$"));
    assert_eq!(token(&app, &id, secret).await, StatusCode::OK);
}

async fn basic_secrets_with_reserved_characters_work_raw_or_encoded(app: TestApp) {
    // A secret from elsewhere with characters form encoding changes.
    let secret = "s3cr+t%41/with=odd&chars";
    let stored =
        auth_core::secret::SecretHash::of(&auth_core::secret::ClientSecret::parse(secret).unwrap());
    let id = app.insert_client(stored.as_str(), "client:read").await;
    let encoded = app.token_basic(&id, secret, &[GRANT]).await;
    assert_eq!(encoded.status, StatusCode::OK, "{}", encoded.body);
    // requests' HTTPBasicAuth, authlib, requests-oauthlib: base64 of `id:secret` as is.
    let raw = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{id}:{secret}")
        )
    );
    let reply = app
        .token_with_headers(&[GRANT], &[("authorization", &raw)])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let post = app
        .token_form(&[GRANT, ("client_id", &id), ("client_secret", secret)])
        .await;
    assert_eq!(post.status, StatusCode::OK);
    // The decoded form of the raw secret is not the secret: only the raw form matched.
    let wrong = app
        .token_form(&[
            GRANT,
            ("client_id", &id),
            ("client_secret", "s3cr t%41/with=odd&chars"),
        ])
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn the_root_secret_with_reserved_characters_works_raw_or_encoded() {
    let secret = "root+secret%2Fwith/reserved=chars";
    let Some(app) =
        TestApp::spawn_with(Backend::Sqlite, &[("OAUTH_ROOT_CLIENT_SECRET", secret)]).await
    else {
        return;
    };
    let encoded = app.token_basic(ROOT_ID, secret, &[GRANT]).await;
    assert_eq!(encoded.status, StatusCode::OK);
    let raw = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{ROOT_ID}:{secret}")
        )
    );
    let reply = app
        .token_with_headers(&[GRANT], &[("authorization", &raw)])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let spaced = secret.replace('+', " ");
    assert_eq!(
        token(&app, ROOT_ID, &spaced).await,
        StatusCode::UNAUTHORIZED,
        "a + turned into a space is a different secret"
    );
}

#[actix_web::test]
async fn an_imported_hash_above_bcrypt_cost_is_never_run() {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, &[("BCRYPT_COST", "4")]).await else {
        return;
    };
    let secret = "an-imported-secret-of-fidesops";
    let id = app
        .insert_client(&bcrypt::hash(secret, 5).unwrap(), "client:read")
        .await;
    assert_eq!(token(&app, &id, secret).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.metric("bcrypt_verifications_total").await, 0.0);
    assert!(
        app.stored_hash(&id).await.starts_with("$2b$05$"),
        "left as it was"
    );
}

#[actix_web::test]
async fn an_imported_client_pays_bcrypt_once_across_replicas() {
    let Some(first) = TestApp::spawn_with_redis(&[]).await else {
        return;
    };
    let second = first.replica().await;
    let secret = "an-imported-secret-of-fidesops";
    let id = first
        .insert_client(&bcrypt::hash(secret, 4).unwrap(), "client:read")
        .await;
    assert_eq!(token(&first, &id, secret).await, StatusCode::OK);
    for _ in 0..3 {
        assert_eq!(token(&second, &id, secret).await, StatusCode::OK);
        assert_eq!(token(&first, &id, secret).await, StatusCode::OK);
    }
    let runs = first.metric("bcrypt_verifications_total").await
        + second.metric("bcrypt_verifications_total").await;
    assert_eq!(runs, 1.0, "bcrypt once in the whole fleet");
}

/// Median time of `samples` token requests made by `request`.
async fn median_time<F, Fut>(samples: usize, mut request: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StatusCode>,
{
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        assert_eq!(request().await, StatusCode::UNAUTHORIZED);
        times.push(started.elapsed());
    }
    times.sort();
    times[samples / 2]
}

#[actix_web::test]
async fn unknown_client_and_wrong_secret_take_the_same_time() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let (id, _) = app.create_client("client:read").await;
    let unknown = auth_core::ids::ClientId::generate();
    // Interleaved rounds, so drift of a shared machine hits both alike.
    let (mut wrong_secret, mut unknown_client) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        wrong_secret.push(median_time(40, || token(&app, &id, "ocs_wrong-secret")).await);
        unknown_client
            .push(median_time(40, || token(&app, unknown.as_str(), "ocs_wrong-secret")).await);
    }
    wrong_secret.sort();
    unknown_client.sort();
    let (wrong, unknown) = (wrong_secret[2], unknown_client[2]);
    let ratio = wrong.as_secs_f64() / unknown.as_secs_f64();
    // Both are one lookup and one digest comparison; bcrypt for one of them would be 100×.
    assert!(
        (0.6..1.67).contains(&ratio),
        "wrong secret {wrong:?} vs unknown client {unknown:?}"
    );
}
