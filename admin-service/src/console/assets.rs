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
const CSS: &str = "text/css; charset=utf-8";

impl Asset {
    const fn new(name: &'static str, content_type: &'static str, body: &'static str) -> Self {
        Self {
            name,
            content_type,
            body,
        }
    }
}

/// Every file the page loads; nothing else is served. Literal paths, so that
/// scripts/check-docker-context sees that the image's build context has them.
const ASSETS: &[Asset] = &[
    Asset::new(
        "console.css",
        CSS,
        include_str!("../../console/console.css"),
    ),
    Asset::new("app.js", JS, include_str!("../../console/app.js")),
    Asset::new("api.js", JS, include_str!("../../console/api.js")),
    Asset::new("dom.js", JS, include_str!("../../console/dom.js")),
    Asset::new("signin.js", JS, include_str!("../../console/signin.js")),
    Asset::new("clients.js", JS, include_str!("../../console/clients.js")),
    Asset::new("client.js", JS, include_str!("../../console/client.js")),
    Asset::new("scopes.js", JS, include_str!("../../console/scopes.js")),
    Asset::new("issuers.js", JS, include_str!("../../console/issuers.js")),
    Asset::new(
        "revocations.js",
        JS,
        include_str!("../../console/revocations.js"),
    ),
    Asset::new("audit.js", JS, include_str!("../../console/audit.js")),
];

const PAGE: Asset = Asset::new(
    "index.html",
    "text/html; charset=utf-8",
    include_str!("../../console/index.html"),
);

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

    /// Every file of `admin-service/console/` is served (one added there and not here would
    /// only fail in a browser), and nothing else is.
    #[test]
    fn every_console_file_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/console");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .expect("admin-service/console")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        files.sort();
        let mut served: Vec<String> = ASSETS
            .iter()
            .chain([&PAGE])
            .map(|asset| asset.name.to_owned())
            .collect();
        served.sort();
        assert_eq!(files, served);
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
