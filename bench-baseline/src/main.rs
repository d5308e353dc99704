//! bench-baseline: the ceiling `scripts/bench` compares the services against.
//!
//! A minimal actix-web server that does the parsing work of the token endpoint and none of
//! its authentication or signing: `POST /api/v1/oauth/token` checks the content type, reads
//! the form body (8 KiB at most) and an `Authorization: Basic` header, requires
//! `grant_type=client_credentials` and one set of client credentials, and answers a fixed
//! JSON body of `BASELINE_BODY_BYTES` bytes with the token response's headers.
//!
//! Configuration: `BASELINE_ADDR` \[127.0.0.1:8099\], `BASELINE_BODY_BYTES` \[600\],
//! `HTTP_WORKERS` \[two per CPU, as the services' default (`auth_core::settings`)\].

use actix_web::http::header::{self, HeaderValue};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Largest request body accepted, as in token-service.
const MAX_FORM_BYTES: usize = 8 * 1024;

/// The fixed answer, shared by every worker.
struct Fixed {
    body: web::Bytes,
}

/// A token-response-shaped JSON body of exactly `size` bytes (or the smallest possible).
fn fixed_body(size: usize) -> String {
    let head = r#"{"access_token":""#;
    let tail = r#"","token_type":"Bearer","expires_in":691200,"scope":"dataset:read policy:read"}"#;
    let pad = size.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", "a".repeat(pad))
}

/// The id and secret of `Authorization: Basic`, form-decoded, if the header is there.
fn basic_credentials(req: &HttpRequest) -> Option<Result<(String, String), ()>> {
    let value = req.headers().get(header::AUTHORIZATION)?;
    let parsed = (|| {
        let (scheme, encoded) = value.to_str().ok()?.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        let decode = |s: &str| {
            form_urlencoded::parse(format!("v={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        Some((decode(id)?, decode(secret)?))
    })();
    Some(parsed.ok_or(()))
}

fn bad_request() -> HttpResponse {
    HttpResponse::BadRequest()
        .content_type("application/json")
        .body(r#"{"error":"invalid_request"}"#)
}

async fn token(req: HttpRequest, body: web::Bytes, fixed: web::Data<Fixed>) -> HttpResponse {
    let form_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return bad_request();
    }
    let basic = match basic_credentials(&req) {
        Some(Ok(pair)) => Some(pair),
        Some(Err(())) => return bad_request(),
        None => None,
    };
    let (mut grant_type, mut client_id, mut client_secret) = (None, None, None);
    for (name, value) in form_urlencoded::parse(&body) {
        if value.is_empty() {
            continue;
        }
        let slot = match name.as_ref() {
            "grant_type" => &mut grant_type,
            "client_id" => &mut client_id,
            "client_secret" => &mut client_secret,
            _ => continue,
        };
        if slot.is_some() {
            return bad_request();
        }
        *slot = Some(value.into_owned());
    }
    let credentials = match (basic, client_id, client_secret) {
        (Some(_), _, Some(_)) => false,
        (Some(_), _, None) | (None, Some(_), Some(_)) => true,
        _ => false,
    };
    if grant_type.as_deref() != Some("client_credentials") || !credentials {
        return bad_request();
    }
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
        .content_type("application/json")
        .body(fixed.body.clone())
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("BASELINE_ADDR").unwrap_or_else(|_| "127.0.0.1:8099".to_owned());
    let size = std::env::var("BASELINE_BODY_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let fixed = web::Data::new(Fixed {
        body: web::Bytes::from(fixed_body(size)),
    });
    let workers = std::env::var("HTTP_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| 2 * std::thread::available_parallelism().map_or(1, usize::from));
    HttpServer::new(move || {
        App::new()
            .app_data(fixed.clone())
            .app_data(web::PayloadConfig::new(MAX_FORM_BYTES))
            .route("/api/v1/oauth/token", web::post().to(token))
            .route(
                "/health/live",
                web::get().to(|| async { HttpResponse::Ok().body("ok") }),
            )
    })
    .workers(workers)
    .bind(addr)?
    .run()
    .await
}

#[cfg(test)]
mod tests {
    use super::fixed_body;

    #[test]
    fn the_body_has_the_requested_size() {
        assert_eq!(fixed_body(612).len(), 612);
        assert!(fixed_body(1).starts_with('{'));
    }
}
