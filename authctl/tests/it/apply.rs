//! `authctl apply`: from empty, again (no changes), one change, dry run, prune; where new
//! secrets go, listings, the shipped files, in-place updates and `audit --follow` are in
//! `apply_more`.

use serde_json::Value;

use crate::support::{PUBLIC_X, ROOT_ID, ROOT_SECRET, Stack, authctl, mode};

/// Two custom scopes, a trusted issuer and three clients: one with a secret and limits,
/// one bound to workload identities, one with a public key.
pub(crate) fn declared(web_scopes: &str) -> String {
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
