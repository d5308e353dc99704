//! The console's files, embedded at build time from `admin-service/console/`, and the two
//! handlers that serve them: the page (`/console`, `/console/`) and its assets
//! (`/console/assets/{name}`).
//!
//! `Cache-Control: no-cache` with an `ETag` (a digest of the file): a browser revalidates
//! each file and gets a 304 while it has not changed, so a new release is never hidden by
//! a cache, and an unchanged file is not sent again.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";

macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_str!(concat!("../../console/", $name)),
        }
    };
}

/// Every file the page loads; nothing else is served.
const ASSETS: &[Asset] = &[
    asset!("console.css", "text/css; charset=utf-8"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("signin.js", JS),
    asset!("clients.js", JS),
    asset!("client.js", JS),
    asset!("scopes.js", JS),
    asset!("issuers.js", JS),
    asset!("revocations.js", JS),
    asset!("audit.js", JS),
];

const PAGE: Asset = asset!("index.html", "text/html; charset=utf-8");

/// `GET /console`, `GET /console/`: the page.
pub async fn page(request: HttpRequest) -> HttpResponse {
    serve(&request, &PAGE)
}

/// `GET /console/assets/{name}`: an embedded file, or the JSON 404.
pub async fn asset(request: HttpRequest, name: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|asset| asset.name == name.as_str()) {
        Some(asset) => serve(&request, asset),
        None => auth_core::http::not_found().await,
    }
}

fn serve(request: &HttpRequest, asset: &Asset) -> HttpResponse {
    let etag = etag(asset.body);
    let unchanged = request
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .insert_header((header::ETAG, etag));
    if unchanged {
        response.finish()
    } else {
        response
            .insert_header((header::CONTENT_TYPE, asset.content_type))
            .body(asset.body)
    }
}

/// A strong validator: the first 16 bytes of the file's SHA-256, in hex, quoted.
fn etag(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every module the page imports is served: an import of a file missing from
    /// [`ASSETS`] would only fail in a browser.
    #[test]
    fn every_imported_module_is_embedded() {
        let served: Vec<&str> = ASSETS.iter().map(|asset| asset.name).collect();
        for asset in ASSETS.iter().chain([&PAGE]) {
            for line in asset.body.lines() {
                let line = line.trim();
                let reference = if line.starts_with("import ") {
                    line.split(['\'', '"']).nth(1)
                } else if line.contains("/console/assets/") {
                    line.split("/console/assets/")
                        .nth(1)
                        .and_then(|rest| rest.split('"').next())
                } else {
                    None
                };
                if let Some(reference) = reference {
                    let name = reference.trim_start_matches("./");
                    assert!(
                        served.contains(&name),
                        "{} refers to {reference}, which is not embedded",
                        asset.name
                    );
                }
            }
        }
    }

    /// No inline script or style, and no `innerHTML`: the CSP forbids the first two, and
    /// attacker-influenced values (client names, audit details) must never become markup.
    #[test]
    fn no_inline_code_and_no_markup_from_strings() {
        assert!(!PAGE.body.contains("<style"), "inline style in index.html");
        assert!(!PAGE.body.contains(" style="), "inline style in index.html");
        for script in PAGE.body.split("<script").skip(1) {
            assert!(script.contains("src=\"/console/assets/"), "inline script");
        }
        for asset in ASSETS {
            for forbidden in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "eval(",
                "localStorage",
                "sessionStorage",
                "document.cookie",
            ] {
                assert!(
                    !asset.body.contains(forbidden),
                    "{} uses {forbidden}",
                    asset.name
                );
            }
        }
    }
}
