//! What the listing tests share: query strings, and the cursor a page hands on.

use serde_json::Value;

use super::Reply;

/// The `next` cursor of a listing's page; `None` on its last page.
#[track_caller]
pub fn next(reply: &Reply) -> Option<String> {
    match &reply.body["next"] {
        Value::Null => None,
        Value::String(cursor) => Some(cursor.clone()),
        other => panic!("next is neither a string nor null: {other}"),
    }
}

/// A query string of these pairs, each name and value percent-encoded.
pub fn query(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}
