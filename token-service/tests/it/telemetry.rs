//! Observability: metrics move by the right amounts, and spans reach an OTLP receiver with
//! the caller's trace as parent (that logs hold no secret is in `logs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, HttpServer, web};
use auth_core::ids::ClientId;
use auth_core::scopes::parse_scope_list;
use auth_core::secret::{ClientSecret, SecretHash};
use auth_core::store::{Store, clients};
use auth_core::testing::process::{Process, binary, free_port};
use auth_core::testing::{Backend, TestDatabase, signing_key_file};
use auth_core::time::Timestamp;

use crate::support::{ROOT_ID, ROOT_SECRET, TestApp, form};

/// `name{labels}` → value, from an OpenMetrics exposition.
fn parse_metrics(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| {
            let (key, value) = line.rsplit_once(' ')?;
            Some((key.to_owned(), value.parse().ok()?))
        })
        .collect()
}

async fn scrape(app: &TestApp) -> HashMap<String, f64> {
    let response = awc::Client::default()
        .get(format!("{}/metrics", app.base))
        .send()
        .await;
    let body = response.unwrap().body().await.unwrap();
    parse_metrics(std::str::from_utf8(&body).unwrap())
}

fn moved(before: &HashMap<String, f64>, after: &HashMap<String, f64>, key: &str) -> f64 {
    after.get(key).copied().unwrap_or(0.0) - before.get(key).copied().unwrap_or(0.0)
}

#[actix_web::test]
async fn metrics_move_by_the_right_amounts() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let (id, secret) = app.create_client("client:read").await;
    let grant = ("grant_type", "client_credentials");
    let before = scrape(&app).await;
    for _ in 0..3 {
        let reply = app
            .token_form(&[grant, ("client_id", &id), ("client_secret", &secret)])
            .await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    for _ in 0..2 {
        let reply = app
            .token_form(&[grant, ("client_id", &id), ("client_secret", "ocs_wrong")])
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let scope = app
        .token_form(&[
            grant,
            ("client_id", &id),
            ("client_secret", &secret),
            ("scope", "client:delete"),
        ])
        .await;
    assert_eq!(scope.status, StatusCode::BAD_REQUEST);
    let grant_type = app
        .token_form(&[
            ("grant_type", "password"),
            ("client_id", &id),
            ("client_secret", &secret),
        ])
        .await;
    assert_eq!(grant_type.status, StatusCode::BAD_REQUEST);
    let after = scrape(&app).await;

    let expect = [
        ("oauth_tokens_issued_total", 3.0),
        (
            "oauth_token_requests_refused_total{reason=\"invalid_client\"}",
            2.0,
        ),
        (
            "oauth_token_requests_refused_total{reason=\"invalid_scope\"}",
            1.0,
        ),
        (
            "oauth_token_requests_refused_total{reason=\"unsupported_grant_type\"}",
            1.0,
        ),
        // The unsupported grant is refused before any secret is checked; generated
        // secrets are stored as SHA-256, so no check needs bcrypt.
        ("bcrypt_verifications_total", 0.0),
        ("secret_verification_cache_total{result=\"miss\"}", 6.0),
        (
            "http_request_duration_seconds_count{route=\"/api/v1/oauth/token\",method=\"POST\",status=\"200\"}",
            3.0,
        ),
        (
            "http_request_duration_seconds_count{route=\"/api/v1/oauth/token\",method=\"POST\",status=\"401\"}",
            2.0,
        ),
        (
            "http_request_duration_seconds_count{route=\"/api/v1/oauth/token\",method=\"POST\",status=\"400\"}",
            2.0,
        ),
    ];
    for (key, amount) in expect {
        assert_eq!(moved(&before, &after, key), amount, "{key}");
    }
    assert!(after.contains_key("db_pool_connections{state=\"idle\"}"));
    assert_eq!(after.get("bcrypt_waiting"), Some(&0.0));
}

/// Collects OTLP/JSON trace exports.
async fn otlp_receiver() -> (u16, Arc<Mutex<Vec<serde_json::Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&received);
    let port = free_port();
    let server = HttpServer::new(move || {
        let sink = Arc::clone(&sink);
        App::new().route(
            "/v1/traces",
            web::post().to(move |body: web::Bytes| {
                let sink = Arc::clone(&sink);
                async move {
                    if let Ok(json) = serde_json::from_slice(&body) {
                        sink.lock().unwrap().push(json);
                    }
                    HttpResponse::Ok().json(serde_json::json!({}))
                }
            }),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", port))
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    (port, received)
}

/// Every exported span, flattened.
fn spans(exports: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let mut all = Vec::new();
    for export in exports {
        for resource in export["resourceSpans"].as_array().into_iter().flatten() {
            for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                all.extend(scope["spans"].as_array().into_iter().flatten().cloned());
            }
        }
    }
    all
}

fn attribute<'a>(span: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)?["value"]["stringValue"]
        .as_str()
}

/// A client inserted straight into the database of a service under test.
async fn insert_client(db: &TestDatabase, scopes: &str) -> (String, String) {
    let store = Store::new(&db.url, 1);
    let id = ClientId::generate();
    let secret = ClientSecret::generate();
    let hash = SecretHash::of(&secret);
    let scopes = parse_scope_list(scopes).unwrap();
    let answer = (id.as_str().to_owned(), secret.expose().to_owned());
    store
        .run(move |conn| {
            let now = Timestamp::now().as_micros();
            let row = clients::NewClient {
                id: id.as_str(),
                secret_hash: hash.as_str(),
                name: None,
                description: None,
                created_at: now,
                updated_at: now,
                tokens_valid_after: now,
            };
            clients::insert(conn, &row, &scopes)
        })
        .await
        .unwrap();
    answer
}

pub(crate) fn service_env(
    db: &TestDatabase,
    key: &std::path::Path,
    extra: &[(&str, String)],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("DATABASE_URL", db.url_string()),
        ("OAUTH_ROOT_CLIENT_ID", ROOT_ID.into()),
        ("OAUTH_ROOT_CLIENT_SECRET", ROOT_SECRET.into()),
        ("OAUTH_ISSUER", crate::support::ISSUER.into()),
        ("OAUTH_SIGNING_KEY_FILE", key.display().to_string()),
        ("LOG_FORMAT", "json".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    env
}

#[actix_web::test]
async fn spans_reach_an_otlp_receiver_under_the_callers_trace() {
    let Some(db) = TestDatabase::create(Backend::Postgres) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = signing_key_file(dir.path());
    let (id, secret) = insert_client(&db, "client:read").await;
    let (receiver_port, received) = otlp_receiver().await;
    let port = free_port();
    let env = service_env(
        &db,
        &key,
        &[
            ("TOKEN_SERVICE_ADDR", format!("127.0.0.1:{port}")),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{receiver_port}"),
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json".into()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
        ],
    );
    let mut service = Process::spawn(&binary("token-service"), port, &[], &env, dir.path());
    service.wait_live().await;

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent_id = "00f067aa0ba902b7";
    let response = awc::Client::default()
        .post(format!("{}/api/v1/oauth/token", service.base))
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .insert_header(("traceparent", format!("00-{trace_id}-{parent_id}-01")))
        .send_body(form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ]))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // SIGTERM flushes the exporter before exit.
    assert!(service.terminate().success(), "{}", service.output());

    let deadline = Instant::now() + Duration::from_secs(10);
    let request = loop {
        let all = spans(&received.lock().unwrap());
        if let Some(span) = all.iter().find(|s| s["name"] == "POST /api/v1/oauth/token") {
            break (span.clone(), all);
        }
        assert!(
            Instant::now() < deadline,
            "no request span exported:\n{}",
            service.output()
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    let (span, all) = request;
    assert_eq!(
        span["traceId"]
            .as_str()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some(trace_id)
    );
    assert_eq!(
        span["parentSpanId"]
            .as_str()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some(parent_id)
    );
    assert_eq!(attribute(&span, "client_id"), Some(id.as_str()));
    assert_eq!(attribute(&span, "outcome"), Some("issued"));
    assert_eq!(attribute(&span, "http.route"), Some("/api/v1/oauth/token"));
    let children: Vec<&str> = all
        .iter()
        .filter(|s| s["traceId"] == span["traceId"] && s["parentSpanId"] == span["spanId"])
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(children.contains(&"db.query"), "{children:?}");
}
