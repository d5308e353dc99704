//! admin-service holds no private key and no root secret: started with neither anywhere in
//! its environment (and before token-service exists), it waits for token-service's public
//! keys, then authenticates root and client tokens with them, and never creates a key.

use std::time::Duration;

use auth_core::testing::{Backend, TestDatabase};
use serde_json::json;

use crate::cluster::{
    Process, ROOT_ID, ROOT_SECRET, TOKEN_SERVICE_ONLY, binary, free_port, service_env,
    signing_key_file,
};
use crate::http::{call, token_request};

#[actix_web::test]
async fn admin_service_works_without_any_private_key_or_root_secret() {
    let Some(db) = TestDatabase::create(Backend::Postgres) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = signing_key_file(dir.path());
    let (token_port, admin_port) = (free_port(), free_port());
    let token_base = format!("http://127.0.0.1:{token_port}");
    let http = awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish();

    // admin-service first: token-service does not exist yet.
    let mut admin_env = service_env(
        &db,
        &key,
        &token_base,
        &[
            ("ADMIN_SERVICE_ADDR", format!("127.0.0.1:{admin_port}")),
            ("TOKEN_SERVICE_URL", token_base.clone()),
        ],
    );
    admin_env.retain(|(name, _)| !TOKEN_SERVICE_ONLY.contains(&name.as_str()));
    for (name, value) in &admin_env {
        assert!(!value.contains("PRIVATE KEY"), "{name}");
        assert!(
            !name.contains("SIGNING_KEY") && !name.contains("SECRET"),
            "{name}"
        );
    }
    let admin_dir = tempfile::tempdir().unwrap();
    let mut admin = Process::spawn(
        &binary("admin-service"),
        admin_port,
        &[],
        &admin_env,
        admin_dir.path(),
    );
    admin.wait_live().await;
    let not_ready = call(http.get(format!("{}/health/ready", admin.base)), None).await;
    assert_eq!(not_ready.status, 503, "no keys yet: {}", not_ready.json);
    assert_eq!(not_ready.json["checks"]["keys"], "waiting");

    let token_env = service_env(
        &db,
        &key,
        &token_base,
        &[("TOKEN_SERVICE_ADDR", format!("127.0.0.1:{token_port}"))],
    );
    let mut token = Process::spawn(
        &binary("token-service"),
        token_port,
        &[],
        &token_env,
        dir.path(),
    );
    token.wait_ready().await;
    // admin-service picks the keys up by itself, without a restart.
    admin.wait_ready().await;

    let (request, body) = token_request(&http, &token_base, ROOT_ID, ROOT_SECRET);
    let root = call(request, Some(body)).await;
    assert_eq!(root.status, 200, "{}", root.json);
    let bearer = format!("Bearer {}", root.json["access_token"].as_str().unwrap());
    let created = call(
        http.post(format!("{}/api/v1/oauth/client", admin.base))
            .insert_header(("authorization", bearer.as_str()))
            .insert_header(("content-type", "application/json")),
        Some(json!(["client:read"]).to_string()),
    )
    .await;
    assert_eq!(created.status, 200, "{}\n{}", created.json, admin.output());
    let (id, secret) = (
        created.json["client_id"].as_str().unwrap().to_owned(),
        created.json["client_secret"].as_str().unwrap().to_owned(),
    );
    let (request, body) = token_request(&http, &token_base, &id, &secret);
    let client = call(request, Some(body)).await;
    assert_eq!(client.status, 200, "{}", client.json);
    let read = call(
        http.get(format!("{}/api/v1/oauth/client/{id}", admin.base))
            .insert_header((
                "authorization",
                format!("Bearer {}", client.json["access_token"].as_str().unwrap()),
            )),
        None,
    )
    .await;
    assert_eq!(read.status, 200, "{}", read.json);

    // Nothing was generated in admin-service's working directory: no key of its own.
    assert!(
        !admin_dir.path().join("data").exists(),
        "admin-service wrote {:?}",
        std::fs::read_dir(admin_dir.path().join("data")).map(|d| d.count())
    );
    assert!(admin.terminate().success());
    assert!(token.terminate().success());
}
