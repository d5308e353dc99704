//! `POST /api/v1/oauth/token` refusing requests of the wrong shape: malformed or doubled
//! credentials, a JSON body, a missing or unknown grant type, repeated parameters, an
//! oversized body, the wrong method.

use actix_web::http::StatusCode;

use crate::support::{ROOT_ID, ROOT_SECRET, TestApp, basic, on_both_backends};
use crate::token::{GRANT, assert_error};

on_both_backends!(
    malformed_basic_header_is_invalid_client,
    credentials_from_two_methods_are_refused,
    missing_credentials_are_invalid_client,
    json_body_is_refused,
    grant_type_missing_or_unknown,
    repeated_parameters_and_oversized_bodies_are_refused,
    wrong_method_is_405,
);

async fn malformed_basic_header_is_invalid_client(app: TestApp) {
    for header in [
        "Basic",
        "Basic not-base64!!",
        "Basic Zm9vYmFy",
        "Basic //79",
        "Digest abc",
    ] {
        let reply = app
            .token_with_headers(&[GRANT], &[("authorization", header)])
            .await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client");
        assert!(
            reply
                .header("www-authenticate")
                .is_some_and(|h| h.starts_with("Basic"))
        );
    }
}

async fn credentials_from_two_methods_are_refused(app: TestApp) {
    let (a_id, a_secret) = app.create_client("client:read").await;
    let (b_id, b_secret) = app.create_client("client:read").await;
    let authorization = basic(&a_id, &a_secret);
    let different = app
        .token_with_headers(
            &[GRANT, ("client_id", &b_id), ("client_secret", &b_secret)],
            &[("authorization", &authorization)],
        )
        .await;
    assert_error(&different, StatusCode::BAD_REQUEST, "invalid_request");
    let other_id = app
        .token_with_headers(
            &[GRANT, ("client_id", &b_id)],
            &[("authorization", &authorization)],
        )
        .await;
    assert_error(&other_id, StatusCode::BAD_REQUEST, "invalid_request");
    let same_twice = app
        .token_with_headers(
            &[GRANT, ("client_id", &a_id), ("client_secret", &a_secret)],
            &[("authorization", &authorization)],
        )
        .await;
    assert_error(&same_twice, StatusCode::BAD_REQUEST, "invalid_request");
}

async fn missing_credentials_are_invalid_client(app: TestApp) {
    let none = app.token_form(&[GRANT]).await;
    assert_error(&none, StatusCode::UNAUTHORIZED, "invalid_client");
    let (id, _) = app.create_client("").await;
    let id_only = app.token_form(&[GRANT, ("client_id", &id)]).await;
    assert_error(&id_only, StatusCode::UNAUTHORIZED, "invalid_client");
    let bad_id = app
        .token_form(&[
            GRANT,
            ("client_id", "../etc/passwd"),
            ("client_secret", "x"),
        ])
        .await;
    assert_error(&bad_id, StatusCode::UNAUTHORIZED, "invalid_client");
}

async fn json_body_is_refused(app: TestApp) {
    let body = format!(
        r#"{{"grant_type":"client_credentials","client_id":"{ROOT_ID}","client_secret":"{ROOT_SECRET}"}}"#
    );
    let reply = app
        .post_raw("/api/v1/oauth/token", "application/json", body, &[])
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(
        reply.body["error_description"]
            .as_str()
            .unwrap()
            .contains("x-www-form-urlencoded")
    );
}

async fn grant_type_missing_or_unknown(app: TestApp) {
    let creds = [("client_id", ROOT_ID), ("client_secret", ROOT_SECRET)];
    let missing = app.token_form(&creds).await;
    assert_error(&missing, StatusCode::BAD_REQUEST, "invalid_request");
    for grant in ["password", "authorization_code", "", "CLIENT_CREDENTIALS"] {
        let reply = app
            .token_form(&[("grant_type", grant), creds[0], creds[1]])
            .await;
        let expected = if grant.is_empty() {
            "invalid_request"
        } else {
            "unsupported_grant_type"
        };
        assert_error(&reply, StatusCode::BAD_REQUEST, expected);
    }
}

async fn repeated_parameters_and_oversized_bodies_are_refused(app: TestApp) {
    let repeated = app
        .token_form(&[
            GRANT,
            GRANT,
            ("client_id", ROOT_ID),
            ("client_secret", ROOT_SECRET),
        ])
        .await;
    assert_error(&repeated, StatusCode::BAD_REQUEST, "invalid_request");
    let huge = format!("grant_type=client_credentials&pad={}", "a".repeat(20_000));
    let reply = app
        .post_raw(
            "/api/v1/oauth/token",
            "application/x-www-form-urlencoded",
            huge,
            &[],
        )
        .await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "invalid_request");
}

async fn wrong_method_is_405(app: TestApp) {
    let reply = app.get("/api/v1/oauth/token").await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.error(), "invalid_request");
    let missing = app.get("/api/v1/oauth/nothing-here").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.error(), "not_found");
}
