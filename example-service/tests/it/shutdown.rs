//! Graceful shutdown: SIGTERM while a request is in flight lets it finish, then exits 0.

use std::time::{Duration, Instant};

use auth_core::testing::{Backend, TestDatabase};

use crate::cluster::{
    Process, ROOT_ID, ROOT_SECRET, binary, free_port, service_env, signing_key_file,
};
use crate::http::{call, token_request};

#[actix_web::test]
async fn sigterm_lets_an_in_flight_token_request_finish() {
    let Some(db) = TestDatabase::create(Backend::Postgres) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = signing_key_file(dir.path());
    let token_port = free_port();
    let env = service_env(
        &db,
        &key,
        "http://auth.shutdown-test",
        &[("TOKEN_SERVICE_ADDR", format!("127.0.0.1:{token_port}"))],
    );
    let http = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let mut token_service =
        Process::spawn(&binary("token-service"), token_port, &[], &env, dir.path());
    token_service.wait_live().await;

    let (request, body) = token_request(&http, &token_service.base, ROOT_ID, ROOT_SECRET);
    let root = call(request, Some(body)).await;
    assert_eq!(root.status, 200, "{}", root.json);
    // A client imported with a bcrypt hash at the production cost: its first token request
    // takes a few hundred milliseconds.
    let (id, secret) = imported_bcrypt_client(&db, 12).await;

    // The client's first token request (bcrypt at cost 12), and SIGTERM while it runs.
    let (request, body) = token_request(&http, &token_service.base, &id, &secret);
    let in_flight = actix_web::rt::spawn(async move {
        let reply = call(request, Some(body)).await;
        (reply, Instant::now())
    });
    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    token_service.sigterm();
    let signalled_at = Instant::now();

    let (reply, answered_at) = in_flight.await.unwrap();
    assert_eq!(
        reply.status,
        200,
        "{}\n{}",
        reply.json,
        token_service.output()
    );
    assert!(reply.json["access_token"].is_string());
    assert!(
        answered_at > signalled_at,
        "the request was still in flight when SIGTERM was sent"
    );
    let status = token_service.wait_exit(Duration::from_secs(30)).await;
    assert!(
        status.success(),
        "token-service exited with {status}:\n{}",
        token_service.output()
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", token_port)).is_err());
}

/// A client whose stored hash is a bcrypt string of `cost`, as `import-fidesops` brings
/// them over; returns its id and secret.
async fn imported_bcrypt_client(db: &TestDatabase, cost: u32) -> (String, String) {
    use auth_core::ids::ClientId;
    use auth_core::store::{Store, clients};
    use auth_core::time::Timestamp;
    let id = ClientId::generate();
    let secret = "an-imported-fidesops-secret".to_owned();
    let hash = bcrypt::hash(&secret, cost).unwrap();
    let store = Store::new(&db.url, 1);
    let row_id = id.clone();
    store
        .run(move |conn| {
            let now = Timestamp::now().as_micros();
            clients::insert(
                conn,
                &clients::NewClient {
                    id: row_id.as_str(),
                    secret_hash: &hash,
                    name: None,
                    description: None,
                    created_at: now,
                    updated_at: now,
                    tokens_valid_after: now,
                },
                &[],
            )
        })
        .await
        .unwrap();
    (id.as_str().to_owned(), secret)
}
