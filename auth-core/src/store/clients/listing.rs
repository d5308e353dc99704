//! The client listing (`GET /api/v1/oauth/client`): every live client, oldest first, or
//! those a search finds (`?q=TEXT`: the id, name or description contains it, ignoring
//! case), a page at a time.
//!
//! A search text is matched literally: `\`, `%` and `_` are escaped and the pattern is a
//! bind (`lower(column) LIKE lower(?) ESCAPE '\'`). Both sides go through the database's
//! own `lower()`, so "ignoring case" means the same on both sides of the comparison: every
//! letter PostgreSQL's character type knows (all of Unicode in a UTF-8 database), ASCII
//! letters on SQLite.
//!
//! No index serves a substring. A search walks the live clients in the listing's order
//! (PostgreSQL: the partial index `clients_live_order`) and stops once the page is full,
//! so a frequent text costs about what a page costs; a rare one reads every live client,
//! and so does counting its matches ([`count_matching`], bounded by its caller).

use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};

use super::Client;
use crate::ids::ClientId;
use crate::store::connection::{Db, DbConnection};
use crate::store::schema::clients;
use crate::store::{Start, StoreError, keyset};

/// At most `limit` live clients from `start`, oldest first, ties by id (a stable order for
/// pagination). The key of `Start::After` is `(created_at, id)`, compared as a row value
/// ([`keyset::greater`]), which both backends answer from the partial index
/// `clients_live_order`: an index seek, however deep the page. One statement for every
/// page (an offset starts after the first possible key), so it is prepared once per
/// connection, and its generic plan is that same index scan.
pub fn list(
    conn: &mut DbConnection,
    start: Start<(i64, &ClientId)>,
    limit: i64,
) -> Result<Vec<Client>, StoreError> {
    let (after, offset) = keyset_bounds(start);
    Ok(clients::table
        .filter(clients::deleted_at.is_null())
        .filter(keyset::greater((clients::created_at, clients::id), after))
        .order((clients::created_at.asc(), clients::id.asc()))
        .limit(limit)
        .offset(offset)
        .select(Client::as_select())
        .load(conn)?)
}

/// The key a page of the listing starts after, and the rows it skips past that key: one
/// statement serves both kinds of start (a page number starts after the lowest key).
fn keyset_bounds(start: Start<(i64, &ClientId)>) -> ((i64, String), i64) {
    match start {
        Start::Offset(offset) => ((i64::MIN, String::new()), offset),
        Start::After((created_at, id)) => ((created_at, id.as_str().to_owned()), 0),
    }
}

/// How many live clients there are.
pub fn count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(clients::table
        .filter(clients::deleted_at.is_null())
        .count()
        .get_result(conn)?)
}

/// The database's estimate of [`count`]: the entries of the partial index on live clients
/// (see [`crate::store::estimated_rows`]; `None` on SQLite).
pub fn estimate(conn: &mut DbConnection) -> Result<Option<i64>, StoreError> {
    crate::store::estimated_rows(conn, "clients_live_order")
}

/// The longest search text, in characters.
pub const MAX_SEARCH_LEN: usize = 128;

/// A search text: 1 to [`MAX_SEARCH_LEN`] characters, none of them a control character
/// (PostgreSQL text cannot hold NUL, and no id, name or description holds any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText {
    /// `%TEXT%`, its `\`, `%` and `_` escaped.
    pattern: String,
}

/// A text that [`SearchText::parse`] refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a search text is 1 to {MAX_SEARCH_LEN} characters, without control characters")]
pub struct InvalidSearchText;

impl SearchText {
    pub fn parse(text: &str) -> Result<Self, InvalidSearchText> {
        let len = text.chars().count();
        if len == 0 || len > MAX_SEARCH_LEN || text.chars().any(char::is_control) {
            return Err(InvalidSearchText);
        }
        let mut pattern = String::with_capacity(text.len() + 2);
        pattern.push('%');
        for c in text.chars() {
            if matches!(c, '\\' | '%' | '_') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        Ok(Self { pattern })
    }
}

diesel::define_sql_function! {
    /// SQL `lower()`.
    fn lower(text: Text) -> Text;
}

diesel::define_sql_function! {
    /// SQL `lower()` of a nullable column.
    #[sql_name = "lower"]
    fn lower_nullable(text: Nullable<Text>) -> Nullable<Text>;
}

/// The live clients matching `text`, as a query to narrow further.
fn matching(text: &SearchText) -> clients::BoxedQuery<'_, Db> {
    let pattern = text.pattern.as_str();
    clients::table
        .filter(clients::deleted_at.is_null())
        .filter(
            lower(clients::id)
                .like(lower(pattern))
                .escape('\\')
                .nullable()
                .or(lower_nullable(clients::name)
                    .like(lower_nullable(pattern))
                    .escape('\\'))
                .or(lower_nullable(clients::description)
                    .like(lower_nullable(pattern))
                    .escape('\\')),
        )
        .into_boxed()
}

/// At most `limit` live clients matching `text` from `start`, in the order and with the
/// keys of [`list`].
pub fn search(
    conn: &mut DbConnection,
    text: &SearchText,
    start: Start<(i64, &ClientId)>,
    limit: i64,
) -> Result<Vec<Client>, StoreError> {
    let (after, offset) = keyset_bounds(start);
    Ok(matching(text)
        .filter(keyset::greater((clients::created_at, clients::id), after))
        .order((clients::created_at.asc(), clients::id.asc()))
        .limit(limit)
        .offset(offset)
        .select(Client::as_select())
        .load(conn)?)
}

/// How many live clients match `text`, counted no further than `limit`.
pub fn count_matching(
    conn: &mut DbConnection,
    text: &SearchText,
    limit: i64,
) -> Result<i64, StoreError> {
    let ids: Vec<String> = matching(text).select(clients::id).limit(limit).load(conn)?;
    Ok(i64::try_from(ids.len()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_bounded_and_matched_literally() {
        let pattern = |text: &str| SearchText::parse(text).map(|s| s.pattern);
        assert_eq!(pattern("abc"), Ok("%abc%".into()));
        assert_eq!(pattern(r"50%_a\b"), Ok(r"%50\%\_a\\b%".into()));
        assert!(pattern(&"é".repeat(MAX_SEARCH_LEN)).is_ok());
        for bad in [
            String::new(),
            "x".repeat(MAX_SEARCH_LEN + 1),
            "a\0b".into(),
            "a\nb".into(),
            "\u{85}".into(),
        ] {
            assert_eq!(pattern(&bad), Err(InvalidSearchText), "{bad:?}");
        }
    }
}
