//! Every route answers a method it does not serve with a JSON 405 whose `Allow` header lists
//! the methods it does serve (RFC 9110 §15.5.6), the same ones the OpenAPI document lists.

use actix_web::http::Method;
use auth_core::testing::Backend;
use auth_core::testing::http::assert_405_lists_documented_methods;

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
    assert_405_lists_documented_methods(&doc, 10, |template| {
        let path = template
            .replace("{id}", "cid_abc")
            .replace("{name}", "custom:scope");
        let app = &app;
        async move {
            let reply = app.request(Method::PATCH, &path, None, None).await;
            assert_error(&reply, 405, "invalid_request");
            reply
        }
    })
    .await;
}
