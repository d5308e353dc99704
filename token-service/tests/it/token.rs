//! `POST /api/v1/oauth/token`: what is granted, to whom, and the token itself; requests
//! of the wrong shape are in `token_requests.rs`.

use actix_web::http::StatusCode;
use auth_core::scopes::DEFAULT_SCOPES;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::support::{ISSUER, ROOT_ID, ROOT_SECRET, Reply, TestApp, on_both_backends};

pub(crate) const GRANT: (&str, &str) = ("grant_type", "client_credentials");

on_both_backends!(
    root_gets_every_registry_scope,
    client_without_scopes_gets_a_token_without_scope,
    scope_subset_is_granted_in_registry_order,
    scope_the_client_lacks_is_invalid_scope,
    unknown_client_and_wrong_secret_are_indistinguishable,
    basic_and_form_authentication_both_work,
    token_verifies_against_the_published_jwks_with_the_design_claims,
);

pub(crate) fn assert_no_store(reply: &Reply) {
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("pragma"), Some("no-cache"));
}

pub(crate) fn assert_error(reply: &Reply, status: StatusCode, error: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.error(), error, "{}", reply.body);
    assert!(
        reply.body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert_no_store(reply);
}

async fn root_gets_every_registry_scope(app: TestApp) {
    let reply = app.root_token().await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_no_store(&reply);
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["scope"], DEFAULT_SCOPES.join(" "));
    assert_eq!(reply.body["expires_in"], 11_520 * 60);
    let verified = app
        .verifier
        .verify(reply.token(), auth_core::time::Timestamp::now())
        .unwrap();
    assert_eq!(verified.client_id.as_str(), ROOT_ID);
    assert_eq!(verified.scopes.len(), DEFAULT_SCOPES.len());

    let wrong = app
        .token_form(&[
            GRANT,
            ("client_id", ROOT_ID),
            ("client_secret", "root-secret-for-tests-onlX"),
        ])
        .await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "invalid_client");
}

async fn client_without_scopes_gets_a_token_without_scope(app: TestApp) {
    let (id, secret) = app.create_client("").await;
    let reply = app
        .token_form(&[GRANT, ("client_id", &id), ("client_secret", &secret)])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // Omitted, not "": oauthlib reads "" as one empty scope (RFC 6749 §5.1 makes it optional).
    assert!(reply.body.get("scope").is_none(), "{}", reply.body);
    let claims = app
        .verifier
        .verify(reply.token(), auth_core::time::Timestamp::now())
        .unwrap();
    assert!(claims.scopes.is_empty());
}

async fn scope_subset_is_granted_in_registry_order(app: TestApp) {
    let (id, secret) = app
        .create_client("scope:read client:create client:read")
        .await;
    let all = app
        .token_form(&[GRANT, ("client_id", &id), ("client_secret", &secret)])
        .await;
    assert_eq!(all.body["scope"], "client:create client:read scope:read");
    let subset = app
        .token_form(&[
            GRANT,
            ("client_id", &id),
            ("client_secret", &secret),
            ("scope", "scope:read client:read"),
        ])
        .await;
    assert_eq!(subset.status, StatusCode::OK, "{}", subset.body);
    assert_eq!(subset.body["scope"], "client:read scope:read");
    let claims = app
        .verifier
        .verify(subset.token(), auth_core::time::Timestamp::now())
        .unwrap();
    assert_eq!(claims.claims.scope, "client:read scope:read");
}

async fn scope_the_client_lacks_is_invalid_scope(app: TestApp) {
    let (id, secret) = app.create_client("client:read").await;
    for scope in [
        "client:read client:delete",
        "not-a-registered-scope",
        "client:read  client:read",
        "bad\"scope",
    ] {
        let reply = app
            .token_form(&[
                GRANT,
                ("client_id", &id),
                ("client_secret", &secret),
                ("scope", scope),
            ])
            .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_scope");
    }
    let empty = app
        .token_form(&[
            GRANT,
            ("client_id", &id),
            ("client_secret", &secret),
            ("scope", ""),
        ])
        .await;
    assert_eq!(
        empty.body["scope"], "client:read",
        "an empty scope parameter counts as omitted"
    );
    let root_unknown = app
        .token_form(&[
            GRANT,
            ("client_id", ROOT_ID),
            ("client_secret", ROOT_SECRET),
            ("scope", "nope:nope"),
        ])
        .await;
    assert_error(&root_unknown, StatusCode::BAD_REQUEST, "invalid_scope");
}

async fn unknown_client_and_wrong_secret_are_indistinguishable(app: TestApp) {
    let (id, secret) = app.create_client("client:read").await;
    let unknown_id = "cid_this-client-does-not-exist";
    let wrong = app
        .token_form(&[GRANT, ("client_id", &id), ("client_secret", "ocs_wrong")])
        .await;
    let unknown = app
        .token_form(&[GRANT, ("client_id", unknown_id), ("client_secret", &secret)])
        .await;
    for reply in [&wrong, &unknown] {
        assert_error(reply, StatusCode::UNAUTHORIZED, "invalid_client");
        assert!(
            reply
                .header("www-authenticate")
                .is_some_and(|h| h.starts_with("Basic"))
        );
    }
    assert_eq!(wrong.body, unknown.body);

    let wrong_basic = app.token_basic(&id, "ocs_wrong", &[GRANT]).await;
    let unknown_basic = app.token_basic(unknown_id, &secret, &[GRANT]).await;
    assert_eq!(wrong_basic.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_basic.body, unknown_basic.body);
    assert_eq!(wrong_basic.body, wrong.body);
    assert!(
        wrong_basic
            .header("www-authenticate")
            .is_some_and(|h| h.starts_with("Basic"))
    );

    let too_long = "s".repeat(200);
    let long = app
        .token_form(&[GRANT, ("client_id", &id), ("client_secret", &too_long)])
        .await;
    assert_eq!(
        long.body, wrong.body,
        "a secret longer than bcrypt reads is just wrong"
    );
    let padded = format!("{secret}{}", "x".repeat(72));
    let truncation = app
        .token_form(&[GRANT, ("client_id", &id), ("client_secret", &padded)])
        .await;
    assert_eq!(
        truncation.status,
        StatusCode::UNAUTHORIZED,
        "bcrypt truncation must not let it in"
    );
}

async fn basic_and_form_authentication_both_work(app: TestApp) {
    let (id, secret) = app.create_client("client:read").await;
    let form = app
        .token_form(&[GRANT, ("client_id", &id), ("client_secret", &secret)])
        .await;
    let header = app.token_basic(&id, &secret, &[GRANT]).await;
    for reply in [&form, &header] {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["scope"], "client:read");
    }
    let with_matching_id = app
        .token_basic(&id, &secret, &[GRANT, ("client_id", &id)])
        .await;
    assert_eq!(
        with_matching_id.status,
        StatusCode::OK,
        "{}",
        with_matching_id.body
    );
    let root = app
        .token_basic(ROOT_ID, ROOT_SECRET, &[GRANT, ("scope", "client:read")])
        .await;
    assert_eq!(root.status, StatusCode::OK);
    assert_eq!(root.body["scope"], "client:read");
}

async fn token_verifies_against_the_published_jwks_with_the_design_claims(app: TestApp) {
    let (id, secret) = app.create_client("client:read scope:read").await;
    let before = auth_core::time::Timestamp::now();
    let reply = app.token_basic(&id, &secret, &[GRANT]).await;
    let after = auth_core::time::Timestamp::now();
    assert_eq!(reply.status, StatusCode::OK);

    let jwks = app.get("/.well-known/jwks.json").await;
    let header = jsonwebtoken::decode_header(reply.token()).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, Algorithm::EdDSA);
    let kid = header.kid.unwrap();
    let keys = jwks.body["keys"].as_array().unwrap();
    let jwk = keys
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("kid published");
    assert_eq!(
        (
            jwk["kty"].as_str(),
            jwk["crv"].as_str(),
            jwk["alg"].as_str()
        ),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );

    // An independent check with jsonwebtoken, from the published key only.
    let key = DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[ISSUER]);
    // Every token has an audience: by default the issuer URL (RFC 9068 §2.2).
    validation.set_audience(&[ISSUER]);
    let claims: serde_json::Value = jsonwebtoken::decode(reply.token(), &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["client_id"], id.as_str());
    assert_eq!(claims["scope"], "client:read scope:read");
    assert_eq!(claims["aud"], ISSUER);
    let iat = claims["iat"].as_i64().unwrap();
    assert!((before.as_secs()..=after.as_secs()).contains(&iat));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - iat,
        reply.body["expires_in"].as_i64().unwrap()
    );
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));
}

#[actix_web::test]
async fn expires_in_follows_the_configured_lifetime() {
    let vars = [
        ("OAUTH_ACCESS_TOKEN_EXPIRE_MINUTES", "5"),
        ("OAUTH_AUDIENCE", "internal-api"),
    ];
    let Some(app) = TestApp::spawn_with(auth_core::testing::Backend::Postgres, &vars).await else {
        return;
    };
    let reply = app.root_token().await;
    assert_eq!(reply.body["expires_in"], 300);
    let verified = app
        .verifier
        .verify(reply.token(), auth_core::time::Timestamp::now())
        .unwrap();
    assert_eq!(verified.claims.exp - verified.claims.iat, 300);
    assert_eq!(verified.claims.aud, "internal-api");
}
