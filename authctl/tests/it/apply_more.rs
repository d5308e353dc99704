//! More of `authctl`: where a new client's secret goes (a Kubernetes Secret manifest, or a
//! refusal without a destination), listings across pages, the shipped example files,
//! keys, identities and limits updated in place (audiences refused), and
//! `audit --follow`.

use serde_json::Value;

use crate::apply::declared;
use crate::support::{PUBLIC_X, Stack, authctl, mode};

#[test]
fn a_new_secret_can_go_to_a_kubernetes_secret_manifest() {
    let Some(stack) = Stack::start() else { return };
    let manifest = stack.dir.path().join("secrets.yaml");
    let file = stack.write(
        "clients.yaml",
        "clients:\n  - name: Web_Shop\n    scopes: [client:read]\n",
    );
    let run = stack.authctl(&[
        "apply",
        "-f",
        file.to_str().unwrap(),
        "--secrets-k8s-manifest",
        manifest.to_str().unwrap(),
    ]);
    run.ok();
    assert_eq!(mode(&manifest), 0o600);
    let text = std::fs::read_to_string(&manifest).unwrap();
    let document: Value = yaml_serde::from_str(text.trim_start_matches("---\n")).unwrap();
    assert_eq!(document["kind"], "Secret");
    assert_eq!(document["metadata"]["name"], "web-shop-client-credentials");
    let id = stack.client("Web_Shop")["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(document["stringData"]["client_id"], id.as_str());
    let secret = document["stringData"]["client_secret"].as_str().unwrap();
    assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));

    // The manifest's secret is the client's.
    let env = vec![
        ("AUTHCTL_TOKEN_URL".to_owned(), stack.token.base.clone()),
        ("AUTHCTL_ADMIN_URL".to_owned(), stack.admin.base.clone()),
        ("AUTHCTL_CLIENT_ID".to_owned(), id.clone()),
        ("AUTHCTL_CLIENT_SECRET".to_owned(), secret.to_owned()),
    ];
    let login = authctl(&["login", "-o", "json"], &env, stack.dir.path()).json();
    assert_eq!(login["scopes"], serde_json::json!(["client:read"]));
}

#[test]
fn a_new_client_that_needs_a_secret_is_refused_without_a_destination() {
    let Some(stack) = Stack::start() else { return };
    let file = stack.write("clients.yaml", "clients:\n  - name: web\n    scopes: []\n");
    let run = stack.authctl(&["apply", "-f", file.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("clients.yaml:2:"), "{run:#?}");
    assert!(run.stderr.contains("--secrets-dir"), "{run:#?}");
    assert_eq!(stack.clients(), Vec::<Value>::new());
}

#[test]
fn listings_follow_every_page() {
    let Some(stack) = Stack::start() else { return };
    let secrets = stack.mkdir("secrets");
    let mut text = String::from("clients:\n");
    for i in 0..105 {
        text.push_str(&format!("  - name: c{i:03}\n"));
    }
    let file = stack.write("clients.yaml", &text);
    let args = [
        "apply",
        "-f",
        file.to_str().unwrap(),
        "--secrets-dir",
        secrets.to_str().unwrap(),
    ];
    assert!(stack.authctl(&args).ok().contains("applied 105 change(s)"));
    assert_eq!(stack.clients().len(), 105);
    // And apply sees all of them too.
    assert!(stack.authctl(&args).ok().contains("no changes"));
}

#[test]
fn the_shipped_files_apply() {
    let Some(stack) = Stack::start() else { return };
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");

    // docker-compose's deploy/clients.yaml, as its `clients` service runs it: a key made
    // for example-service (its keys_file), then apply from empty, then nothing to do.
    let compose = stack.write(
        "clients.yaml",
        &std::fs::read_to_string(repo.join("deploy/clients.yaml")).unwrap(),
    );
    let keys = stack.mkdir("keys");
    let key = keys.join("example-service.pem");
    let jwks = keys.join("example-service.jwks.json");
    let keygen = [
        "keygen",
        "--key-out",
        key.to_str().unwrap(),
        "--jwks-out",
        jwks.to_str().unwrap(),
    ];
    stack.authctl(&keygen).ok();
    let pem = std::fs::read_to_string(&key).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    stack.authctl(&keygen).ok();
    assert_eq!(
        std::fs::read_to_string(&key).unwrap(),
        pem,
        "a second keygen keeps the key"
    );
    let secrets = stack.mkdir("secrets");
    let args = [
        "apply",
        "-f",
        compose.to_str().unwrap(),
        "--secrets-dir",
        secrets.to_str().unwrap(),
        "--ids-dir",
        keys.to_str().unwrap(),
    ];
    assert!(stack.authctl(&args).ok().contains("applied"));
    assert!(stack.authctl(&args).ok().contains("no changes"));
    assert!(secrets.join("reports-job.secret").exists());
    assert!(
        !secrets.join("example-service.secret").exists(),
        "a client with keys gets no secret"
    );
    let example = stack.client("example-service");
    assert_eq!(example["has_secret"], false);
    let public: Value = serde_json::from_str(&std::fs::read_to_string(&jwks).unwrap()).unwrap();
    assert_eq!(example["keys"][0]["x"], public["keys"][0]["x"]);
    assert_eq!(
        std::fs::read_to_string(keys.join("example-service.id"))
            .unwrap()
            .trim(),
        example["client_id"].as_str().unwrap(),
        "--ids-dir wrote the id example-service reads"
    );

    // The Kubernetes Job's ConfigMap holds a file apply takes, without a secrets
    // destination (the Job has none).
    let manifest = std::fs::read_to_string(repo.join("deploy/k8s/base/clients-job.yaml")).unwrap();
    let config_map: Value =
        yaml_serde::from_str(manifest.split("\n---\n").next().unwrap()).unwrap();
    assert_eq!(config_map["kind"], "ConfigMap");
    let file = stack.write(
        "k8s-clients.yaml",
        config_map["data"]["clients.yaml"].as_str().unwrap(),
    );
    let run = stack.authctl(&["apply", "-f", file.to_str().unwrap()]);
    assert!(run.ok().contains("no changes"), "{run:#?}");
}

#[test]
fn keys_identities_and_limits_are_updated_in_place_but_audiences_are_refused() {
    let Some(stack) = Stack::start() else { return };
    let secrets = stack.mkdir("secrets");
    let file = stack.write("clients.yaml", &declared("orders:read"));
    let path = file.to_str().unwrap();
    let dir = secrets.to_str().unwrap();
    stack
        .authctl(&["apply", "-f", path, "--secrets-dir", dir])
        .ok();
    let billing_id = stack.client("billing")["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let signer_id = stack.client("signer")["client_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Another subject for billing, signer's keys fetched from a URL, web without limits.
    let changed = declared("orders:read")
        .replace(
            "system:serviceaccount:billing:*",
            "system:serviceaccount:billing:job",
        )
        .replace(
            &format!("    keys:\n      - kty: OKP\n        crv: Ed25519\n        x: {PUBLIC_X}\n"),
            "    jwks_uri: https://keys.authctl-test/jwks.json\n",
        )
        .replace("    limits:\n      tokens_per_minute: 100\n", "");
    stack.write("clients.yaml", &changed);
    let run = stack.authctl(&["apply", "-f", path, "--secrets-dir", dir]);
    let lines: Vec<&str> = run.ok().lines().collect();
    assert_eq!(
        lines,
        [
            "~ client web: limits tokens_per_minute 100, revocations_per_minute default -> tokens_per_minute default, revocations_per_minute default",
            "~ client billing: identities -> https://kubernetes.authctl-test=system:serviceaccount:billing:job",
            "~ client signer: keys from https://keys.authctl-test/jwks.json",
            "applied 3 change(s)",
        ],
        "{run:#?}"
    );
    let billing = stack.client("billing");
    assert_eq!(billing["client_id"], billing_id.as_str());
    assert_eq!(
        billing["identities"],
        serde_json::json!([{"issuer": "https://kubernetes.authctl-test", "subject": "system:serviceaccount:billing:job"}])
    );
    let signer = stack.client("signer");
    assert_eq!(signer["client_id"], signer_id.as_str());
    assert_eq!(signer["jwks_uri"], "https://keys.authctl-test/jwks.json");
    let web_id = stack.client("web")["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        stack.json(&["clients", "limits", "get", &web_id])["tokens_per_minute"],
        Value::Null
    );
    assert!(
        stack
            .authctl(&["apply", "-f", path, "--secrets-dir", dir])
            .ok()
            .contains("no changes")
    );

    // Audiences are fixed at creation: a differing list refuses the apply, naming the
    // client's line and what to do, and nothing changes (not even the scope change).
    let audiences = changed
        .replace(
            "    scopes: [orders:read]\n  - name: billing\n",
            "    scopes: [orders:write]\n  - name: billing\n    audiences: [https://payments.authctl-test]\n",
        );
    assert!(audiences.contains("[orders:write]\n  - name: billing\n    audiences"));
    stack.write("clients.yaml", &audiences);
    let before = stack.clients();
    let refused = stack.authctl(&["apply", "-f", path, "--secrets-dir", dir]);
    assert_eq!(refused.code, 2, "{refused:#?}");
    let line = audiences
        .lines()
        .position(|l| l == "  - name: billing")
        .unwrap()
        + 1;
    assert!(
        refused.stderr.contains(&format!(
            "clients.yaml:{line}: client `billing`: audiences differ"
        )),
        "{refused:#?}"
    );
    assert!(refused.stderr.contains("recreate"), "{refused:#?}");
    assert_eq!(stack.clients(), before);
}

#[test]
fn audit_follow_prints_new_events_as_they_happen() {
    use std::io::BufRead as _;

    let Some(stack) = Stack::start() else { return };
    stack.json(&["scopes", "add", "before:follow"]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_authctl"))
        .args(["audit", "list", "--follow", "--interval", "1", "-o", "json"])
        .env_clear()
        .envs(stack.root_env())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if lines.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let next_event = || -> Value {
        let line = received
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("an audit event");
        serde_json::from_str(&line).unwrap()
    };
    assert_eq!(next_event()["target"], "before:follow");
    // A change made now shows up, once.
    stack.json(&["scopes", "add", "after:follow"]);
    let event = next_event();
    assert_eq!(event["action"], "scope.add");
    assert_eq!(event["target"], "after:follow");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(received.try_iter().all(|l| !l.contains("before:follow")));
}
