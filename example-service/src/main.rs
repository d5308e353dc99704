//! example-service: a resource service built on auth-core's `actix` and `client` features.
//!
//! - `GET /whoami`: any valid, unrevoked token; answers the caller's client id and scopes.
//! - `GET /datasets`: requires the `dataset:read` scope.
//! - `GET /registry`: calls admin-service's scope registry with this service's own token
//!   (client credentials from the `OAUTH_TOKEN_URL` and `OAUTH_CLIENT_*` variables).
//! - `GET /health/live`, `GET /metrics`.
//!
//! Configuration: the resource-server variables of `auth_core::resource::ResourceServerConfig`,
//! plus `EXAMPLE_SERVICE_ADDR` \[127.0.0.1:8090\] and, only for `/registry`,
//! `ADMIN_SERVICE_URL` (unset: `/registry` answers 404) with the token source's variables
//! (`auth_core::client::TokenSource::from_env`):
//!
//! | variable | meaning |
//! | --- | --- |
//! | `OAUTH_TOKEN_URL` | the token endpoint, e.g. `http://token-service:8080/api/v1/oauth/token` \[required\] |
//! | `OAUTH_CLIENT_ID` | this service's client id \[required, except with a token file\] |
//! | `OAUTH_CLIENT_ID_FILE` | or: a file holding it (`authctl apply --ids-dir` writes them) |
//! | `OAUTH_CLIENT_SECRET` | its client secret (`client_secret_basic`) |
//! | `OAUTH_CLIENT_KEY_FILE` | or: a PEM private key (Ed25519, P-256, RSA) signing `private_key_jwt` assertions |
//! | `OAUTH_CLIENT_TOKEN_FILE` | or: a platform token file (a Kubernetes projected service-account token), read before each request |
//! | `OAUTH_CLIENT_KEY_ID` | the assertions' `kid` \[the key's RFC 7638 thumbprint\] |
//! | `OAUTH_ISSUER` | also the assertions' `aud` (the token service's identity, whatever URL reaches it) \[the token URL\] |
//! | `OAUTH_CLIENT_SCOPE` | scopes to ask for \[all of the client's\] |
//! | `OAUTH_CLIENT_RESOURCE` | audiences to ask for (RFC 8707), separated by spaces or commas \[the default audience\] |
//!
//! Exactly one of `OAUTH_CLIENT_SECRET`, `OAUTH_CLIENT_KEY_FILE` and `OAUTH_CLIENT_TOKEN_FILE`.

use std::process::ExitCode;
use std::sync::Arc;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use auth_core::client::TokenSource;
use auth_core::config::{ConfigError, Env, LogFormat};
use auth_core::metrics::Metrics;
use auth_core::request_telemetry;
use auth_core::resource::{AuthError, Authenticated, ResourceServer, ResourceServerConfig};
use serde_json::json;

struct Outgoing {
    admin_url: String,
    tokens: TokenSource,
    http: reqwest::Client,
}

async fn whoami(caller: Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "client_id": caller.token.client_id,
        "scopes": caller.token.scopes,
    }))
}

async fn datasets(caller: Authenticated) -> Result<HttpResponse, AuthError> {
    caller.require("dataset:read")?;
    Ok(HttpResponse::Ok().json(json!({ "datasets": ["orders", "customers"] })))
}

async fn registry(_caller: Authenticated, outgoing: web::Data<Option<Outgoing>>) -> HttpResponse {
    let Some(outgoing) = outgoing.as_ref() else {
        return HttpResponse::NotFound().json(json!({
            "error": "not_found",
            "error_description": "outgoing calls are not configured",
        }));
    };
    let token = match outgoing.tokens.token().await {
        Ok(token) => token,
        Err(error) => {
            tracing::warn!(%error, "could not get a token for the outgoing call");
            return HttpResponse::BadGateway().json(json!({
                "error": "bad_gateway",
                "error_description": "could not get a token",
            }));
        }
    };
    let url = format!("{}/api/v1/oauth/scope", outgoing.admin_url);
    let request = outgoing.http.get(url).bearer_auth(&token.value);
    match auth_core::client::with_trace_context(request).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            HttpResponse::Ok().json(json!({ "upstream_status": status, "scopes": body }))
        }
        Err(_) => HttpResponse::BadGateway().json(json!({
            "error": "bad_gateway",
            "error_description": "admin-service did not answer",
        })),
    }
}

async fn metrics_text(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics.render())
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

fn outgoing(env: &Env<'_>) -> Result<Option<Outgoing>, ConfigError> {
    let Some(admin_url) = env.get("ADMIN_SERVICE_URL") else {
        return Ok(None);
    };
    Ok(Some(Outgoing {
        admin_url: admin_url.trim().trim_end_matches('/').to_owned(),
        tokens: TokenSource::from_env(env)?,
        http: reqwest::Client::new(),
    }))
}

#[actix_web::main]
async fn main() -> ExitCode {
    let env = Env::process();
    let configured = (|| {
        let config = ResourceServerConfig::from_env(&env)?;
        let addr = env.socket_addr("EXAMPLE_SERVICE_ADDR", "127.0.0.1:8090")?;
        Ok::<_, ConfigError>((config, addr, outgoing(&env)?, LogFormat::from_env(&env)?))
    })();
    let (config, addr, outgoing, log_format) = match configured {
        Ok(parts) => parts,
        Err(error) => {
            eprintln!("example-service: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    let _telemetry = auth_core::telemetry::init(log_format, "example-service");
    let metrics = Arc::new(Metrics::new());
    let server = match ResourceServer::start(&config, Arc::clone(&metrics)).await {
        Ok(server) => web::Data::new(server),
        Err(error) => {
            eprintln!("example-service: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outgoing: web::Data<Option<Outgoing>> = web::Data::new(outgoing);
    let metrics = web::Data::from(metrics);
    let bound = HttpServer::new(move || {
        App::new()
            .app_data(server.clone())
            .app_data(outgoing.clone())
            .app_data(metrics.clone())
            .wrap(from_fn(request_telemetry::middleware))
            .route("/whoami", web::get().to(whoami))
            .route("/datasets", web::get().to(datasets))
            .route("/registry", web::get().to(registry))
            .route("/health/live", web::get().to(live))
            .route("/metrics", web::get().to(metrics_text))
    })
    .bind(addr);
    let result = match bound {
        Ok(server) => {
            tracing::info!(%addr, "example-service listening");
            server.run().await
        }
        Err(error) => {
            eprintln!("example-service: EXAMPLE_SERVICE_ADDR: cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("example-service: {error}");
            ExitCode::FAILURE
        }
    }
}
