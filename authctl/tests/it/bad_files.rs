//! A bad file refuses the whole apply before anything changes, naming the line.

use serde_json::Value;

use crate::support::{PUBLIC_X, Stack};

/// A valid start (lines 1 to 4), then `tail` (from line 5 on).
fn file_with(tail: &str) -> String {
    format!(
        "\
scopes: [orders:read]
clients:
  - name: web
    scopes: [orders:read]
{tail}"
    )
}

/// Applies `text` and checks it is refused with exit code 2, naming `line` and `reason`.
fn refused(stack: &Stack, text: &str, line: usize, reason: &str) {
    let file = stack.write("clients.yaml", text);
    let secrets = stack.dir.path().to_str().unwrap().to_owned();
    let run = stack.authctl(&[
        "apply",
        "-f",
        file.to_str().unwrap(),
        "--secrets-dir",
        &secrets,
    ]);
    assert_eq!(run.code, 2, "{run:#?}");
    let named = format!("clients.yaml:{line}: ");
    let reported = run
        .stderr
        .lines()
        .any(|l| l.contains(&named) && l.contains(reason));
    assert!(reported, "expected {named}...{reason} in:\n{}", run.stderr);
    assert!(run.stderr.contains("nothing was changed"), "{run:#?}");
    assert_eq!(run.stdout, "", "{run:#?}");
}

#[test]
fn bad_files_are_refused_naming_the_line_and_nothing_changes() {
    let Some(stack) = Stack::start() else { return };
    let registry = stack.registry();

    // An unknown field (a typo of `scopes`).
    refused(
        &stack,
        &file_with("  - name: billing\n    scope: [orders:read]\n"),
        6,
        "unknown field `scope`",
    );
    // A keys_file that is not there (line 5: the client that names it).
    refused(
        &stack,
        &file_with("  - name: signer\n    keys_file: keys/missing.jwks.json\n"),
        5,
        "cannot read keys_file",
    );
    // A duplicate name: the second one is named.
    refused(
        &stack,
        &file_with("  - name: billing\n    scopes: []\n  - name: web\n    scopes: []\n"),
        7,
        "client name `web` is declared twice",
    );
    // A scope neither registered nor declared.
    refused(
        &stack,
        &file_with("  - name: billing\n    scopes:\n      - orders:read\n      - orders:wirte\n"),
        8,
        "unknown scope `orders:wirte`",
    );
    // A private key where a public one belongs.
    refused(
        &stack,
        &file_with(&format!(
            "  - name: signer\n    keys:\n      - {{kty: OKP, crv: Ed25519, x: {PUBLIC_X}, d: c2VjcmV0}}\n"
        )),
        6,
        "private key members (d)",
    );
    // A key that is no key the service takes.
    refused(
        &stack,
        &file_with("  - name: signer\n    keys:\n      - {kty: oct, k: c2VjcmV0}\n"),
        6,
        "key 0",
    );
    // A value of the wrong type.
    refused(
        &stack,
        "clients:\n  - name: [web]\n",
        2,
        "invalid type: sequence",
    );
    // Not YAML at all: an unclosed flow sequence.
    refused(
        &stack,
        "scopes: [a, b\nclients: []\n",
        2,
        "did not find expected ',' or ']'",
    );

    // Nothing reached the service: no client, no scope.
    assert_eq!(stack.clients(), Vec::<Value>::new());
    assert_eq!(stack.registry(), registry);
    assert!(!stack.registry().contains(&"orders:read".to_owned()));
}
