//! The other commands: JSON output parsed, human output, exit codes.

use auth_core::testing::process::free_port;
use serde_json::{Value, json};

use crate::support::{PUBLIC_X, Stack, authctl, mode};

#[test]
fn clients_scopes_issuers_and_revocation_round_trip_through_the_api() {
    let Some(stack) = Stack::start() else { return };

    // login says who this is.
    let login = stack.authctl(&["login"]);
    assert!(login.ok().contains("logged in as root"), "{login:#?}");

    // A custom scope, then a client holding it, its secret written to a file.
    let added = stack.json(&["scopes", "add", "reports:read"]);
    assert_eq!(added, json!({"name": "reports:read", "created": true}));
    let secret_file = stack.dir.path().join("reports.secret");
    let created = stack.json(&[
        "clients",
        "create",
        "--name",
        "reports",
        "--scope",
        "reports:read",
        "--secret-out",
        secret_file.to_str().unwrap(),
    ]);
    let id = created["client_id"].as_str().unwrap().to_owned();
    assert!(created.get("client_secret").is_none(), "{created}");
    assert_eq!(mode(&secret_file), 0o600);
    let secret = std::fs::read_to_string(&secret_file)
        .unwrap()
        .trim()
        .to_owned();
    assert!(!secret.is_empty());

    let shown = stack.json(&["clients", "get", &id]);
    assert_eq!(shown["name"], "reports");
    assert_eq!(shown["scopes"], json!(["reports:read"]));
    let table = stack.authctl(&["clients", "list"]);
    let row = table.ok().lines().find(|l| l.starts_with(&id)).unwrap();
    assert!(
        row.contains("reports") && row.contains("reports:read"),
        "{row}"
    );

    // Scopes, limits, keys, identities.
    let scopes = stack.json(&[
        "clients",
        "scopes",
        "set",
        &id,
        "reports:read",
        "client:read",
    ]);
    // The API answers in the order asked; reading gives the registry's order.
    assert_eq!(scopes, json!(["reports:read", "client:read"]));
    assert_eq!(
        stack.json(&["clients", "scopes", "get", &id]),
        json!(["client:read", "reports:read"])
    );
    let limits = stack.json(&["clients", "limits", "set", &id, "--tokens-per-minute", "7"]);
    assert_eq!(limits["tokens_per_minute"], 7);
    assert_eq!(limits["revocations_per_minute"], Value::Null);
    let jwks = stack.write(
        "jwks.json",
        &json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": PUBLIC_X}]}).to_string(),
    );
    let with_keys = stack.json(&[
        "clients",
        "keys",
        "set",
        &id,
        "--jwks",
        jwks.to_str().unwrap(),
    ]);
    assert_eq!(with_keys["keys"].as_array().unwrap().len(), 1);
    let issuer = stack.json(&[
        "issuers",
        "create",
        "--issuer",
        "https://ci.authctl-test",
        "--jwks",
        jwks.to_str().unwrap(),
    ]);
    let issuer_id = issuer["id"].as_str().unwrap().to_owned();
    assert_eq!(
        stack.json(&["issuers", "get", &issuer_id])["issuer"],
        "https://ci.authctl-test"
    );
    let bound = stack.json(&[
        "clients",
        "identities",
        "set",
        &id,
        "--identity",
        "https://ci.authctl-test=repo:reports:*",
    ]);
    assert_eq!(
        bound["identities"],
        json!([{"issuer": "https://ci.authctl-test", "subject": "repo:reports:*"}])
    );

    // Rotation with grace: a new secret, to its file; the old one still works meanwhile.
    let rotated = stack.json(&[
        "clients",
        "rotate",
        &id,
        "--grace-seconds",
        "60",
        "--secret-out",
        secret_file.to_str().unwrap(),
    ]);
    assert!(rotated.get("client_secret").is_none(), "{rotated}");
    assert!(
        rotated["previous_secret_expires_at"].is_string(),
        "{rotated}"
    );
    let new_secret = std::fs::read_to_string(&secret_file)
        .unwrap()
        .trim()
        .to_owned();
    assert_ne!(new_secret, secret);
    // A symbolic link as the destination is refused before anything changes, and what
    // it points to is left alone.
    let elsewhere = stack.write("elsewhere.txt", "untouched\n");
    let link = stack.dir.path().join("link.secret");
    std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
    let refused = stack.authctl(&[
        "clients",
        "rotate",
        &id,
        "--secret-out",
        link.to_str().unwrap(),
    ]);
    assert_eq!(refused.code, 2, "{refused:#?}");
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "untouched\n");
    let as_client = |secret: &str| {
        let mut env = stack.root_env();
        env.retain(|(k, _)| !k.starts_with("AUTHCTL_CLIENT_"));
        env.push(("AUTHCTL_CLIENT_ID".into(), id.clone()));
        env.push(("AUTHCTL_CLIENT_SECRET".into(), secret.to_owned()));
        env
    };
    let login = authctl(
        &["login", "-o", "json"],
        &as_client(&new_secret),
        stack.dir.path(),
    );
    assert_eq!(
        login.json()["scopes"],
        json!(["client:read", "reports:read"])
    );

    // A token of the client, revoked; then all of its tokens.
    let token = authctl(&["token"], &as_client(&new_secret), stack.dir.path());
    let token = token.ok().trim().to_owned();
    assert_eq!(token.split('.').count(), 3, "{token}");
    assert!(
        stack
            .authctl(&["revoke", "token", &token])
            .ok()
            .contains("revoked")
    );
    stack.authctl(&["revoke", "client", &id]).ok();
    let events: Vec<Value> = stack
        .authctl(&["audit", "list", "--target", &id, "-o", "json"])
        .ok()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "client.create",
        "client.scopes.replace",
        "client.keys.replace",
        "client.secret.rotate",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
    assert!(events.iter().all(|e| e["target"] == id.as_str()));
    let revoked = stack.authctl(&["audit", "list", "--action", "token.revoke"]);
    assert!(revoked.ok().contains("token.revoke"), "{revoked:#?}");

    // Deletion: then the client is gone (404: exit 1, with the API's error code).
    let deleted = stack.json(&["clients", "delete", &id]);
    assert_eq!(deleted["deleted"], true);
    let missing = stack.authctl(&["clients", "get", &id]);
    assert_eq!(missing.code, 1, "{missing:#?}");
    assert!(missing.stderr.contains("not_found"), "{missing:#?}");
    assert_eq!(missing.stdout, "");
    stack.json(&["issuers", "delete", &issuer_id]);
    assert_eq!(stack.json(&["issuers", "list"]), json!([]));
    stack.json(&["scopes", "delete", "reports:read"]);
    assert!(!stack.registry().contains(&"reports:read".to_owned()));
    let gone = stack.authctl(&["scopes", "delete", "reports:read"]);
    assert_eq!(gone.code, 1, "{gone:#?}");
}

#[test]
fn exit_codes_tell_refusal_configuration_and_unreachable_apart() {
    let Some(stack) = Stack::start() else { return };
    let env = stack.root_env();

    // A wrong secret: the token endpoint refuses (1), with its error code.
    let mut wrong = env.clone();
    wrong.retain(|(k, _)| k != "AUTHCTL_CLIENT_SECRET");
    wrong.push(("AUTHCTL_CLIENT_SECRET".into(), "not-the-secret".into()));
    let run = authctl(&["login"], &wrong, stack.dir.path());
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("invalid_client"), "{run:#?}");

    // A missing setting (2), named; no secret in the environment nor a file (2).
    let mut no_admin = env.clone();
    no_admin.retain(|(k, _)| k != "AUTHCTL_ADMIN_URL");
    let run = authctl(&["clients", "list"], &no_admin, stack.dir.path());
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("AUTHCTL_ADMIN_URL"), "{run:#?}");
    let mut no_secret = env.clone();
    no_secret.retain(|(k, _)| k != "AUTHCTL_CLIENT_SECRET");
    let run = authctl(&["clients", "list"], &no_secret, stack.dir.path());
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("AUTHCTL_CLIENT_SECRET"), "{run:#?}");
    // ... and the secret from a file works instead.
    let file = stack.write("root.secret", &format!("{}\n", crate::support::ROOT_SECRET));
    let run = authctl(
        &["login", "--client-secret-file", file.to_str().unwrap()],
        &no_secret,
        stack.dir.path(),
    );
    assert_eq!(run.code, 0, "{run:#?}");
    // A usage error of the command line itself (2).
    let run = stack.authctl(&["clients", "frobnicate"]);
    assert_eq!(run.code, 2, "{run:#?}");

    // Nobody listening (3): the token service, then the admin service.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let mut down = env.clone();
    down.retain(|(k, _)| k != "AUTHCTL_TOKEN_URL");
    down.push(("AUTHCTL_TOKEN_URL".into(), nowhere.clone()));
    let run = authctl(&["clients", "list"], &down, stack.dir.path());
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(run.stderr.contains("cannot reach"), "{run:#?}");
    let mut admin_down = env.clone();
    admin_down.retain(|(k, _)| k != "AUTHCTL_ADMIN_URL");
    admin_down.push(("AUTHCTL_ADMIN_URL".into(), nowhere));
    let run = authctl(&["scopes", "list"], &admin_down, stack.dir.path());
    assert_eq!(run.code, 3, "{run:#?}");
}

#[test]
fn completion_needs_no_service() {
    let run = authctl(&["completion", "bash"], &[], std::path::Path::new("."));
    assert!(run.ok().contains("authctl"), "{run:#?}");
    assert!(run.stdout.contains("complete"), "{run:#?}");
    let help = authctl(&["apply", "--help"], &[], std::path::Path::new("."));
    assert!(help.ok().contains("--secrets-dir"), "{help:#?}");
}
