//! Logs of full flows, at debug level and in JSON, hold no secret, token or assertion.

use auth_core::testing::process::{Process, binary, free_port};
use auth_core::testing::{Backend, TestDatabase, signing_key_file};

use crate::support::{ROOT_ID, ROOT_SECRET, basic, form};
use crate::telemetry::service_env;

#[actix_web::test]
async fn logs_of_full_flows_hold_no_secret_or_token() {
    let Some(db) = TestDatabase::create(Backend::Postgres) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = signing_key_file(dir.path());
    let (token_port, admin_port) = (free_port(), free_port());
    let debug = ("RUST_LOG", "debug".to_owned());
    let token_env = service_env(
        &db,
        &key,
        &[
            ("TOKEN_SERVICE_ADDR", format!("127.0.0.1:{token_port}")),
            debug.clone(),
        ],
    );
    let admin_env = service_env(
        &db,
        &key,
        &[
            ("ADMIN_SERVICE_ADDR", format!("127.0.0.1:{admin_port}")),
            (
                "TOKEN_SERVICE_URL",
                format!("http://127.0.0.1:{token_port}"),
            ),
            debug,
        ],
    );
    let mut tokens = Process::spawn(
        &binary("token-service"),
        token_port,
        &[],
        &token_env,
        dir.path(),
    );
    let mut admin = Process::spawn(
        &binary("admin-service"),
        admin_port,
        &[],
        &admin_env,
        dir.path(),
    );
    tokens.wait_live().await;
    admin.wait_ready().await;

    let http = awc::Client::default();
    let mut secrets: Vec<String> = vec![ROOT_SECRET.to_owned()];
    let token = |id: String, secret: String| {
        let http = http.clone();
        let base = tokens.base.clone();
        async move {
            let mut response = http
                .post(format!("{base}/api/v1/oauth/token"))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .send_body(form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", &id),
                    ("client_secret", &secret),
                ]))
                .await
                .unwrap();
            let request_id = response
                .headers()
                .get("x-request-id")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let body: serde_json::Value = response.json().await.unwrap();
            (
                body["access_token"].as_str().unwrap_or_default().to_owned(),
                request_id,
            )
        }
    };
    let admin_call = |method: &str, path: &str, bearer: &str, body: Option<serde_json::Value>| {
        let request = http
            .request(method.parse().unwrap(), format!("{}{path}", admin.base))
            .insert_header(("authorization", format!("Bearer {bearer}")));
        async move {
            let mut response = match body {
                Some(body) => request.send_json(&body).await.unwrap(),
                None => request.send().await.unwrap(),
            };
            response
                .json::<serde_json::Value>()
                .await
                .unwrap_or_default()
        }
    };

    let (root, _) = token(ROOT_ID.into(), ROOT_SECRET.into()).await;
    let created = admin_call(
        "POST",
        "/api/v1/oauth/client",
        &root,
        Some(serde_json::json!(["client:read"])),
    )
    .await;
    let id = created["client_id"].as_str().unwrap().to_owned();
    let first_secret = created["client_secret"].as_str().unwrap().to_owned();
    secrets.push(first_secret.clone());
    let (first, request_id) = token(id.clone(), first_secret.clone()).await;
    admin_call("GET", "/api/v1/oauth/client", &first, None).await;
    let rotated = admin_call(
        "POST",
        &format!("/api/v1/oauth/client/{id}/secret"),
        &root,
        Some(serde_json::json!({"grace_period_seconds": 60})),
    )
    .await;
    secrets.push(rotated["client_secret"].as_str().unwrap().to_owned());
    let (second, _) = token(id.clone(), first_secret.clone()).await;
    token(
        id.clone(),
        "ocs_wrong-secret-in-a-log-would-be-a-leak".into(),
    )
    .await;
    secrets.push("ocs_wrong-secret-in-a-log-would-be-a-leak".into());
    let basic_header = basic(&id, &first_secret);
    http.post(format!("{}/api/v1/oauth/introspect", tokens.base))
        .insert_header(("authorization", basic_header.clone()))
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .send_body(form(&[("token", &second)]))
        .await
        .unwrap();
    admin_call(
        "POST",
        "/api/v1/oauth/revocation",
        &root,
        Some(serde_json::json!({"token": second})),
    )
    .await;
    admin_call("DELETE", &format!("/api/v1/oauth/client/{id}"), &root, None).await;
    admin_call("GET", "/api/v1/oauth/client", &first, None).await;
    // A client authenticating with private_key_jwt: a good assertion, its replay, a forgery.
    let key = crate::assertions::ClientKey::ed25519();
    let keyed = admin_call(
        "POST",
        "/api/v1/oauth/client",
        &root,
        Some(serde_json::json!({"scopes": [], "keys": [key.jwk]})),
    )
    .await;
    let keyed_id = keyed["client_id"].as_str().unwrap().to_owned();
    let assertion = key.sign(&crate::assertions::claims(&keyed_id));
    let forged =
        crate::assertions::ClientKey::ed25519().sign(&crate::assertions::claims(&keyed_id));
    let mut statuses = Vec::new();
    for sent in [&assertion, &assertion, &forged] {
        let response = http
            .post(format!("{}/api/v1/oauth/token", tokens.base))
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .send_body(form(&[
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", sent),
            ]))
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 401, 401]);
    secrets.push(assertion.clone());
    secrets.push(forged.clone());
    // A careless client puts a secret in a query string: the access log leaves it out.
    let in_query = "ocs_secret-in-a-query-string-must-not-be-logged";
    http.get(format!(
        "{}/.well-known/jwks.json?client_secret={in_query}",
        tokens.base
    ))
    .send()
    .await
    .unwrap();
    secrets.push(in_query.to_owned());
    assert!(tokens.terminate().success());
    assert!(admin.terminate().success());

    let logs = format!("{}\n{}", tokens.output(), admin.output());
    // The causes of the refusals are there, the assertions are not (checked below).
    assert!(logs.contains("the assertion was used before"), "{logs}");
    assert!(
        logs.contains("the assertion names an unknown key"),
        "{logs}"
    );
    let base64_part = basic_header.trim_start_matches("Basic ");
    let forbidden: Vec<&str> = secrets
        .iter()
        .map(String::as_str)
        .chain([root.as_str(), first.as_str(), second.as_str(), base64_part])
        .collect();
    for needle in forbidden {
        assert!(!needle.is_empty());
        assert!(
            !logs.contains(needle),
            "a secret or token is in the logs: {:.12}…",
            needle
        );
    }
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON log line: {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "token issued"
                && l["span"]["request_id"] == request_id.as_str()),
        "the request id of a response is on its log lines"
    );
    let access = |path: &str, status: u16| {
        lines.iter().any(|l| {
            l["target"] == "access"
                && l["path"] == path
                && l["status"] == status
                && l["method"] == "POST"
                && l["duration_ms"].is_number()
        })
    };
    assert!(
        access("/api/v1/oauth/token", 200) && access("/api/v1/oauth/token", 401),
        "every request has an access-log line"
    );
    assert!(
        lines.iter().any(|l| l["target"] == "access"
            && l["path"] == "/.well-known/jwks.json"
            && l["span"]["request_id"].is_string()),
        "access-log lines carry the path without its query, and the request id"
    );
}
