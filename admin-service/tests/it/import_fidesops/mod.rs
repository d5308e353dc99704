//! `admin-service import-fidesops`, run as the built binary: a fidesops `client` table in a
//! PostgreSQL database of its own is copied into a target database; the report, the rows,
//! the audit events, dry runs and second runs are checked, and token-service then accepts
//! the imported clients' original secrets and upgrades their hashes.

mod fixtures;
mod harness;

use actix_web::http::StatusCode;
use auth_core::ids::ClientId;
use auth_core::store::{audit, clients};
use auth_core::testing::process::free_port;
use auth_core::testing::{Backend, TestDatabase};
use auth_core::time::Timestamp;

use fixtures::*;
use harness::*;

#[actix_web::test]
async fn imported_clients_keep_their_ids_scopes_and_secrets() {
    let Some(source) = fidesops_source(&ROWS) else {
        return;
    };
    let Some(target) = TestDatabase::create(Backend::Postgres) else {
        return;
    };
    let output = import(&source, &target, &[]);
    assert_report(
        &output.stdout,
        &first_run_lines(),
        "import-fidesops: 4 imported, 6 skipped, 0 already present",
    );
    let mut conn = connect(&target);
    assert_imported_rows(&mut conn);

    // End to end: token-service accepts the fidesops secrets and upgrades their hashes.
    let tokens = TokenService::start(&target).await;
    let (status, body) = tokens.token(BCRYPT.id, BCRYPT.secret).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "client:read policy:read");
    let (status, body) = tokens.token(SHA512.id, SHA512.secret).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "dataset:read");
    let (status, body) = tokens.token(CUSTOM.id, CUSTOM.secret).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "client:read privacy-notice:read");
    let (status, _) = tokens.token(NO_SCOPES.id, BCRYPT.secret).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "another client's secret");
    for fixture in [&BCRYPT, &SHA512, &CUSTOM] {
        assert!(stored_hash(&mut conn, fixture.id).starts_with("sha256$"));
    }

    // A second run changes nothing, and never puts the fidesops hashes back.
    let upgraded = stored_hash(&mut conn, BCRYPT.id);
    let events = audit_events(&mut conn).len();
    let again = import(&source, &target, &[]);
    let mut lines: Vec<String> = first_run_lines()
        .into_iter()
        .filter(|line| line.starts_with("skipped "))
        .collect();
    lines.extend(
        IMPORTED
            .iter()
            .map(|f| format!("already present {}: left unchanged", f.id)),
    );
    assert_report(
        &again.stdout,
        &lines,
        "import-fidesops: 0 imported, 6 skipped, 4 already present",
    );
    assert_eq!(stored_hash(&mut conn, BCRYPT.id), upgraded);
    assert_eq!(audit_events(&mut conn).len(), events);
    let (status, _) = tokens.token(BCRYPT.id, BCRYPT.secret).await;
    assert_eq!(status, StatusCode::OK);
}

#[actix_web::test]
async fn a_dry_run_reports_the_same_and_writes_nothing() {
    let Some(source) = fidesops_source(&ROWS) else {
        return;
    };
    let Some(target) = TestDatabase::create(Backend::Postgres) else {
        return;
    };
    let dry = import(&source, &target, &["--dry-run"]);
    let lines: Vec<String> = first_run_lines()
        .iter()
        .map(|line| {
            line.replacen("imported ", "would import ", 1).replacen(
                "added scope ",
                "would add scope ",
                1,
            )
        })
        .collect();
    assert_report(
        &dry.stdout,
        &lines,
        "import-fidesops: 4 would import, 6 skipped, 0 already present (dry run: nothing written)",
    );
    let mut conn = connect(&target);
    assert_eq!(clients::count(&mut conn).unwrap(), 0);
    assert_eq!(audit::count(&mut conn).unwrap(), 0);
    assert!(!registry_has(&mut conn, "privacy-notice:read"));

    // The real run then does what the dry run said.
    let real = import(&source, &target, &[]);
    assert_report(
        &real.stdout,
        &first_run_lines(),
        "import-fidesops: 4 imported, 6 skipped, 0 already present",
    );
}

#[actix_web::test]
async fn deleted_clients_stay_deleted_and_root_id_can_be_named() {
    let Some(source) = fidesops_source(&[&BCRYPT, &SHA512, &FIDESOPS_ROOT]) else {
        return;
    };
    let Some(target) = TestDatabase::create(Backend::Postgres) else {
        return;
    };
    // fidesops' root under another configured id: `fidesopsadmin` is then an ordinary client.
    let first = import(&source, &target, &["--root-id", SHA512.id]);
    assert_report(
        &first.stdout,
        &[
            format!("imported {} (2 scopes, bcrypt)", BCRYPT.id),
            format!("imported {} (2 scopes, bcrypt)", FIDESOPS_ROOT.id),
            format!(
                "skipped {}: fidesops' root client (--root-id): the root client here is \
                 OAUTH_ROOT_CLIENT_ID",
                SHA512.id
            ),
        ],
        "import-fidesops: 2 imported, 1 skipped, 0 already present",
    );
    let mut conn = connect(&target);
    let id = ClientId::parse(BCRYPT.id).unwrap();
    assert!(clients::soft_delete(&mut conn, &id, Timestamp::now()).unwrap());

    let again = import(&source, &target, &[&format!("--root-id={}", SHA512.id)]);
    assert!(
        again
            .stdout
            .contains(&format!("already present {}: left unchanged\n", BCRYPT.id)),
        "{}",
        again.stdout
    );
    assert!(
        again
            .stdout
            .ends_with("0 imported, 1 skipped, 2 already present\n")
    );
    assert_eq!(
        clients::cutoff(&mut conn, BCRYPT.id).unwrap().map(|c| c.1),
        Some(true)
    );
    assert!(
        clients::find(&mut conn, &id).unwrap().is_none(),
        "still deleted"
    );
}

#[actix_web::test]
async fn imports_into_sqlite() {
    let Some(source) = fidesops_source(&[&BCRYPT, &SHA512, &CUSTOM, &CORRUPT]) else {
        return;
    };
    let target = TestDatabase::create(Backend::Sqlite).expect("SQLite");
    let output = import(&source, &target, &[]);
    assert!(
        output
            .stdout
            .ends_with("import-fidesops: 3 imported, 1 skipped, 0 already present\n"),
        "{}",
        output.stdout
    );
    let mut conn = connect(&target);
    assert_eq!(
        stored_hash(&mut conn, BCRYPT.id),
        decoded(BCRYPT.hashed_secret)
    );
    assert!(stored_hash(&mut conn, SHA512.id).starts_with("fidesops-sha512$"));
    assert_eq!(
        scopes_of(&mut conn, CUSTOM.id),
        ["client:read", "privacy-notice:read"]
    );
    assert_eq!(audit::count(&mut conn).unwrap(), 4);
}

#[test]
fn usage_errors_exit_2_without_repeating_urls() {
    let dir = tempfile::tempdir().unwrap();
    let target = format!("sqlite://{}", dir.path().join("auth.sqlite").display());
    let secret_url = "postgres://fidesops:hunter2-password@127.0.0.1:1/fidesops";
    let cases: [(&str, &[&str]); 7] = [
        ("--from is required", &[]),
        ("--from needs a value", &["--from"]),
        (
            "--from: expected a postgres://",
            &["--from", "sqlite://x.db"],
        ),
        (
            "unexpected argument \"--force\"",
            &["--from", secret_url, "--force"],
        ),
        ("unexpected argument (a URL?", &[secret_url]),
        (
            "--from is given twice",
            &["--from", secret_url, "--from=postgres://x/y"],
        ),
        (
            "--root-id needs a value",
            &["--from", secret_url, "--root-id="],
        ),
    ];
    for (message, args) in cases {
        let output = run_import(&target, args);
        assert_eq!(output.code, Some(2), "{args:?}: {}", output.stderr);
        assert!(
            output.stderr.contains(message),
            "{args:?}: {}",
            output.stderr
        );
        assert!(
            output
                .stderr
                .contains("usage: admin-service import-fidesops --from")
        );
        assert!(!output.stderr.contains("hunter2"), "{}", output.stderr);
        assert!(output.stdout.is_empty());
    }
    let output = run_import("mysql://x", &["--from", secret_url]);
    assert_eq!(output.code, Some(2));
    assert!(
        output.stderr.contains("DATABASE_URL: expected"),
        "{}",
        output.stderr
    );

    let help = run_import(&target, &["--help"]);
    assert_eq!(help.code, Some(0));
    assert!(
        help.stdout
            .starts_with("usage: admin-service import-fidesops --from")
    );
    assert!(!dir.path().join("auth.sqlite").exists(), "nothing created");
}

#[test]
fn unreadable_databases_exit_1_without_the_password() {
    // A target that was never migrated: refused, and no file is left behind.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("auth.sqlite");
    let output = run_import(
        &format!("sqlite://{}", missing.display()),
        &["--from", "postgres://postgres@127.0.0.1:5432/x"],
    );
    assert_eq!(output.code, Some(1), "{}", output.stderr);
    assert!(
        output.stderr.contains("run `admin-service migrate` first"),
        "{}",
        output.stderr
    );
    assert!(!missing.exists());

    let Some(target) = TestDatabase::create(Backend::Postgres) else {
        return;
    };
    // Nobody listens there.
    let unreachable = format!(
        "postgres://fidesops:hunter2-password@127.0.0.1:{}/fidesops",
        free_port()
    );
    // The server trusts every connection: the password is accepted and ignored, and the
    // database has no `client` table.
    let auth_core::store::DatabaseUrl::Postgres(own) = &target.url else {
        unreachable!()
    };
    let no_table = own.replacen(
        "postgres://postgres@",
        "postgres://postgres:hunter2-password@",
        1,
    );
    for (from, message) in [
        (unreachable.as_str(), "cannot connect"),
        (no_table.as_str(), "cannot read table `client`"),
    ] {
        let output = run_import(&target.url_string(), &["--from", from]);
        assert_eq!(output.code, Some(1), "{}", output.stderr);
        assert!(output.stderr.contains(message), "{}", output.stderr);
        assert!(
            output.stderr.contains("--from (postgres://127.0.0.1:"),
            "{}",
            output.stderr
        );
        assert!(!output.stderr.contains("hunter2"), "{}", output.stderr);
        assert!(output.stdout.is_empty());
    }
}
