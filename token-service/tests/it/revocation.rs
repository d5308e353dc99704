//! RFC 7009 revocation and RFC 7662 introspection over HTTP, and purging old records.

use actix_web::http::StatusCode;
use auth_core::ids::{ClientId, TokenId};
use auth_core::revocation::db;
use auth_core::time::Timestamp;

use crate::support::{ROOT_ID, ROOT_SECRET, TestApp, on_both_backends};

on_both_backends!(
    a_client_revokes_its_own_token,
    revoking_unknown_or_garbage_tokens_answers_200,
    a_client_cannot_revoke_another_clients_token,
    revocation_needs_client_authentication_and_a_token,
    introspection_reports_active_tokens,
    introspection_reports_revoked_expired_and_garbage_tokens_inactive,
    introspection_needs_client_authentication,
    purge_removes_only_what_no_longer_matters,
);

const GRANT: (&str, &str) = ("grant_type", "client_credentials");

async fn token_for(app: &TestApp, id: &str, secret: &str) -> String {
    let reply = app
        .token_form(&[GRANT, ("client_id", id), ("client_secret", secret)])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.token().to_owned()
}

async fn a_client_revokes_its_own_token(app: TestApp) {
    let (id, secret) = app.create_client("client:read").await;
    let token = token_for(&app, &id, &secret).await;
    let other = token_for(&app, &id, &secret).await;
    assert_eq!(app.introspect(&token).await.body["active"], true);
    let reply = app.revoke(&id, &secret, &token).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(
        app.introspect(&token).await.body,
        serde_json::json!({ "active": false })
    );
    assert_eq!(
        app.introspect(&other).await.body["active"],
        true,
        "only that token"
    );
    assert_eq!(
        app.revoke(&id, &secret, &token).await.status,
        StatusCode::OK,
        "twice is fine"
    );
}

async fn revoking_unknown_or_garbage_tokens_answers_200(app: TestApp) {
    let (id, secret) = app.create_client("").await;
    for token in ["garbage", "a.b.c", &"x".repeat(7_000)] {
        assert_eq!(
            app.revoke(&id, &secret, token).await.status,
            StatusCode::OK,
            "{:.20}",
            token
        );
    }
    let oversized = app.revoke(&id, &secret, &"x".repeat(20_000)).await;
    assert_eq!(
        oversized.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "a body over the form limit"
    );
    assert_eq!(oversized.error(), "invalid_request");
}

async fn a_client_cannot_revoke_another_clients_token(app: TestApp) {
    let (a_id, a_secret) = app.create_client("").await;
    let (b_id, b_secret) = app.create_client("").await;
    let b_token = token_for(&app, &b_id, &b_secret).await;
    let reply = app.revoke(&a_id, &a_secret, &b_token).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error(), "unauthorized_client");
    assert_eq!(
        app.introspect(&b_token).await.body["active"],
        true,
        "nothing changed"
    );
    assert_eq!(
        app.revoke(ROOT_ID, ROOT_SECRET, &b_token).await.status,
        StatusCode::OK,
        "root may"
    );
    assert_eq!(app.introspect(&b_token).await.body["active"], false);
}

async fn revocation_needs_client_authentication_and_a_token(app: TestApp) {
    let (id, secret) = app.create_client("").await;
    let token = token_for(&app, &id, &secret).await;
    let wrong = app.revoke(&id, "ocs_wrong", &token).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.error(), "invalid_client");
    assert_eq!(
        app.introspect(&token).await.body["active"],
        true,
        "nothing changed"
    );
    let body = crate::support::form(&[("client_id", &id), ("client_secret", &secret)]);
    let missing = app
        .post_raw(
            "/api/v1/oauth/revoke",
            "application/x-www-form-urlencoded",
            body,
            &[],
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.error(), "invalid_request");
}

async fn introspection_reports_active_tokens(app: TestApp) {
    let (id, secret) = app.create_client("client:read scope:read").await;
    let token = token_for(&app, &id, &secret).await;
    let reply = app.introspect(&token).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body = &reply.body;
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], id.as_str());
    assert_eq!(body["sub"], id.as_str());
    assert_eq!(body["scope"], "client:read scope:read");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["iss"], crate::support::ISSUER);
    assert!(body["exp"].as_i64().unwrap() > body["iat"].as_i64().unwrap());
    // Any authenticated client may introspect (resource servers introspect others' tokens).
    let basic = crate::support::basic(&id, &secret);
    let body = crate::support::form(&[("token", &token)]);
    let own = app
        .post_raw(
            "/api/v1/oauth/introspect",
            "application/x-www-form-urlencoded",
            body,
            &[("authorization", &basic)],
        )
        .await;
    assert_eq!(own.body["active"], true);
}

async fn introspection_reports_revoked_expired_and_garbage_tokens_inactive(app: TestApp) {
    let (id, secret) = app.create_client("client:read").await;
    let revoked = token_for(&app, &id, &secret).await;
    assert_eq!(
        app.revoke(&id, &secret, &revoked).await.status,
        StatusCode::OK
    );
    let client = ClientId::parse(&id).unwrap();
    let long_ago = Timestamp::now().plus_secs(-30 * 24 * 3600);
    let expired = app
        .issuer
        .issue(&client, &[], long_ago)
        .unwrap()
        .access_token;
    let inactive = serde_json::json!({ "active": false });
    for token in [
        revoked.as_str(),
        expired.as_str(),
        "garbage",
        "e30.e30.e30",
        &"a".repeat(7_000),
    ] {
        let reply = app.introspect(token).await;
        assert_eq!(reply.status, StatusCode::OK, "{:.30}", token);
        assert_eq!(reply.body, inactive, "{:.30}", token);
    }
}

async fn introspection_needs_client_authentication(app: TestApp) {
    let (id, secret) = app.create_client("").await;
    let token = token_for(&app, &id, &secret).await;
    let body = crate::support::form(&[("token", &token)]);
    let anonymous = app
        .post_raw(
            "/api/v1/oauth/introspect",
            "application/x-www-form-urlencoded",
            body,
            &[],
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.error(), "invalid_client");
    assert!(
        anonymous.body.get("active").is_none(),
        "nothing about the token"
    );
}

async fn purge_removes_only_what_no_longer_matters(app: TestApp) {
    let lifetime = 3600;
    let now = Timestamp::now();
    let (live_client, _) = app.create_client("").await;
    let removed = app
        .store
        .run(move |conn| {
            let client = ClientId::parse(&live_client).unwrap();
            let id = |jti: &str| TokenId::parse(jti).unwrap();
            // Expired past the clock-skew leeway verifiers allow: gone. Just expired:
            // verifiers may still accept it, so its revocation stays.
            let (expired, recent, live) = (id("expired-jti"), id("recent-jti"), id("live-jti"));
            db::insert_revoked(
                conn,
                &expired,
                &client,
                now.plus_secs(-120),
                now.plus_secs(-200),
            )?;
            db::insert_revoked(conn, &recent, &client, now.plus_secs(-1), now)?;
            assert!(db::insert_revoked(
                conn,
                &live,
                &client,
                now.plus_secs(100),
                now
            )?);
            assert!(
                !db::insert_revoked(conn, &live, &client, now.plus_secs(100), now)?,
                "recorded before: not new"
            );
            db::purge(conn, now, lifetime)
        })
        .await
        .unwrap();
    assert_eq!(removed, 1);
    let left = app
        .store
        .run(move |conn| db::all_active(conn, now, lifetime))
        .await
        .unwrap();
    let mut jtis: Vec<&str> = left.tokens.iter().map(|(jti, _)| jti.as_str()).collect();
    jtis.sort_unstable();
    assert_eq!(jtis, ["live-jti", "recent-jti"]);
    // A client's creation is no revocation: only raised cut-offs reach the shared cache.
    assert!(left.cutoffs.is_empty(), "{:?}", left.cutoffs);
    let (revoked_client, _) = app.create_client("").await;
    let id = ClientId::parse(&revoked_client).unwrap();
    let later = Timestamp::now().plus_secs(1);
    app.store
        .run(move |conn| auth_core::store::clients::raise_cutoff(conn, &id, later))
        .await
        .unwrap();
    let left = app
        .store
        .run(move |conn| db::all_active(conn, later, lifetime))
        .await
        .unwrap();
    let clients: Vec<&str> = left.cutoffs.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(clients, [revoked_client.as_str()]);
}
