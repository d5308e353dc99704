//! Start-up of the real binary: configuration errors name their variable.

use std::process::{Command, Stdio};

fn run_binary(vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_token-service"))
        .env_clear()
        .current_dir(dir.path())
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run token-service");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn missing_root_secret_stops_the_service_naming_the_variable() {
    let (code, stderr) = run_binary(&[("OAUTH_ROOT_CLIENT_ID", "root")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("OAUTH_ROOT_CLIENT_SECRET"), "{stderr}");
}

#[test]
fn invalid_value_stops_the_service_without_echoing_the_secret() {
    let (code, stderr) = run_binary(&[
        ("OAUTH_ROOT_CLIENT_ID", "root"),
        ("OAUTH_ROOT_CLIENT_SECRET", "tiny-secret"),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("OAUTH_ROOT_CLIENT_SECRET"), "{stderr}");
    assert!(!stderr.contains("tiny-secret"), "{stderr}");
}

#[test]
fn unmigrated_database_stops_the_service_pointing_at_migrate() {
    let (code, stderr) = run_binary(&[
        ("OAUTH_ROOT_CLIENT_ID", "root"),
        ("OAUTH_ROOT_CLIENT_SECRET", "a-long-enough-root-secret"),
        ("DATABASE_URL", "sqlite://./empty.sqlite"),
        ("TOKEN_SERVICE_ADDR", "127.0.0.1:0"),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("admin-service migrate"), "{stderr}");
}
