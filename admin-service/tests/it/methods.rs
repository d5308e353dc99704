//! Every route answers a method it does not serve with a JSON 405 whose `Allow` header lists
//! the methods it does serve (RFC 9110 §15.5.6), the same ones the OpenAPI document lists.

use std::collections::BTreeSet;

use actix_web::http::Method;
use auth_core::testing::Backend;

use crate::support::{TestApp, assert_error};

#[actix_web::test]
async fn every_route_answers_other_methods_with_405_and_allow() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let doc = app
        .request(Method::GET, "/openapi.json", None, None)
        .await
        .body;
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 10, "{}", paths.len());
    for (template, operations) in paths {
        let documented: BTreeSet<String> = operations
            .as_object()
            .unwrap()
            .keys()
            .filter(|key| *key != "parameters")
            .map(|method| method.to_ascii_uppercase())
            .collect();
        let path = template
            .replace("{id}", "cid_abc")
            .replace("{name}", "custom:scope");
        let reply = app.request(Method::PATCH, &path, None, None).await;
        assert_error(&reply, 405, "invalid_request");
        let allow: BTreeSet<String> = reply
            .header("allow")
            .unwrap_or_else(|| panic!("{path}: no Allow header"))
            .split(',')
            .map(|method| method.trim().to_owned())
            .collect();
        assert_eq!(allow, documented, "{path}");
    }
}
