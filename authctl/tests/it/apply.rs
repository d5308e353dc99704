//! `authctl apply`: from empty, again (no changes), one change, dry run, prune, secrets.

use serde_json::Value;

use crate::support::{PUBLIC_X, ROOT_ID, ROOT_SECRET, Stack, authctl, mode};

/// Two custom scopes, a trusted issuer and three clients: one with a secret and limits,
/// one bound to workload identities, one with a public key.
fn declared(web_scopes: &str) -> String {
    format!(
        "\
scopes:
  - orders:read
  - orders:write
issuers:
  - issuer: https://kubernetes.authctl-test
    jwks:
      keys:
        - {{kty: OKP, crv: Ed25519, x: {PUBLIC_X}}}
    audiences: [https://auth.authctl-test]
clients:
  - name: web
    description: the web shop
    scopes: [{web_scopes}]
    limits:
      tokens_per_minute: 100
  - name: billing
    scopes:
      - orders:read
      - orders:write
    identities:
      - issuer: https://kubernetes.authctl-test
        subject: system:serviceaccount:billing:*
  - name: signer
    scopes: []
    keys:
      - kty: OKP
        crv: Ed25519
        x: {PUBLIC_X}
"
    )
}

fn names(clients: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = clients
        .iter()
        .map(|c| c["name"].as_str().unwrap_or("-").to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn apply_creates_then_changes_nothing_then_makes_exactly_the_one_change() {
    let Some(stack) = Stack::start() else { return };
    let secrets = stack.mkdir("secrets");
    let file = stack.write("clients.yaml", &declared("orders:read"));
    let apply = |extra: &[&str]| {
        let mut args = vec!["apply", "-f", file.to_str().unwrap(), "--secrets-dir"];
        args.push(secrets.to_str().unwrap());
        args.extend(extra);
        stack.authctl(&args)
    };

    // From empty: everything is created.
    let first = apply(&[]);
    let out = first.ok();
    for line in [
        "+ scope orders:read",
        "+ scope orders:write",
        "+ issuer https://kubernetes.authctl-test",
        "+ client web",
        "+ client billing",
        "+ client signer",
        "applied 6 change(s)",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    let clients = stack.clients();
    assert_eq!(names(&clients), ["billing", "signer", "web"]);
    let web = stack.client("web");
    assert_eq!(web["scopes"], serde_json::json!(["orders:read"]));
    assert_eq!(web["description"], "the web shop");
    let billing = stack.client("billing");
    assert_eq!(billing["has_secret"], false);
    assert_eq!(
        billing["identities"][0]["subject"],
        "system:serviceaccount:billing:*"
    );
    let signer = stack.client("signer");
    assert_eq!(signer["has_secret"], false);
    assert_eq!(signer["keys"].as_array().unwrap().len(), 1);
    let web_id = web["client_id"].as_str().unwrap().to_owned();
    let limits = stack.json(&["clients", "limits", "get", &web_id]);
    assert_eq!(limits["tokens_per_minute"], 100);
    assert!(stack.registry().contains(&"orders:write".to_owned()));
    assert_eq!(
        stack.json(&["issuers", "list"]).as_array().unwrap().len(),
        1
    );

    // Only the client that needs a secret got one: in its file, mode 0600, never printed.
    let secret_file = secrets.join("web.secret");
    assert_eq!(mode(&secret_file), 0o600);
    let secret = std::fs::read_to_string(&secret_file)
        .unwrap()
        .trim()
        .to_owned();
    assert!(secret.len() > 20, "{secret:?}");
    assert!(!first.stdout.contains(&secret) && !first.stderr.contains(&secret));
    assert!(!secrets.join("billing.secret").exists());
    assert!(!secrets.join("signer.secret").exists());
    // ... and it is the client's secret: authctl logs in with it.
    let mut env = stack.root_env();
    env.retain(|(k, _)| !k.starts_with("AUTHCTL_CLIENT_"));
    env.push(("AUTHCTL_CLIENT_ID".into(), web_id.clone()));
    env.push(("AUTHCTL_CLIENT_SECRET".into(), secret.clone()));
    let login = authctl(&["login", "-o", "json"], &env, stack.dir.path()).json();
    assert_eq!(login["client_id"], web_id.as_str());
    assert_eq!(login["scopes"], serde_json::json!(["orders:read"]));

    // Again: nothing to do, and it says so; the secret is not handed out again.
    let again = apply(&[]);
    assert!(again.ok().contains("no changes"), "{again:#?}");
    assert!(!again.ok().contains("applied"), "{again:#?}");
    assert_eq!(
        std::fs::read_to_string(&secret_file).unwrap().trim(),
        secret
    );
    assert_eq!(stack.clients().len(), 3);

    // One field changed: one update, nothing else.
    stack.write("clients.yaml", &declared("orders:read, orders:write"));
    let changed = apply(&[]);
    let lines: Vec<&str> = changed.ok().lines().collect();
    assert_eq!(
        lines,
        [
            "~ client web: scopes orders:read -> orders:read orders:write",
            "applied 1 change(s)"
        ],
        "{changed:#?}"
    );
    let web = stack.client("web");
    assert_eq!(web["client_id"], web_id.as_str());
    assert_eq!(
        web["scopes"],
        serde_json::json!(["orders:read", "orders:write"])
    );
    assert!(apply(&[]).ok().contains("no changes"));

    // The changes went through the admin API, so they are in its audit trail.
    let audit = stack.authctl(&[
        "audit",
        "list",
        "--action",
        "client.scopes.replace",
        "-o",
        "json",
    ]);
    let events: Vec<Value> = audit
        .ok()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 1, "{audit:#?}");
    assert_eq!(events[0]["target"], web_id.as_str());
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let Some(stack) = Stack::start() else { return };
    let secrets = stack.mkdir("secrets");
    let file = stack.write("clients.yaml", &declared("orders:read"));
    let path = file.to_str().unwrap();
    let dir = secrets.to_str().unwrap();
    stack
        .authctl(&["apply", "-f", path, "--secrets-dir", dir])
        .ok();
    std::fs::remove_file(secrets.join("web.secret")).unwrap();
    let clients_before = stack.json(&["clients", "list"]);
    let registry_before = stack.registry();
    let web_limits_before = stack.json(&[
        "clients",
        "limits",
        "get",
        stack.client("web")["client_id"].as_str().unwrap(),
    ]);

    // A new client, a scope change, a limit change, and everything else pruned.
    let changed = declared("orders:write")
        .replace("tokens_per_minute: 100", "tokens_per_minute: 5")
        .replace(
            "  - name: signer\n",
            "  - name: reports\n    scopes: [orders:read]\n  - name: signer\n",
        )
        .replace(
            "  - orders:write\nissuers:",
            "  - orders:write\n  - orders:admin\nissuers:",
        );
    stack.write("clients.yaml", &changed);
    let run = stack.authctl(&[
        "apply",
        "-f",
        path,
        "--secrets-dir",
        dir,
        "--dry-run",
        "--prune",
    ]);
    let out = run.ok();
    for line in [
        "+ scope orders:admin",
        "+ client reports",
        "~ client web: scopes orders:read -> orders:write",
        "~ client web: limits tokens_per_minute 100, revocations_per_minute default -> tokens_per_minute 5, revocations_per_minute default",
        "dry run: 4 change(s) planned, nothing was changed",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }

    // Nothing changed, as the API shows it.
    assert_eq!(stack.json(&["clients", "list"]), clients_before);
    assert_eq!(stack.registry(), registry_before);
    let web_id = stack.client("web")["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        stack.json(&["clients", "limits", "get", &web_id]),
        web_limits_before
    );
    assert_eq!(std::fs::read_dir(&secrets).unwrap().count(), 0);

    // The JSON plan is the same list.
    let json = stack
        .authctl(&[
            "apply",
            "-f",
            path,
            "--secrets-dir",
            dir,
            "--dry-run",
            "-o",
            "json",
        ])
        .json();
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["applied"], 0);
    assert_eq!(json["changes"].as_array().unwrap().len(), 4, "{json}");
    assert_eq!(stack.json(&["clients", "list"]), clients_before);
}

#[test]
fn prune_deletes_what_the_file_no_longer_declares_but_never_root() {
    let Some(stack) = Stack::start() else { return };
    let secrets = stack.mkdir("secrets");
    let file = stack.write("clients.yaml", &declared("orders:read"));
    let path = file.to_str().unwrap();
    let dir = secrets.to_str().unwrap();
    stack
        .authctl(&["apply", "-f", path, "--secrets-dir", dir])
        .ok();
    let stray = stack.json(&["clients", "create", "--name", "stray"]);
    let stray_id = stray["client_id"].as_str().unwrap().to_owned();

    // Without --prune, what the file does not declare stays.
    let only_web = "\
scopes: [orders:read]
clients:
  - name: web
    description: the web shop
    scopes: [orders:read]
    limits: {tokens_per_minute: 100}
";
    stack.write("clients.yaml", only_web);
    let kept = stack.authctl(&["apply", "-f", path, "--secrets-dir", dir]);
    assert!(kept.ok().contains("no changes"), "{kept:#?}");
    assert_eq!(stack.clients().len(), 4);

    // With it, the rest goes: clients (named or not), the issuer, the custom scope.
    let pruned = stack.authctl(&["apply", "-f", path, "--secrets-dir", dir, "--prune"]);
    let out = pruned.ok();
    for line in [
        "- client billing",
        "- client signer",
        &format!("- client stray ({stray_id})"),
        "- issuer https://kubernetes.authctl-test",
        "- scope orders:write",
        "applied 5 change(s)",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    assert_eq!(names(&stack.clients()), ["web"]);
    let registry = stack.registry();
    assert!(registry.contains(&"orders:read".to_owned()));
    assert!(!registry.contains(&"orders:write".to_owned()));
    assert!(
        registry.contains(&"client:create".to_owned()),
        "built-in scopes stay"
    );
    assert_eq!(stack.json(&["issuers", "list"]), serde_json::json!([]));

    // The root client is untouched and still works; a second prune has nothing to do.
    let root = stack.json(&["clients", "get", ROOT_ID]);
    assert_eq!(root["root"], true);
    let again = stack.authctl(&["apply", "-f", path, "--secrets-dir", dir, "--prune"]);
    assert!(again.ok().contains("no changes"), "{again:#?}");
    assert!(!again.stdout.contains(ROOT_SECRET));
}

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
