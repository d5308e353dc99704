//! `admin-service import-fidesops`, run as the built binary: a fidesops `client` table in a
//! PostgreSQL database of its own is copied into a target database; the report, the rows,
//! the audit events, dry runs and second runs are checked, and token-service then accepts
//! the imported clients' original secrets and upgrades their hashes.

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use actix_web::http::StatusCode;
use auth_core::config::Env;
use auth_core::ids::ClientId;
use auth_core::service::Service as _;
use auth_core::store::connection::ConnectionManager;
use auth_core::store::{DbConnection, Start, audit, clients, registry};
use auth_core::testing::process::{binary, free_port};
use auth_core::testing::{Backend, TestDatabase};
use auth_core::time::Timestamp;
use auth_core::token::SigningKey;
use diesel::RunQueryDsl as _;
use serde_json::Value;

/// A fidesops client: the row as fidesops stored it, and the secret it was made from.
struct Fixture {
    id: &'static str,
    secret: &'static str,
    hashed_secret: &'static str,
    salt: &'static str,
    scopes: Option<&'static [&'static str]>,
}

// Ids and secrets are `secrets.token_hex(16)`, as fidesops generates them. The hashes were
// made with Python's `bcrypt` 5.0.0 and `hashlib` the way fidesops makes them:
//   current:  salt = bcrypt.gensalt(rounds=4)   (fidesops uses 12; 4 keeps the tests fast)
//             hashed_secret = bcrypt.hashpw(secret.encode(), salt).hex()
//   pre-2022: salt = bcrypt.gensalt().decode()
//             hashed_secret = hashlib.sha512((secret + salt).encode()).hexdigest()

/// Current format, two built-in scopes.
const BCRYPT: Fixture = Fixture {
    id: "e58373d1b100740c92b55a854299200f",
    secret: "78388b66ba7eea82c30a7e35fe18d54f",
    hashed_secret: "24326224303424564e68384b6a684c6759446931396d734e6b34387475584a446e515049344a346e46707144524c6f702f6e4e464a31536d6c335969",
    salt: "$2b$04$VNh8KjhLgYDi19msNk48tu",
    scopes: Some(&["client:read", "policy:read"]),
};
/// Pre-2022 format.
const SHA512: Fixture = Fixture {
    id: "1018a656fd9b18a36c0096b7dde3f2be",
    secret: "5ee7dd7a1b88e4c485a43f0242357eef",
    hashed_secret: "6d533b2ce627c71db2c48090ea1d05ba1aa79f5da3198df1ddd9612c52be0d628d19ca9d3bc08ef4d4acd2484f9fbc18b0cac999e105e801c4dfac35acbcefac",
    salt: "$2b$12$f9kSqJ4/Pq3NilWDFB9Y5u",
    scopes: Some(&["dataset:read"]),
};
/// A scope this service's registry does not have (a fides one).
const CUSTOM: Fixture = Fixture {
    id: "22a2584782cb565f8632093aa7b59e78",
    secret: "59b2bff3ac36d96ae467c7cef79a2d8b",
    hashed_secret: "2432622430342475336a5443325a4f2e4f73566c66574a554f466b434f497347337645795755562f4254705164383834777535436447627845344b47",
    salt: "$2b$04$u3jTC2ZO.OsVlfWJUOFkCO",
    scopes: Some(&["client:read", "privacy-notice:read"]),
};
/// `scopes` NULL.
const NO_SCOPES: Fixture = Fixture {
    id: "e04eb633a5ff2e8f630e8c0af6fb6bde",
    secret: "fa79ae421652dcb169f73e0a08724c26",
    hashed_secret: "243262243034244d75396a676f5352784c793730457164646142626c75345a4c42637a555a5930616543516655314b574d5474383157445a53377a69",
    salt: "$2b$04$Mu9jgoSRxLy70EqddaBblu",
    scopes: None,
};
/// fidesops' root client, under its default id.
const FIDESOPS_ROOT: Fixture = Fixture {
    id: "fidesopsadmin",
    secret: "3dad76814e726e5074652c1c28a8fbd0",
    hashed_secret: "243262243034247834564470577136636c31672f4d426567362e7042756a7156706f43714e4e577073495330506352332f346c63374b482e43427075",
    salt: "$2b$04$x4VDpWq6cl1g/MBeg6.pBu",
    scopes: Some(&["client:create", "client:read"]),
};
/// A bcrypt hash made with another salt than the one in its row.
const OTHER_SALT: Fixture = Fixture {
    id: "26e5769cb8fb51b54a30e3f1df6d3284",
    secret: "77ede91090f92feb131eeb928d540e64",
    hashed_secret: "2432622430342431522e4a3432476f344c53644a61436c57416e4c522e56424c68556f2e6f4e6b755069565a5952477853694f733553627a5450736d",
    salt: "$2b$04$xe1Nj8zJGYDm7KKej6PTg.",
    scopes: Some(&["client:read"]),
};
/// Neither format.
const CORRUPT: Fixture = Fixture {
    id: "c0ffeec0ffeec0ffeec0ffeec0ffee00",
    secret: "",
    hashed_secret: "deadbeef",
    salt: "$2b$04$VNh8KjhLgYDi19msNk48tu",
    scopes: Some(&["client:read"]),
};
/// An id this service refuses, with a good hash.
const BAD_ID: Fixture = Fixture {
    id: "has space",
    scopes: Some(&["client:read"]),
    ..BCRYPT
};
/// A malformed scope name, with a good hash.
const BAD_SCOPE: Fixture = Fixture {
    id: "badscope01",
    scopes: Some(&["client:read", "has space"]),
    ..BCRYPT
};
/// This service's own root id (`OAUTH_ROOT_CLIENT_ID` in [`run_import`]).
const OUR_ROOT: Fixture = Fixture {
    id: "root-client",
    ..BCRYPT
};

const IMPORTED: [&Fixture; 4] = [&BCRYPT, &SHA512, &CUSTOM, &NO_SCOPES];
const ROWS: [&Fixture; 10] = [
    &BCRYPT,
    &SHA512,
    &CUSTOM,
    &NO_SCOPES,
    &FIDESOPS_ROOT,
    &OTHER_SALT,
    &CORRUPT,
    &BAD_ID,
    &BAD_SCOPE,
    &OUR_ROOT,
];
const OUR_ROOT_ID: &str = "root-client";
const OUR_ROOT_SECRET: &str = "root-secret-for-tests-only";

/// A fidesops database: a fresh PostgreSQL database with fidesops' `client` table.
fn fidesops_source(rows: &[&Fixture]) -> Option<TestDatabase> {
    let source = TestDatabase::create(Backend::Postgres)?;
    let mut conn = connect(&source);
    execute(
        &mut conn,
        "CREATE TABLE client (id varchar PRIMARY KEY, hashed_secret varchar NOT NULL, \
         salt varchar NOT NULL, scopes varchar[], fides_key varchar, user_id varchar, \
         created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now())",
    );
    for row in rows {
        let scopes = row.scopes.map_or("NULL".to_owned(), |scopes| {
            let items: Vec<String> = scopes.iter().map(|s| literal(s)).collect();
            format!("ARRAY[{}]::varchar[]", items.join(", "))
        });
        execute(
            &mut conn,
            &format!(
                "INSERT INTO client (id, hashed_secret, salt, scopes) VALUES ({}, {}, {}, {scopes})",
                literal(row.id),
                literal(row.hashed_secret),
                literal(row.salt)
            ),
        );
    }
    Some(source)
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn connect(db: &TestDatabase) -> DbConnection {
    ConnectionManager::new(db.url.clone())
        .establish()
        .expect("connect")
}

fn execute(conn: &mut DbConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `admin-service import-fidesops ARGS` with `DATABASE_URL` and this service's root id.
fn run_import(database_url: &str, args: &[&str]) -> Output {
    let output = Command::new(binary("admin-service"))
        .arg("import-fidesops")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("OAUTH_ROOT_CLIENT_ID", OUR_ROOT_ID)
        .output()
        .expect("run admin-service import-fidesops");
    Output {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn import(source: &TestDatabase, target: &TestDatabase, extra: &[&str]) -> Output {
    let from = source.url_string();
    let mut args = vec!["--from", from.as_str()];
    args.extend_from_slice(extra);
    let output = run_import(&target.url_string(), &args);
    assert_eq!(output.code, Some(0), "{}{}", output.stdout, output.stderr);
    output
}

/// The report lines expected from a first run into an empty database, summary excepted.
fn first_run_lines() -> Vec<String> {
    vec![
        format!("imported {} (1 scope, sha512)", SHA512.id),
        format!(
            "added scope privacy-notice:read (custom, for {})",
            CUSTOM.id
        ),
        format!("imported {} (2 scopes, bcrypt)", CUSTOM.id),
        format!(
            "skipped {}: the bcrypt hash was not made with the row's salt",
            OTHER_SALT.id
        ),
        format!(
            "skipped {}: malformed scope \"has space\": a scope may contain only printable \
             ASCII characters other than space, '\"' and '\\'",
            BAD_SCOPE.id
        ),
        format!(
            "skipped {}: unrecognised secret hash format: expected hex of a bcrypt string or \
             a SHA-512 hex digest",
            CORRUPT.id
        ),
        format!("imported {} (0 scopes, bcrypt)", NO_SCOPES.id),
        format!("imported {} (2 scopes, bcrypt)", BCRYPT.id),
        "skipped fidesopsadmin: fidesops' root client (--root-id): the root client here is \
         OAUTH_ROOT_CLIENT_ID"
            .to_owned(),
        "skipped \"has space\": invalid client id: a client id is 1 to 128 characters of \
         letters, digits, '-', '_' and '.'"
            .to_owned(),
        "skipped root-client: this service's root client id (OAUTH_ROOT_CLIENT_ID)".to_owned(),
    ]
}

/// Checks `stdout` holds exactly `expected` (in any order, but each custom scope line right
/// before its client's line) and then `summary`.
fn assert_report(stdout: &str, expected: &[String], summary: &str) {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.last(), Some(&summary), "{stdout}");
    let mut got: Vec<&str> = lines[..lines.len() - 1].to_vec();
    let mut want: Vec<&str> = expected.iter().map(String::as_str).collect();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "{stdout}");
    for (i, line) in lines.iter().enumerate() {
        if line.contains(" scope privacy-notice:read (custom, for ") {
            assert!(lines[i + 1].ends_with(&format!("{} (2 scopes, bcrypt)", CUSTOM.id)));
        }
    }
}

/// fidesops' bcrypt hash as this service stores it: the hex decoded.
fn decoded(hex: &str) -> String {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    String::from_utf8(bytes).unwrap()
}

fn stored_hash(conn: &mut DbConnection, id: &str) -> String {
    clients::find(conn, &ClientId::parse(id).unwrap())
        .unwrap()
        .unwrap_or_else(|| panic!("{id} is not a live client"))
        .secret_hash
}

fn scopes_of(conn: &mut DbConnection, id: &str) -> Vec<String> {
    clients::scopes_of(conn, &ClientId::parse(id).unwrap())
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// (action, target, detail) of every audit event, oldest first.
fn audit_events(conn: &mut DbConnection) -> Vec<(String, String, String)> {
    audit::list(conn, Start::Offset(0), 1000)
        .unwrap()
        .into_iter()
        .map(|event| {
            assert_eq!(event.actor_client_id, "import-fidesops");
            assert_eq!(event.outcome, "success");
            let target = event.target.unwrap_or_default();
            (event.action, target, event.detail.unwrap_or_default())
        })
        .collect()
}

fn registry_has(conn: &mut DbConnection, name: &str) -> bool {
    registry::all(conn)
        .unwrap()
        .iter()
        .any(|s| s.as_str() == name)
}

/// Checks the rows a first run leaves: hashes in the stored forms token-service reads,
/// scopes, the custom scope, one audit event per change and no secret anywhere in them.
fn assert_imported_rows(conn: &mut DbConnection) {
    for fixture in [&BCRYPT, &CUSTOM, &NO_SCOPES] {
        let hash = stored_hash(conn, fixture.id);
        assert_eq!(hash, decoded(fixture.hashed_secret), "{}", fixture.id);
        assert!(hash.starts_with(fixture.salt));
    }
    assert_eq!(
        stored_hash(conn, SHA512.id),
        format!("fidesops-sha512${}${}", SHA512.hashed_secret, SHA512.salt)
    );
    for fixture in IMPORTED {
        let want: Vec<&str> = fixture.scopes.unwrap_or_default().to_vec();
        assert_eq!(scopes_of(conn, fixture.id), want, "{}", fixture.id);
    }
    for fixture in [&FIDESOPS_ROOT, &OTHER_SALT, &CORRUPT, &BAD_SCOPE, &OUR_ROOT] {
        assert_eq!(
            clients::cutoff(conn, fixture.id).unwrap(),
            None,
            "{}",
            fixture.id
        );
    }
    assert!(registry_has(conn, "privacy-notice:read"));

    let mut events = audit_events(conn);
    events.sort();
    let mut want: Vec<(String, String, String)> = IMPORTED
        .iter()
        .map(|f| {
            let scopes = f.scopes.unwrap_or_default().join(" ");
            (
                "client.import".into(),
                f.id.into(),
                format!("scopes: {scopes}"),
            )
        })
        .collect();
    want.push((
        "scope.add".into(),
        "privacy-notice:read".into(),
        format!("added for imported client {}", CUSTOM.id),
    ));
    want.sort();
    assert_eq!(events, want);
    for (_, target, detail) in &events {
        for text in [target, detail] {
            assert!(!text.contains('$') && !text.contains("sha"), "{text}");
            for fixture in ROWS {
                assert!(!text.contains(fixture.hashed_secret), "{text}");
                assert!(fixture.secret.is_empty() || !text.contains(fixture.secret));
            }
        }
    }
}

/// token-service on `target`'s database, in this process, as the admin tests run it.
struct TokenService {
    base: String,
    http: awc::Client,
    _dir: tempfile::TempDir,
}

impl TokenService {
    async fn start(target: &TestDatabase) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let key_path = dir.path().join("signing-key.pem");
        let (_, pem) = SigningKey::generate_ed25519().expect("key");
        std::fs::write(&key_path, pem).expect("write key");
        let env: HashMap<&str, String> = HashMap::from([
            ("DATABASE_URL", target.url_string()),
            ("DATABASE_POOL_SIZE", "2".into()),
            ("OAUTH_ROOT_CLIENT_ID", OUR_ROOT_ID.into()),
            ("OAUTH_ROOT_CLIENT_SECRET", OUR_ROOT_SECRET.into()),
            ("OAUTH_ISSUER", "https://auth.test.example".into()),
            ("OAUTH_SIGNING_KEY_FILE", key_path.display().to_string()),
        ]);
        let env = Env::from_fn(|name| env.get(name).cloned());
        let config = token_service::Config::from_env(&env).expect("token-service config");
        let state = token_service::AppState::build(&config)
            .await
            .expect("token-service state");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        actix_web::rt::spawn(token_service::run(state, listener).expect("token-service"));
        Self {
            base: format!("http://127.0.0.1:{port}"),
            http: awc::Client::builder()
                .timeout(Duration::from_secs(60))
                .finish(),
            _dir: dir,
        }
    }

    async fn token(&self, id: &str, secret: &str) -> (StatusCode, Value) {
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", id)
            .append_pair("client_secret", secret)
            .finish();
        let mut response = self
            .http
            .post(format!("{}/api/v1/oauth/token", self.base))
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .send_body(form)
            .await
            .expect("token request");
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (response.status(), body)
    }
}

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
