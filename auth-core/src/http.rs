//! Routing pieces every actix-web service here shares (feature `actix`): resources whose
//! other methods get a JSON 405 with `Allow`, and a JSON 404 for unknown paths.

use actix_web::http::Method;
use actix_web::http::header::{ALLOW, HeaderValue};
use actix_web::{HttpResponse, Resource, Route, web};
use serde_json::json;

/// Paths served by `routes`, each a method with its handler
/// (`(Method::GET, web::to(handler))`); any other method gets a JSON 405 whose `Allow`
/// header lists the methods served (RFC 9110 §15.5.6).
pub fn resource(paths: &[&str], routes: Vec<(Method, Route)>) -> Resource {
    let allow = routes
        .iter()
        .map(|(method, _)| method.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let allow = HeaderValue::from_str(&allow).unwrap_or(HeaderValue::from_static(""));
    let paths: Vec<String> = paths.iter().map(|path| (*path).to_owned()).collect();
    let mut resource = web::resource(paths);
    for (method, route) in routes {
        resource = resource.route(route.method(method));
    }
    resource.default_service(web::to(move || method_not_allowed(allow.clone())))
}

/// A path served by one method (see [`resource`]).
pub fn one(path: &str, method: Method, route: Route) -> Resource {
    resource(&[path], vec![(method, route)])
}

async fn method_not_allowed(allow: HeaderValue) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((ALLOW, allow))
        .json(json!({
            "error": "invalid_request",
            "error_description": "method not allowed on this endpoint",
        }))
}

/// The answer for paths no route serves.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({
        "error": "not_found",
        "error_description": "no such endpoint",
    }))
}

/// Why a request body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// The connection failed or the chunked encoding was broken.
    Unreadable,
    /// It is longer than this many bytes (refused without reading the rest).
    TooLarge(usize),
}

/// Reads a whole body of at most `limit` bytes.
pub async fn read_body(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, BodyError> {
    use futures_util::StreamExt as _;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| BodyError::Unreadable)?;
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
