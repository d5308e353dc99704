//! Request limits: each answers a clear 4xx and a slow client is cut off.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use auth_core::testing::Backend;

use crate::support::TestApp;

fn port(app: &TestApp) -> u16 {
    app.base.rsplit(':').next().unwrap().parse().unwrap()
}

/// Sends raw bytes, then reads whatever comes back within `wait`.
fn raw_exchange(port: u16, bytes: &[u8], wait: Duration) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    let _ = stream.write_all(bytes);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[actix_web::test]
async fn too_many_form_fields_are_refused() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let body: String =
        (0..40).map(|i| format!("f{i}=x&")).collect::<String>() + "grant_type=client_credentials";
    let reply = app
        .post_raw(
            "/api/v1/oauth/token",
            "application/x-www-form-urlencoded",
            body,
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error(), "invalid_request");
}

#[actix_web::test]
async fn a_client_that_never_finishes_its_request_is_cut_off() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let port = port(&app);
    let started = Instant::now();
    let answer = actix_web::rt::task::spawn_blocking(move || {
        raw_exchange(
            port,
            b"POST /api/v1/oauth/token HTTP/1.1\r\nHost: test\r\n",
            Duration::from_secs(15),
        )
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[actix_web::test]
async fn an_oversized_header_is_a_4xx() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let port = port(&app);
    let request = format!(
        "GET /health/live HTTP/1.1\r\nHost: test\r\nX-Padding: {}\r\n\r\n",
        "a".repeat(128 * 1024)
    );
    let answer = actix_web::rt::task::spawn_blocking(move || {
        raw_exchange(port, request.as_bytes(), Duration::from_secs(5))
    })
    .await
    .unwrap();
    let status: u16 = answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    assert!((400..500).contains(&status), "{answer:.80}");
}
