//! What the import tests run: a fidesops database, the import command, a token-service on
//! the target database, and reads of what the import wrote.

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use actix_web::http::StatusCode;
use auth_core::config::Env;
use auth_core::ids::ClientId;
use auth_core::service::Service as _;
use auth_core::store::connection::ConnectionManager;
use auth_core::store::{DbConnection, Start, audit, clients, registry};
use auth_core::testing::process::binary;
use auth_core::testing::{Backend, TestDatabase, signing_key_file};
use diesel::RunQueryDsl as _;
use serde_json::Value;

use super::fixtures::*;

/// A fidesops database: a fresh PostgreSQL database with fidesops' `client` table.
pub(super) fn fidesops_source(rows: &[&Fixture]) -> Option<TestDatabase> {
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

pub(super) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

pub(super) fn connect(db: &TestDatabase) -> DbConnection {
    ConnectionManager::new(db.url.clone())
        .establish()
        .expect("connect")
}

pub(super) fn execute(conn: &mut DbConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

pub(super) struct Output {
    pub(super) code: Option<i32>,
    pub(super) stdout: String,
    pub(super) stderr: String,
}

/// Runs `admin-service import-fidesops ARGS` with `DATABASE_URL` and this service's root id.
pub(super) fn run_import(database_url: &str, args: &[&str]) -> Output {
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

pub(super) fn import(source: &TestDatabase, target: &TestDatabase, extra: &[&str]) -> Output {
    let from = source.url_string();
    let mut args = vec!["--from", from.as_str()];
    args.extend_from_slice(extra);
    let output = run_import(&target.url_string(), &args);
    assert_eq!(output.code, Some(0), "{}{}", output.stdout, output.stderr);
    output
}

/// The report lines expected from a first run into an empty database, summary excepted.
pub(super) fn first_run_lines() -> Vec<String> {
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
pub(super) fn assert_report(stdout: &str, expected: &[String], summary: &str) {
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
pub(super) fn decoded(hex: &str) -> String {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    String::from_utf8(bytes).unwrap()
}

pub(super) fn stored_hash(conn: &mut DbConnection, id: &str) -> String {
    clients::find(conn, &ClientId::parse(id).unwrap())
        .unwrap()
        .unwrap_or_else(|| panic!("{id} is not a live client"))
        .secret_hash
}

pub(super) fn scopes_of(conn: &mut DbConnection, id: &str) -> Vec<String> {
    clients::scopes_of(conn, &ClientId::parse(id).unwrap())
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// (action, target, detail) of every audit event, oldest first.
pub(super) fn audit_events(conn: &mut DbConnection) -> Vec<(String, String, String)> {
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

pub(super) fn registry_has(conn: &mut DbConnection, name: &str) -> bool {
    registry::all(conn)
        .unwrap()
        .iter()
        .any(|s| s.as_str() == name)
}

/// Checks the rows a first run leaves: hashes in the stored forms token-service reads,
/// scopes, the custom scope, one audit event per change and no secret anywhere in them.
pub(super) fn assert_imported_rows(conn: &mut DbConnection) {
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
pub(super) struct TokenService {
    pub(super) base: String,
    pub(super) http: awc::Client,
    pub(super) _dir: tempfile::TempDir,
}

impl TokenService {
    pub(super) async fn start(target: &TestDatabase) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let key_path = signing_key_file(dir.path());
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

    pub(super) async fn token(&self, id: &str, secret: &str) -> (StatusCode, Value) {
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
