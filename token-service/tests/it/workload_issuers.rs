//! Workload identity's issuers: a deleted issuer authenticates nobody at once, and an https
//! `jwks_uri` is trusted through the configured CA bundle.

use auth_core::store::federation;
use auth_core::testing::Backend;
use auth_core::testing::https_files::HttpsFiles;
use auth_core::testing::issuer::TestIssuer;

use crate::support::{ISSUER, TestApp};
use crate::workload::{HOUR, service_account};

/// Deleting the issuer's bindings stops its workloads at once.
#[actix_web::test]
async fn a_deleted_issuer_authenticates_nobody() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let issuer = TestIssuer::start().await;
    let issuer_id = app.trust(&issuer, false).await;
    let api = service_account("api");
    app.workload_client("", &issuer, &[&api]).await;
    let platform_token = issuer.mint(&api, &[ISSUER], HOUR);
    assert_eq!(app.token_for_workload(&platform_token).await.status, 200);
    let bound = app
        .store
        .run(move |conn| federation::delete_issuer(conn, &issuer_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bound.len(), 1);
    assert_eq!(app.token_for_workload(&platform_token).await.status, 401);
}

/// Keys served over https are fetched trusting the system's roots and `FEDERATION_CA_FILE`:
/// with the CA that signed the server's certificate the workload authenticates; without
/// it the fetch fails (an unknown CA) and nothing does.
#[actix_web::test]
async fn https_jwks_uris_trust_the_configured_ca() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = HttpsFiles::start(dir.path()) else {
        return;
    };
    let issuer = TestIssuer::start().await;
    std::fs::write(dir.path().join("jwks.json"), issuer.jwks().to_string()).unwrap();
    let ca = server.tls.ca.display().to_string();
    let api = service_account("api");
    let platform_token = issuer.mint(&api, &[ISSUER], HOUR);
    for (trusting, vars) in [
        (true, vec![("FEDERATION_CA_FILE", ca.as_str())]),
        (false, vec![]),
    ] {
        let Some(app) = TestApp::spawn_with(Backend::Postgres, &vars).await else {
            return;
        };
        app.register(&issuer, Some(server.url("jwks.json")), None)
            .await;
        app.workload_client("", &issuer, &[&api]).await;
        let status = app.token_for_workload(&platform_token).await.status;
        assert_eq!(
            status,
            if trusting { 200 } else { 401 },
            "trusting the CA: {trusting}"
        );
    }
}
