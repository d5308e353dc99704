//! Workload-identity input made typed at the boundary: issuer values, audiences, `jwks_uri`s,
//! public JWKs and identities. Only admin-service takes these from people, so the rules
//! live here; what passes is what auth-core's doors store and token-service trusts.
//!
//! Each check answers [`Invalid`], a sentence saying what is wrong; the handler turns it
//! into the 422 of its resource (a client's metadata, or an issuer's).
//!
//! The `jwks_uri` check (which hosts may be fetched from, and how) is in `uri`, the JWK
//! checks in `keys`; both are re-exported here.

mod keys;
mod uri;

use auth_core::store::federation::Identity;
use auth_core::uri::{MAX_URI_LEN, is_absolute_uri};

pub use keys::{MAX_KEYS, MAX_KID_LEN, client_keys, keys_detail, public_keys};
pub use uri::{MAX_JWKS_URI_LEN, jwks_uri};

/// Most audiences of a client or an issuer.
pub const MAX_AUDIENCES: usize = 16;
/// Longest issuer (`iss`) value.
pub const MAX_ISSUER_LEN: usize = 512;
/// Longest subject, or subject pattern, of an identity.
pub const MAX_SUBJECT_LEN: usize = 512;
/// Most identities bound to one client.
pub const MAX_IDENTITIES: usize = 64;

/// What is wrong with a value, in words, for the `error_description` of a 422.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

fn invalid(text: impl Into<String>) -> Invalid {
    Invalid(text.into())
}

/// Request text shown in a message: at most 80 characters, control characters as `?`.
fn shown(text: &str) -> String {
    let short: String = text
        .chars()
        .take(80)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().count() > 80 {
        format!("{short}…")
    } else {
        short
    }
}

/// An issuer's `iss` value: 1 to 512 characters, no whitespace or control characters.
pub fn issuer_value(raw: &str) -> Result<String, Invalid> {
    let valid = !raw.is_empty()
        && raw.chars().count() <= MAX_ISSUER_LEN
        && !raw.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(raw.to_owned())
    } else {
        Err(invalid(format!(
            "an issuer is 1 to {MAX_ISSUER_LEN} characters without whitespace or control \
             characters: {:?}",
            shown(raw)
        )))
    }
}

/// Audiences: at most 16 absolute URIs (RFC 3986: a scheme, `:`, and more; no fragment,
/// whitespace or control characters, at most 512 characters), duplicates dropped.
pub fn audiences(raw: Vec<String>) -> Result<Vec<String>, Invalid> {
    let mut list: Vec<String> = Vec::with_capacity(raw.len());
    for audience in raw {
        if !is_absolute_uri(&audience) {
            return Err(invalid(format!(
                "an audience is an absolute URI (a scheme, ':', and more) of at most \
                 {MAX_URI_LEN} characters, without a fragment, whitespace or control \
                 characters: {:?}",
                shown(&audience)
            )));
        }
        if !list.contains(&audience) {
            list.push(audience);
        }
    }
    if list.len() > MAX_AUDIENCES {
        return Err(invalid(format!("at most {MAX_AUDIENCES} audiences")));
    }
    Ok(list)
}

/// Identities: at most 64 `(issuer, subject)` pairs, duplicates dropped. A subject is 1 to
/// 512 characters without control characters, exact, or a pattern with one `*`, at its end.
/// Whether each issuer is registered is the door's to check.
pub fn identities(raw: Vec<(String, String)>) -> Result<Vec<Identity>, Invalid> {
    let mut list: Vec<Identity> = Vec::with_capacity(raw.len());
    for (issuer, subject) in raw {
        let issuer = issuer_value(&issuer)?;
        let star = subject.find('*');
        let valid = !subject.is_empty()
            && subject.chars().count() <= MAX_SUBJECT_LEN
            && !subject.chars().any(char::is_control)
            && star.is_none_or(|at| at == subject.len() - 1);
        if !valid {
            return Err(invalid(format!(
                "a subject is 1 to {MAX_SUBJECT_LEN} characters without control characters, \
                 exact or a prefix followed by one '*' at its end: {:?}",
                shown(&subject)
            )));
        }
        let identity = Identity { issuer, subject };
        if !list.contains(&identity) {
            list.push(identity);
        }
    }
    if list.len() > MAX_IDENTITIES {
        return Err(invalid(format!("at most {MAX_IDENTITIES} identities")));
    }
    Ok(list)
}

/// The audit detail of identities: each `issuer subject`, cut to a bounded length.
pub fn identities_detail(identities: &[Identity]) -> String {
    let listed: Vec<String> = identities
        .iter()
        .map(|identity| format!("{} {}", identity.issuer, identity.subject))
        .collect();
    let text = format!("identities: {}", listed.join(", "));
    if text.chars().count() > 1000 {
        format!("{}…", text.chars().take(1000).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_exact_or_end_in_one_star() {
        let one = |subject: &str| identities(vec![("https://k8s".into(), subject.into())]);
        for good in [
            "system:serviceaccount:payments:api",
            "system:serviceaccount:payments:*",
            "*",
        ] {
            assert!(one(good).is_ok(), "{good}");
        }
        for bad in ["", "system:*:api", "a**", "*a", "a\nb"] {
            assert!(one(bad).is_err(), "{bad:?}");
        }
        assert!(identities(vec![("has space".into(), "x".into())]).is_err());
        let twice = vec![("i".into(), "s".into()), ("i".into(), "s".into())];
        assert_eq!(identities(twice).unwrap().len(), 1);
        let many = (0..=MAX_IDENTITIES)
            .map(|n| ("i".to_owned(), format!("s{n}")))
            .collect();
        assert!(identities(many).is_err());
    }

    #[test]
    fn audiences_are_bounded_absolute_uris() {
        let list = audiences(vec!["https://a".into(), "urn:x".into(), "https://a".into()]);
        assert_eq!(list.unwrap(), ["https://a", "urn:x"]);
        for bad in ["relative", "https://a b", "", "https://x#f"] {
            assert!(audiences(vec![bad.into()]).is_err(), "{bad:?}");
        }
        let many = (0..=MAX_AUDIENCES).map(|n| format!("urn:a{n}")).collect();
        assert!(audiences(many).is_err());
    }
}
