//! Per-request telemetry for actix-web services (feature `actix`), in one middleware.
//!
//! [`middleware`] gives every request a span (`http.request`, named after the method and
//! route pattern) continuing the W3C trace context of the caller, a request id (the
//! caller's `x-request-id` when well-formed, else a new one) on every log line of the
//! request and echoed in the response, a latency observation per route, and one access-log
//! event (target `access`, level info; not for `/health/live`) with the peer address,
//! method, path without its query string, status and duration. Responses that set no
//! `Cache-Control` get `no-store`. Handlers add `client_id` and `outcome` with
//! [`record_client`] and [`record_outcome`]. Nothing from headers other than the request id
//! and trace context, and nothing from bodies, is recorded. Work whose result would be
//! discarded (the trace context of a disabled span, a filtered-out access line) is skipped.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use opentelemetry::propagation::Extractor;
use tracing::Instrument as _;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::metrics::{Metrics, RequestLabels};

pub const REQUEST_ID_HEADER: &str = "x-request-id";

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

/// A caller's request id is kept if it is 1 to 64 characters of `A-Z a-z 0-9 - _ .`.
fn well_formed(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// Records the authenticated client on the current request span.
pub fn record_client(client_id: &str) {
    tracing::Span::current().record("client_id", client_id);
}

/// Records how the request ended (`issued`, an error code, ...) on the current request span.
pub fn record_outcome(outcome: &str) {
    tracing::Span::current().record("outcome", outcome);
}

/// The path the access log leaves out: probes would drown every other line.
const QUIET_PATH: &str = "/health/live";

/// The middleware; mount with `actix_web::middleware::from_fn(request_telemetry::middleware)`
/// and register the service's `web::Data<Metrics>`.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| well_formed(id))
        .map_or_else(crate::ids::random_id, str::to_owned);
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().clone();
    let span = tracing::info_span!(
        "http.request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = %route,
        http.response.status_code = Empty,
        request_id = %request_id,
        client_id = Empty,
        outcome = Empty,
    );
    if !span.is_disabled() {
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderExtractor(req.headers()))
        });
        let _ = span.set_parent(parent);
    }
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let started = Instant::now();

    let mut response = next.call(req).instrument(span.clone()).await?;

    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    span.record("http.response.status_code", status);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if tracing::enabled!(target: "access", tracing::Level::INFO)
        && response.request().path() != QUIET_PATH
    {
        let request = response.request();
        let _entered = span.enter();
        tracing::info!(
            target: "access",
            peer = %request.peer_addr().map_or_else(|| "-".to_owned(), |a| a.ip().to_string()),
            method = %method,
            path = request.path(),
            status,
            // Microsecond precision: `duration_ms=1.234`, not seventeen digits.
            duration_ms = (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0,
            "request",
        );
    }
    if let Some(metrics) = metrics {
        metrics
            .requests
            .get_or_create(&RequestLabels {
                route,
                method: method.as_str().to_owned(),
                status,
            })
            .observe(elapsed.as_secs_f64());
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_from_callers_are_bounded() {
        assert!(well_formed("abc-123_x.y"));
        for bad in ["", "a b", "a\nb", "ü", &"a".repeat(65)] {
            assert!(!well_formed(bad), "{bad:?}");
        }
    }
}
