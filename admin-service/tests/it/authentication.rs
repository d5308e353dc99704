//! Bearer authentication: every token that is missing, malformed, badly signed, expired,
//! from another key or issuer, or of a client that is gone is a 401 `invalid_token` with
//! its challenge, on every endpoint and before any body is read. Never a 5xx.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use auth_core::ids::ClientId;
use auth_core::scopes::{DEFAULT_SCOPES, Scope};
use auth_core::testing::Backend;
use auth_core::time::Timestamp;
use auth_core::token::{SigningKey, TokenIssuer};

use crate::support::{
    ISSUER, ROOT_ID, Raw, TestApp, assert_invalid_token, assert_missing_token, endpoints,
};

/// A token signed with `key`, as the token-service would issue it but with these inputs.
fn forge(
    key: &SigningKey,
    issuer: &str,
    client: &str,
    scopes: &[&str],
    issued: Timestamp,
) -> String {
    let issuer = TokenIssuer::new(key.clone(), issuer.to_owned(), issuer.to_owned(), 3600);
    let scopes: Vec<Scope> = scopes.iter().map(|s| Scope::parse(s).unwrap()).collect();
    issuer
        .issue(&ClientId::parse(client).unwrap(), &scopes, issued)
        .unwrap()
        .access_token
}

/// Sends `GET /api/v1/oauth/client` with this exact `Authorization` value.
async fn list_with_authorization(app: &TestApp, value: HeaderValue) -> crate::support::Reply {
    app.send(
        Method::GET,
        "/api/v1/oauth/client",
        vec![(header::AUTHORIZATION, value)],
        None,
    )
    .await
}

#[actix_web::test]
async fn missing_token_is_refused_on_every_endpoint() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let client = app.new_client(&["client:read"]).await;
    for endpoint in endpoints(&client.id) {
        let body = endpoint.body.as_ref().map(Raw::json);
        let reply = app
            .request(endpoint.method.clone(), &endpoint.path, None, body)
            .await;
        assert_missing_token(&reply);
    }
    // Nothing was changed by any of those calls.
    assert_eq!(app.client_count().await, 1);
    assert_eq!(
        app.get_client(&client.token, &client.id).await.status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn malformed_authorization_headers_are_refused() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let (head, rest) = root.split_once('.').unwrap();
    // {"alg":"none","typ":"at+jwt"}, base64url: an unsigned token with the real claims.
    let payload = rest.split('.').next().unwrap();
    let alg_none = format!("eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.{payload}.");
    let cases: Vec<String> = vec![
        "Bearer".into(),
        "Bearer ".into(),
        "Bearer    ".into(),
        "Basic xyz".into(),
        "Basic cm9vdC1jbGllbnQ6cm9vdC1zZWNyZXQtZm9yLXRlc3RzLW9ubHk=".into(),
        format!("Token {root}"),
        format!("Bearer{root}"),
        root.clone(),
        "Bearer garbage".into(),
        "Bearer abc.def.ghi".into(),
        "Bearer .".into(),
        "Bearer ..".into(),
        "Bearer ...".into(),
        format!("Bearer {}", ".".repeat(4000)),
        format!("Bearer {}", "A".repeat(10_000)),
        format!("Bearer {root}{}", "A".repeat(9000)),
        format!("Bearer {head}"),
        format!("Bearer {head}.{rest}.extra"),
        format!("Bearer {root} {root}"),
        format!("Bearer {alg_none}"),
        "Bearer %00".into(),
        "Bearer null".into(),
        "Bearer undefined".into(),
        "Bearer {\"alg\":\"none\"}".into(),
        "Bearer eyJ".into(),
        "Bearer ====".into(),
        "Bearer \t".into(),
    ];
    for value in &cases {
        let reply = list_with_authorization(&app, HeaderValue::from_str(value).unwrap()).await;
        assert!(
            !reply.status.is_server_error(),
            "{value:?}: {}",
            reply.status
        );
        assert_invalid_token(&reply);
    }

    // Bytes that are not visible ASCII.
    for bytes in [
        &b"Bearer \xff\xfe\xfd"[..],
        b"Bearer \xc3\xa9t\xc3\xa9",
        b"\x80\x81",
    ] {
        let reply = list_with_authorization(&app, HeaderValue::from_bytes(bytes).unwrap()).await;
        assert_invalid_token(&reply);
    }

    // Two Authorization headers, both valid: ambiguous, refused.
    let value = HeaderValue::from_str(&format!("Bearer {root}")).unwrap();
    let headers = vec![
        (header::AUTHORIZATION, value.clone()),
        (header::AUTHORIZATION, value),
    ];
    let reply = app
        .send(Method::GET, "/api/v1/oauth/client", headers, None)
        .await;
    assert_invalid_token(&reply);

    // A header far beyond any token: refused by the server or the HTTP layer, never a 5xx.
    let huge = HeaderValue::from_str(&format!("Bearer {}", "A".repeat(100_000))).unwrap();
    let reply = list_with_authorization(&app, huge).await;
    assert!(
        reply.status.is_client_error(),
        "{}: {}",
        reply.status,
        reply.body
    );

    // Controls: the same token, well formed, passes; the scheme is case-insensitive.
    for value in [
        format!("Bearer {root}"),
        format!("bearer {root}"),
        format!("BEARER {root}"),
    ] {
        let reply = list_with_authorization(&app, HeaderValue::from_str(&value).unwrap()).await;
        assert_eq!(reply.status, StatusCode::OK, "{value}: {}", reply.body);
    }
}

#[actix_web::test]
async fn tampered_signature_is_refused() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let signature_start = root.rfind('.').unwrap() + 1;
    for offset in [0, 10, 40] {
        let mut bytes = root.clone().into_bytes();
        let at = signature_start + offset;
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_invalid_token(&app.list_clients(&tampered, "").await);
    }
    // A claim edited without re-signing.
    let (head, rest) = root.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let mut payload = payload.to_owned().into_bytes();
    payload[5] = if payload[5] == b'A' { b'B' } else { b'A' };
    let edited = format!("{head}.{}.{signature}", String::from_utf8(payload).unwrap());
    assert_invalid_token(&app.list_clients(&edited, "").await);
    assert_eq!(app.list_clients(&root, "").await.status, StatusCode::OK);
}

#[actix_web::test]
async fn expired_token_is_refused() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let scopes: Vec<&str> = DEFAULT_SCOPES.to_vec();
    // Control: a token forged with the service's own key, issued now, is accepted.
    let fresh = forge(&app.signing_key, ISSUER, ROOT_ID, &scopes, Timestamp::now());
    assert_eq!(app.list_clients(&fresh, "").await.status, StatusCode::OK);

    // Issued two hours ago with a one-hour lifetime.
    let expired = forge(
        &app.signing_key,
        ISSUER,
        ROOT_ID,
        &scopes,
        Timestamp::now().plus_secs(-7200),
    );
    assert_invalid_token(&app.list_clients(&expired, "").await);
    // Expired a few minutes ago, beyond any clock-skew leeway.
    let just_expired = forge(
        &app.signing_key,
        ISSUER,
        ROOT_ID,
        &scopes,
        Timestamp::now().plus_secs(-3900),
    );
    assert_invalid_token(&app.list_clients(&just_expired, "").await);
    // Issued in the future.
    let future = forge(
        &app.signing_key,
        ISSUER,
        ROOT_ID,
        &scopes,
        Timestamp::now().plus_secs(3600),
    );
    assert_invalid_token(&app.list_clients(&future, "").await);
}

#[actix_web::test]
async fn token_from_another_key_or_issuer_is_refused() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let scopes: Vec<&str> = DEFAULT_SCOPES.to_vec();
    let (other_key, _) = SigningKey::generate_ed25519().unwrap();
    let other = forge(&other_key, ISSUER, ROOT_ID, &scopes, Timestamp::now());
    assert_invalid_token(&app.list_clients(&other, "").await);

    // The other key's payload and signature under this key's header (its kid).
    let own = forge(&app.signing_key, ISSUER, ROOT_ID, &scopes, Timestamp::now());
    let (own_head, _) = own.split_once('.').unwrap();
    let (_, other_rest) = other.split_once('.').unwrap();
    assert_invalid_token(
        &app.list_clients(&format!("{own_head}.{other_rest}"), "")
            .await,
    );

    let wrong_issuer = forge(
        &app.signing_key,
        "https://evil.example",
        ROOT_ID,
        &scopes,
        Timestamp::now(),
    );
    assert_invalid_token(&app.list_clients(&wrong_issuer, "").await);

    // The right key and issuer, but minted for another service's audience.
    let scopes: Vec<Scope> = scopes.iter().map(|s| Scope::parse(s).unwrap()).collect();
    let elsewhere = TokenIssuer::new(
        app.signing_key.clone(),
        ISSUER.to_owned(),
        "https://another-service.example".to_owned(),
        3600,
    )
    .issue(
        &ClientId::parse(ROOT_ID).unwrap(),
        &scopes,
        Timestamp::now(),
    )
    .unwrap()
    .access_token;
    assert_invalid_token(&app.list_clients(&elsewhere, "").await);
}

#[actix_web::test]
async fn token_of_a_deleted_or_unknown_client_is_refused() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let root = app.root().await;
    let client = app.new_client(&["client:read"]).await;
    assert_eq!(
        app.list_clients(&client.token, "").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.delete_client(&root, &client.id).await.status,
        StatusCode::NO_CONTENT
    );
    assert_invalid_token(&app.list_clients(&client.token, "").await);

    // Correctly signed, but for a client that never existed.
    let ghost = forge(
        &app.signing_key,
        ISSUER,
        "cid_neverexisted",
        &["client:read"],
        Timestamp::now(),
    );
    assert_invalid_token(&app.list_clients(&ghost, "").await);
}

#[actix_web::test]
async fn authentication_is_checked_before_the_body() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let client = app.new_client(&["client:read"]).await;
    let paths = [
        (Method::POST, "/api/v1/oauth/client".to_owned()),
        (
            Method::PUT,
            format!("/api/v1/oauth/client/{}/scope", client.id),
        ),
        (
            Method::POST,
            format!("/api/v1/oauth/client/{}/secret", client.id),
        ),
        (Method::POST, "/api/v1/oauth/scope".to_owned()),
    ];
    for (method, path) in &paths {
        for token in [None, Some("garbage")] {
            for body in [
                Raw::new("application/json", "{not json"),
                Raw::new("text/plain", "hello"),
                Raw::new("application/json", r#"{"unknown": 1}"#),
            ] {
                let reply = app.request(method.clone(), path, token, Some(body)).await;
                if token.is_some() {
                    assert_invalid_token(&reply);
                } else {
                    assert_missing_token(&reply);
                }
            }
        }
    }
    assert_eq!(app.client_count().await, 1);
}
