//! PostgreSQL crashes and comes back while token-service and admin-service (real processes)
//! are under load: requests get 200 or 503, never a 500 or a hang; both services recover
//! without a restart; no acknowledged admin write is lost and none is half-applied.
//! Prints its figures (recorded in docs/RELIABILITY.md).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use auth_core::store::connection::ConnectionManager;
use auth_core::store::{DatabaseUrl, migrate};
use auth_core::testing::postgres::PostgresServer;
use auth_core::testing::process::{Process, binary, free_port};
use auth_core::testing::signing_key_file;
use diesel::RunQueryDsl as _;

use crate::support::{ROOT_ID, ROOT_SECRET, form};

#[derive(Default)]
struct Tally {
    token: BTreeMap<u16, u32>,
    admin: BTreeMap<u16, u32>,
    created: Vec<String>,
}

async fn token(http: &awc::Client, base: &str, id: &str, secret: &str) -> (u16, serde_json::Value) {
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ]);
    match http
        .post(format!("{base}/api/v1/oauth/token"))
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .send_body(body)
        .await
    {
        Ok(mut response) => (
            response.status().as_u16(),
            response.json().await.unwrap_or_default(),
        ),
        Err(error) => panic!("no answer at all: {error}"),
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[actix_web::test]
async fn postgres_crash_under_load_loses_nothing_and_recovers() {
    let Some(pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.url("postgres");
    let mut conn = ConnectionManager::new(DatabaseUrl::parse(&url).unwrap())
        .establish()
        .unwrap();
    migrate::run_migrations(&mut conn).unwrap();
    drop(conn);

    let dir = tempfile::tempdir().unwrap();
    let key = signing_key_file(dir.path());
    let (token_port, admin_port) = (free_port(), free_port());
    let env = |addr_var: &str, port: u16| -> Vec<(String, String)> {
        [
            ("DATABASE_URL", url.clone()),
            ("DATABASE_POOL_SIZE", "4".to_owned()),
            ("OAUTH_ROOT_CLIENT_ID", ROOT_ID.to_owned()),
            ("OAUTH_ROOT_CLIENT_SECRET", ROOT_SECRET.to_owned()),
            ("OAUTH_ISSUER", crate::support::ISSUER.to_owned()),
            ("OAUTH_SIGNING_KEY_FILE", key.display().to_string()),
            ("AUTH_FAILURES_PER_ADDRESS", "100000".to_owned()),
            (
                "TOKEN_SERVICE_URL",
                format!("http://127.0.0.1:{token_port}"),
            ),
            (addr_var, format!("127.0.0.1:{port}")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    };
    let mut tokens = Process::spawn(
        &binary("token-service"),
        token_port,
        &[],
        &env("TOKEN_SERVICE_ADDR", token_port),
        dir.path(),
    );
    let mut admin = Process::spawn(
        &binary("admin-service"),
        admin_port,
        &[],
        &env("ADMIN_SERVICE_ADDR", admin_port),
        dir.path(),
    );
    tokens.wait_live().await;
    admin.wait_ready().await;

    let http = awc::Client::builder()
        .timeout(Duration::from_secs(15))
        .finish();
    let (status, root) = token(&http, &tokens.base, ROOT_ID, ROOT_SECRET).await;
    assert_eq!(status, 200);
    let root = root["access_token"].as_str().unwrap().to_owned();
    let mut response = http
        .post(format!("{}/api/v1/oauth/client", admin.base))
        .insert_header(("authorization", format!("Bearer {root}")))
        .send_json(&serde_json::json!(["client:read"]))
        .await
        .unwrap();
    let client: serde_json::Value = response.json().await.unwrap();
    let (id, secret) = (
        client["client_id"].as_str().unwrap().to_owned(),
        client["client_secret"].as_str().unwrap().to_owned(),
    );

    let tally = Rc::new(RefCell::new(Tally::default()));
    let until = Instant::now() + Duration::from_secs(10);
    let mut workers = Vec::new();
    for _ in 0..3 {
        let (http, base, id, secret, tally) = (
            http.clone(),
            tokens.base.clone(),
            id.clone(),
            secret.clone(),
            Rc::clone(&tally),
        );
        workers.push(actix_web::rt::spawn(async move {
            while Instant::now() < until {
                let (status, _) = token(&http, &base, &id, &secret).await;
                *tally.borrow_mut().token.entry(status).or_default() += 1;
            }
        }));
    }
    {
        let (http, base, root, tally) = (
            http.clone(),
            admin.base.clone(),
            root.clone(),
            Rc::clone(&tally),
        );
        workers.push(actix_web::rt::spawn(async move {
            while Instant::now() < until {
                let sent = http
                    .post(format!("{base}/api/v1/oauth/client"))
                    .insert_header(("authorization", format!("Bearer {root}")))
                    .send_json(&serde_json::json!(["client:read", "scope:read"]))
                    .await;
                let mut response = sent.expect("admin-service answers");
                let status = response.status().as_u16();
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                let mut tally = tally.borrow_mut();
                *tally.admin.entry(status).or_default() += 1;
                if status == 200 {
                    tally
                        .created
                        .push(body["client_id"].as_str().unwrap().to_owned());
                }
            }
        }));
    }
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    pg.kill();
    // Longer than a request waits for a connection (3 s), so some requests must get 503.
    actix_web::rt::time::sleep(Duration::from_secs(5)).await;
    pg.start_again();
    for worker in workers {
        worker.await.unwrap();
    }

    // Recovery without restarting anything.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if token(&http, &tokens.base, &id, &secret).await.0 == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "token-service never recovered:\n{}",
            tokens.output()
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }

    let tally = tally.borrow();
    eprintln!(
        "postgres crash under load: token requests by status {:?}, admin creates by status {:?}",
        tally.token, tally.admin
    );
    for (status, _) in tally.token.iter().chain(tally.admin.iter()) {
        let log = admin.output();
        let tail = &log[log.len().saturating_sub(3000)..];
        assert!(
            [200u16, 503].contains(status),
            "status {status} during the outage; admin log:\n{tail}"
        );
    }
    assert!(
        tally.token.get(&503).is_some_and(|n| *n > 0),
        "the outage was seen: {:?}",
        tally.token
    );

    // Nothing acknowledged is lost; nothing stored is half-applied.
    let mut conn = ConnectionManager::new(DatabaseUrl::parse(&url).unwrap())
        .establish()
        .unwrap();
    let count =
        |conn: &mut _, sql: String| diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n;
    for created in &tally.created {
        let rows = count(
            &mut conn,
            format!("SELECT count(*) AS n FROM clients WHERE id = '{created}'"),
        );
        assert_eq!(rows, 1, "acknowledged client {created} lost");
    }
    let clients = count(&mut conn, "SELECT count(*) AS n FROM clients".into());
    let whole = count(
        &mut conn,
        "SELECT count(*) AS n FROM clients c WHERE \
         (SELECT count(*) FROM client_scopes s WHERE s.client_id = c.id) = \
           CASE WHEN c.id = (SELECT min(id) FROM clients WHERE created_at = (SELECT min(created_at) FROM clients)) THEN 1 ELSE 2 END \
         AND EXISTS (SELECT 1 FROM audit_events a WHERE a.target = c.id AND a.action = 'client.create' AND a.outcome = 'success')"
            .into(),
    );
    assert_eq!(
        whole, clients,
        "every stored client has all its scopes and its audit event"
    );
    for process in [&mut tokens, &mut admin] {
        assert!(
            !process.output().contains("panicked"),
            "{}",
            process.output()
        );
        assert!(process.terminate().success());
    }
}
