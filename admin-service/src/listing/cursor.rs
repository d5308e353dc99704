//! Listing cursors: opaque to clients, a position in a listing's order to the service.
//!
//! A cursor is the base64url (no padding) of `CHECK.LISTING.KEY`: the listing's name and
//! the key, in that listing's order, of the last item of a page (`client.CREATED_AT.ID`,
//! creation time in microseconds then client id, or `audit.EVENT_ID`), preceded by a check:
//! the first 4 bytes of the SHA-256 of `LISTING.KEY`, in hex. Decoding is strict (the
//! check, then a well-formed key of this listing, then the exact encoding [`encode`] would
//! give), so a truncated, edited or other listing's cursor is a 400, and only typed values
//! reach a query. The check is not a signature: a cursor made up with it names a place to
//! start within what the caller may list anyway, nothing more.

use auth_core::ids::ClientId;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

/// The longest cursor accepted. Cursors are shorter: a client's is at most 8 + 1 + 6 + 1 +
/// 20 + 1 + 128 bytes, 220 characters encoded.
pub const MAX_CURSOR_LEN: usize = 256;

/// What a cursor looks like, for the OpenAPI description. Keep it equal to the literal in
/// `listing::Page` (the integration tests compare them).
pub const CURSOR_PATTERN: &str = "^[A-Za-z0-9_-]{1,256}$";

/// The key of a listing's order, as a cursor holds it.
pub trait Key: Sized {
    /// The listing's name in its cursors.
    const LISTING: &'static str;
    /// The key as text (no restriction on `.`: it follows the listing's name).
    fn to_text(&self) -> String;
    /// The key from its text, or `None` when it is not one.
    fn from_text(text: &str) -> Option<Self>;
}

/// A client's place in the client listing: created_at (microseconds), then id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey {
    pub created_at: i64,
    pub id: ClientId,
}

impl Key for ClientKey {
    const LISTING: &'static str = "client";

    fn to_text(&self) -> String {
        format!("{}.{}", self.created_at, self.id.as_str())
    }

    fn from_text(text: &str) -> Option<Self> {
        let (created_at, id) = text.split_once('.')?;
        Some(Self {
            created_at: created_at.parse().ok()?,
            id: ClientId::parse(id).ok()?,
        })
    }
}

/// An event's place in the audit trail: its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditKey(pub i64);

impl Key for AuditKey {
    const LISTING: &'static str = "audit";

    fn to_text(&self) -> String {
        self.0.to_string()
    }

    fn from_text(text: &str) -> Option<Self> {
        text.parse().ok().map(Self)
    }
}

/// The check of a cursor's text: the first 4 bytes of its SHA-256, in hex.
fn check(text: &str) -> String {
    Sha256::digest(text.as_bytes())[..4]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The cursor of `key`.
pub fn encode<K: Key>(key: &K) -> String {
    let text = format!("{}.{}", K::LISTING, key.to_text());
    URL_SAFE_NO_PAD.encode(format!("{}.{text}", check(&text)))
}

/// The key a cursor of listing `K` holds; `None` for anything [`encode`] would not give.
pub fn decode<K: Key>(cursor: &str) -> Option<K> {
    if cursor.is_empty() || cursor.len() > MAX_CURSOR_LEN {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let (given, text) = std::str::from_utf8(&bytes).ok()?.split_once('.')?;
    if given != check(text) {
        return None;
    }
    let key = K::from_text(text.strip_prefix(K::LISTING)?.strip_prefix('.')?)?;
    // One spelling per key: "+5", "05" or trailing bits are someone's edit, not ours.
    (encode(&key) == cursor).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_key(created_at: i64, id: &str) -> ClientKey {
        ClientKey {
            created_at,
            id: ClientId::parse(id).expect("id"),
        }
    }

    /// A cursor of `text` with its check, as if [`encode`] had made it.
    fn raw(text: &str) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}.{text}", check(text)))
    }

    #[test]
    fn keys_survive_the_round_trip() {
        let pattern = regex::Regex::new(CURSOR_PATTERN).expect("pattern");
        for key in [
            client_key(1_733_000_000_123_456, "cid_abc"),
            client_key(-1, "a.b..c"),
            client_key(i64::MAX, &"x".repeat(128)),
            client_key(0, &ClientId::generate().to_string()),
        ] {
            let cursor = encode(&key);
            assert!(cursor.len() <= MAX_CURSOR_LEN, "{cursor}");
            assert!(pattern.is_match(&cursor), "{cursor}");
            assert_eq!(decode::<ClientKey>(&cursor), Some(key));
        }
        for id in [1, 0, i64::MAX] {
            assert_eq!(decode(&encode(&AuditKey(id))), Some(AuditKey(id)));
        }
    }

    #[test]
    fn anything_else_is_refused() {
        let good = encode(&client_key(5, "cid_x"));
        let refused = [
            String::new(),
            "!".into(),
            "A".repeat(MAX_CURSOR_LEN + 1),
            format!("{good}="),
            format!("{good}A"),
            good[..good.len() - 1].to_owned(),
            format!("{good}+"),
            raw("client.5"),
            raw("client.5."),
            raw("client..cid_x"),
            raw("client.x.cid_x"),
            raw("client.+5.cid_x"),
            raw("client.05.cid_x"),
            raw("client.5.cid/x"),
            raw("client.5.cid_x\0"),
            raw("client.99999999999999999999.cid_x"),
            raw("clients.5.cid_x"),
            raw("audit.5"),
            raw("5.cid_x"),
            URL_SAFE_NO_PAD.encode([b'c', 0xff, 0xfe]),
            // Without its check, with another text's, or with one byte of it changed.
            URL_SAFE_NO_PAD.encode("client.5.cid_x"),
            URL_SAFE_NO_PAD.encode(format!("{}.client.5.cid_y", check("client.5.cid_x"))),
            URL_SAFE_NO_PAD.encode(format!("{}.client.6.cid_x", check("client.5.cid_x"))),
            format!("Z{}", &raw("client.5.cid_x")[1..]),
        ];
        for cursor in &refused {
            assert_eq!(decode::<ClientKey>(cursor), None, "{cursor}");
        }
        assert_eq!(decode(&raw("client.5.cid_x")), Some(client_key(5, "cid_x")));
        for cursor in [good, raw("audit.x"), raw("audit."), raw("audit.1.2")] {
            assert_eq!(decode::<AuditKey>(&cursor), None, "{cursor}");
        }
    }
}
