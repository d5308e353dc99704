//! The `client` feature against a real token-service: caching and single flight.

use std::sync::Arc;

use auth_core::client::TokenSource;
use auth_core::ids::ClientId;
use auth_core::secret::ClientSecret;

use crate::cluster::{Cluster, shared_redis};

#[actix_web::test]
async fn one_fetch_serves_every_concurrent_caller_and_the_token_works() {
    let Some(redis) = shared_redis() else { return };
    let Some(cluster) = Cluster::start(&redis, 1, 1).await else {
        return;
    };
    let (id, secret) = cluster.create_client(&["dataset:read"]).await;
    let source = Arc::new(
        TokenSource::new(
            &cluster.tokens[0].base,
            ClientId::parse(&id).unwrap(),
            ClientSecret::parse(&secret).unwrap(),
            None,
        )
        .unwrap(),
    );
    let callers: Vec<_> = (0..50)
        .map(|_| {
            let source = Arc::clone(&source);
            actix_web::rt::spawn(async move { source.token().await.unwrap().value })
        })
        .collect();
    let mut values = Vec::new();
    for caller in callers {
        values.push(caller.await.unwrap());
    }
    assert_eq!(
        source.fetch_count(),
        1,
        "one fetch for fifty waiting callers"
    );
    assert!(values.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(source.token().await.unwrap().value, values[0], "cached");
    assert_eq!(source.fetch_count(), 1);

    let request = cluster
        .http
        .get(format!("{}/datasets", cluster.example.base))
        .insert_header(("authorization", format!("Bearer {}", values[0])));
    assert_eq!(request.send().await.unwrap().status().as_u16(), 200);

    source.invalidate().await;
    let refreshed = source.token().await.unwrap();
    assert_eq!(source.fetch_count(), 2);
    assert_ne!(refreshed.value, values[0]);

    let wrong = TokenSource::new(
        &cluster.tokens[0].base,
        ClientId::parse(&id).unwrap(),
        ClientSecret::parse("ocs_wrong").unwrap(),
        None,
    )
    .unwrap();
    let error = wrong.token().await.unwrap_err().to_string();
    assert!(error.contains("invalid_client"), "{error}");
    assert!(
        !error.contains("ocs_wrong"),
        "the secret never appears in an error"
    );
}

#[actix_web::test]
async fn the_example_service_requires_scopes_and_calls_others_with_its_own_token() {
    let Some(redis) = shared_redis() else { return };
    let Some(mut cluster) = Cluster::start(&redis, 1, 1).await else {
        return;
    };
    let (id, secret) = cluster.create_client(&["client:read"]).await;
    let token = cluster.token(0, &id, &secret).await;
    let get = |path: &str, bearer: &str| {
        cluster
            .http
            .get(format!("{}{path}", cluster.example.base))
            .insert_header(("authorization", format!("Bearer {bearer}")))
    };
    let mut whoami = get("/whoami", &token).send().await.unwrap();
    assert_eq!(whoami.status().as_u16(), 200);
    let body: serde_json::Value = whoami.json().await.unwrap();
    assert_eq!(body["client_id"], id.as_str());

    let mut forbidden = get("/datasets", &token).send().await.unwrap();
    assert_eq!(forbidden.status().as_u16(), 403);
    let body: serde_json::Value = forbidden.json().await.unwrap();
    assert_eq!(body["error"], "insufficient_scope");
    assert!(forbidden.headers().get("www-authenticate").is_some());

    for bad in ["", "garbage", "a.b.c"] {
        let response = get("/whoami", bad).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401, "{bad:?}");
        assert_eq!(
            response.headers().get("www-authenticate").unwrap(),
            "Bearer error=\"invalid_token\"",
            "{bad:?}"
        );
    }
    // No credentials at all: a bare challenge, no error code (RFC 6750 §3.1).
    let anonymous = cluster
        .http
        .get(format!("{}/whoami", cluster.example.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    assert_eq!(
        anonymous.headers().get("www-authenticate").unwrap(),
        "Bearer"
    );
    // A token minted for another audience is refused here (RFC 8707: no replay across
    // services): signed with the real key, but for someone else.
    let other_audience = cluster.token_for_audience(&id, "https://another-service.example");
    let response = get("/whoami", &other_audience).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);

    // SIGTERM stops each service cleanly (exit 0).
    for process in cluster
        .tokens
        .iter_mut()
        .chain(cluster.admins.iter_mut())
        .chain([&mut cluster.example])
    {
        let status = process.terminate();
        assert!(
            status.success(),
            "{} exited with {status}:\n{}",
            process.name,
            process.output()
        );
    }
}
