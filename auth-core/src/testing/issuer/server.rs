//! The test issuer's HTTP server: discovery and JWKS on 127.0.0.1, served from a thread
//! with its own actix system, answering 503 while down and 401 without a required bearer.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::json;

use super::keys::{KeySet, jwks};
use super::{DISCOVERY_PATH, JWKS_PATH, lock};

/// What the HTTP handlers and the test share.
pub(super) struct State {
    pub(super) issuer: String,
    pub(super) keys: Mutex<KeySet>,
    pub(super) down: AtomicBool,
    pub(super) bearer: Mutex<Option<String>>,
    pub(super) jwks_fetches: AtomicU64,
    pub(super) discovery_fetches: AtomicU64,
}

/// Serves `state` on `listener` from a thread with its own actix system; returns the
/// handle that stops it.
pub(super) fn serve(state: Arc<State>, listener: TcpListener) -> ServerHandle {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("test-issuer".to_owned())
        .spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let data = web::Data::from(state);
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .route(DISCOVERY_PATH, web::get().to(discovery))
                        .route(JWKS_PATH, web::get().to(jwks_document))
                        .default_service(web::to(not_found))
                })
                .workers(1)
                .disable_signals()
                .listen(listener)
                .expect("listen on the test issuer port")
                .run();
                let _ = sender.send(server.handle());
                let _ = server.await;
            });
        })
        .expect("start the test issuer thread");
    receiver.recv().expect("the test issuer started")
}

/// 503 while down, 401 without the required bearer token, else `None` (serve).
fn refusal(state: &State, request: &HttpRequest) -> Option<HttpResponse> {
    if state.down.load(Ordering::SeqCst) {
        return Some(HttpResponse::ServiceUnavailable().json(json!({
            "kind": "Status", "status": "Failure", "reason": "ServiceUnavailable", "code": 503,
        })));
    }
    let required = lock(&state.bearer).clone();
    if let Some(required) = required {
        let presented = request
            .headers()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        if presented != Some(required.as_str()) {
            return Some(HttpResponse::build(StatusCode::UNAUTHORIZED).json(json!({
                "kind": "Status", "status": "Failure", "reason": "Unauthorized", "code": 401,
            })));
        }
    }
    None
}

async fn discovery(state: web::Data<State>, request: HttpRequest) -> HttpResponse {
    if let Some(refusal) = refusal(&state, &request) {
        return refusal;
    }
    state.discovery_fetches.fetch_add(1, Ordering::SeqCst);
    HttpResponse::Ok().json(json!({
        "issuer": state.issuer,
        "jwks_uri": format!("{}{JWKS_PATH}", state.issuer),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks_document(state: web::Data<State>, request: HttpRequest) -> HttpResponse {
    if let Some(refusal) = refusal(&state, &request) {
        return refusal;
    }
    let body = jwks(&lock(&state.keys));
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .body(body.to_string())
}

async fn not_found(state: web::Data<State>, request: HttpRequest) -> HttpResponse {
    refusal(&state, &request).unwrap_or_else(|| HttpResponse::NotFound().finish())
}
