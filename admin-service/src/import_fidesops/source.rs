//! Reading fidesops' `client` table: the four columns the import needs, as text, whatever
//! the exact column types (`varchar` or `text`, `varchar[]` or `text[]`).

use auth_core::store::DatabaseUrl;
use diesel::pg::PgConnection;
use diesel::sql_types::{Array, Nullable, Text};
use diesel::{Connection as _, QueryableByName, RunQueryDsl as _};

/// One row of fidesops' `client` table, as stored there.
#[derive(Debug, Clone, QueryableByName)]
pub struct SourceClient {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub hashed_secret: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub salt: Option<String>,
    #[diesel(sql_type = Nullable<Array<Nullable<Text>>>)]
    pub scopes: Option<Vec<Option<String>>>,
}

const SELECT_CLIENTS: &str = "SELECT id::text AS id, hashed_secret::text AS hashed_secret, \
     salt::text AS salt, scopes::text[] AS scopes FROM client ORDER BY id";

/// Every client row of the fidesops database at `url`, in id order. Errors never repeat
/// the URL's password.
pub fn read_clients(url: &DatabaseUrl) -> Result<Vec<SourceClient>, String> {
    let DatabaseUrl::Postgres(url) = url else {
        return Err("fidesops' database is PostgreSQL: expected a postgres:// URL".to_owned());
    };
    let mut conn =
        PgConnection::establish(url).map_err(|e| scrub(&format!("cannot connect: {e}"), url))?;
    diesel::sql_query(SELECT_CLIENTS)
        .load(&mut conn)
        .map_err(|e| scrub(&format!("cannot read table `client`: {e}"), url))
}

/// `message` with any password `url` carries (user info or `password=` parameter) replaced.
fn scrub(message: &str, url: &str) -> String {
    let authority = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest.split(['/', '?']).next().unwrap_or(""));
    let in_user_info = authority
        .rsplit_once('@')
        .and_then(|(user_info, _)| user_info.split_once(':'))
        .map(|(_, password)| password);
    let in_query = url
        .split_once('?')
        .into_iter()
        .flat_map(|(_, query)| query.split('&'))
        .filter_map(|pair| pair.strip_prefix("password="));
    let mut scrubbed = message.to_owned();
    for password in in_user_info.into_iter().chain(in_query) {
        if !password.is_empty() {
            scrubbed = scrubbed.replace(password, "[redacted]");
        }
    }
    scrubbed.trim_end().to_owned()
}
