//! Workload-identity input made typed at the boundary: issuer values, audiences, `jwks_uri`s,
//! public JWKs and identities. Only admin-service takes these from people, so the rules
//! live here; what passes is what auth-core's doors store and token-service trusts.
//!
//! Each check answers [`Invalid`], a sentence saying what is wrong; the handler turns it
//! into the 422 of its resource (a client's metadata, or an issuer's).

use std::net::{Ipv4Addr, Ipv6Addr};

use auth_core::store::federation::{Identity, Keys};
use auth_core::token::{JwkInput, VerifyingKey};
use auth_core::uri::{MAX_URI_LEN, is_absolute_uri};
use serde_json::{Map, Value};

/// Most keys in one key set.
pub const MAX_KEYS: usize = 16;
/// Most audiences of a client or an issuer.
pub const MAX_AUDIENCES: usize = 16;
/// Longest `jwks_uri`.
pub const MAX_JWKS_URI_LEN: usize = 2048;
/// Longest issuer (`iss`) value.
pub const MAX_ISSUER_LEN: usize = 512;
/// Longest subject, or subject pattern, of an identity.
pub const MAX_SUBJECT_LEN: usize = 512;
/// Most identities bound to one client.
pub const MAX_IDENTITIES: usize = 64;
/// Longest `kid`.
pub const MAX_KID_LEN: usize = 128;
/// The members only a private (or symmetric) JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

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

/// A `jwks_uri`: `https://host[:port][/path][?query]`, or `http://` on a loopback host
/// (127.0.0.0/8, `[::1]`, `localhost`); no userinfo or fragment; printable ASCII; at most
/// 2048 characters. The host is a DNS name, an IPv4 address in dotted decimal or a
/// bracketed IPv6 address, so what is checked here is what an HTTP client connects to.
pub fn jwks_uri(raw: &str) -> Result<String, Invalid> {
    let why = |text: &str| invalid(format!("jwks_uri {text}: {:?}", shown(raw)));
    if raw.len() > MAX_JWKS_URI_LEN {
        return Err(why(&format!(
            "is longer than {MAX_JWKS_URI_LEN} characters"
        )));
    }
    if !raw.bytes().all(|b| b.is_ascii_graphic())
        || raw.contains(['\\', '"', '<', '>', '^', '`', '{', '|', '}'])
    {
        return Err(why("must be printable ASCII without spaces"));
    }
    if raw.contains('#') {
        return Err(why("must not have a fragment"));
    }
    let Some((scheme, rest)) = raw.split_once("://") else {
        return Err(why("must be an https URL"));
    };
    let secure = if scheme.eq_ignore_ascii_case("https") {
        true
    } else if scheme.eq_ignore_ascii_case("http") {
        false
    } else {
        return Err(why("must be an https URL"));
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(why("must not carry user information"));
    }
    let loopback = host_is_loopback(authority).ok_or_else(|| why("has no valid host"))?;
    if !secure && !loopback {
        return Err(why(
            "must be https (http only on a loopback host: 127.0.0.0/8, ::1, localhost)",
        ));
    }
    Ok(raw.to_owned())
}

/// Whether the host of `authority` (`host[:port]`) is a loopback host; `None` when it is no
/// valid host (or the port is no valid port).
fn host_is_loopback(authority: &str) -> Option<bool> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (inside, after) = bracketed.split_once(']')?;
            let ip: Ipv6Addr = inside.parse().ok()?;
            let port = match after {
                "" => None,
                other => Some(other.strip_prefix(':')?),
            };
            return port_is_valid(port).then_some(ip.is_loopback());
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let name_chars = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    if host.is_empty() || !host.chars().all(name_chars) || !port_is_valid(port) {
        return None;
    }
    Some(match host.parse::<Ipv4Addr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    })
}

fn port_is_valid(port: Option<&str>) -> bool {
    port.is_none_or(|port| {
        !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p > 0)
    })
}

/// Public JWKs: at most 16, each a public key `VerifyingKey::from_jwk` takes (OKP Ed25519,
/// EC P-256, RSA of 2048 bits or more) and none with a private member; each gets its `kid`
/// (the RFC 7638 thumbprint when it has none), and the `kid`s are distinct. Other members
/// are kept as given (`alg` among them).
pub fn public_keys(raw: Vec<Value>) -> Result<Vec<Map<String, Value>>, Invalid> {
    if raw.len() > MAX_KEYS {
        return Err(invalid(format!("at most {MAX_KEYS} keys")));
    }
    let mut keys: Vec<Map<String, Value>> = Vec::with_capacity(raw.len());
    for (index, value) in raw.into_iter().enumerate() {
        let Value::Object(mut jwk) = value else {
            return Err(invalid(format!("key {index} is not a JSON object (a JWK)")));
        };
        let private: Vec<&str> = PRIVATE_MEMBERS
            .into_iter()
            .filter(|member| jwk.contains_key(*member))
            .collect();
        if !private.is_empty() {
            return Err(invalid(format!(
                "key {index} has private key members ({}): send only the public key",
                private.join(", ")
            )));
        }
        if let Some(kid) = jwk.get("kid")
            && !kid.as_str().is_some_and(|k| {
                k.chars().count() <= MAX_KID_LEN && !k.chars().any(char::is_control)
            })
        {
            return Err(invalid(format!(
                "key {index} has a kid that is not a string of at most {MAX_KID_LEN} printable characters"
            )));
        }
        let unsupported = || {
            invalid(format!(
                "key {index} is not a supported public signing key (OKP Ed25519, EC P-256, \
                 or RSA of 2048 bits or more, with a matching alg and use \"sig\" if given)"
            ))
        };
        let input: JwkInput =
            serde_json::from_value(Value::Object(jwk.clone())).map_err(|_| unsupported())?;
        let key = VerifyingKey::from_jwk(&input).map_err(|_| unsupported())?;
        if keys.iter().any(|other| other["kid"] == key.kid()) {
            return Err(invalid(format!(
                "key {index} has the same kid as another key: {:?}",
                shown(key.kid())
            )));
        }
        jwk.insert("kid".to_owned(), Value::String(key.kid().to_owned()));
        keys.push(jwk);
    }
    Ok(keys)
}

/// A client's keys from a body's `keys` and `jwks_uri` members: at most one of them (both
/// absent: `None`, for the caller to decide what that means). An empty `keys`: no keys.
pub fn client_keys(keys: Option<Vec<Value>>, uri: Option<&str>) -> Result<Option<Keys>, Invalid> {
    match (keys, uri) {
        (Some(_), Some(_)) => Err(invalid("give keys or jwks_uri, not both")),
        (Some(keys), None) => {
            let keys = public_keys(keys)?;
            Ok(Some(if keys.is_empty() {
                Keys::None
            } else {
                Keys::Inline(keys)
            }))
        }
        (None, Some(uri)) => Ok(Some(Keys::Uri(jwks_uri(uri)?))),
        (None, None) => Ok(None),
    }
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

/// The audit detail of keys: their `kid`s or their URL, never key material.
pub fn keys_detail(keys: &Keys) -> String {
    match keys {
        Keys::None => "keys: none".to_owned(),
        Keys::Inline(_) => format!("keys: {}", keys.kids().join(", ")),
        Keys::Uri(uri) => format!("jwks_uri: {uri}"),
    }
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
    use serde_json::json;

    use super::*;

    #[test]
    fn jwks_uris_are_https_or_http_on_loopback() {
        for good in [
            "https://kubernetes.default.svc/openid/v1/jwks",
            "https://example.com:8443/jwks?x=1",
            "HTTPS://Example.COM",
            "https://[2001:db8::1]/keys",
            "http://127.0.0.1:8080/jwks",
            "http://127.1.2.3/jwks",
            "http://[::1]:9000/jwks",
            "http://localhost/jwks",
            "http://LOCALHOST:1/",
        ] {
            assert_eq!(jwks_uri(good), Ok(good.to_owned()), "{good}");
        }
        for bad in [
            "",
            "example.com/jwks",
            "ftp://example.com/jwks",
            "http://example.com/jwks",
            "http://10.0.0.1/jwks",
            "http://localhost.evil.example/jwks",
            "http://127.0.0.1.evil.example/",
            "http://127.1/",
            "http://0x7f.0.0.1/",
            "http://127.0.0.%31/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::2]/",
            "https://user:pass@example.com/jwks",
            "http://x@127.0.0.1/",
            "https://example.com/jwks#frag",
            "https://example.com/a b",
            "https://exa\\mple.com/",
            "https:///jwks",
            "https://example.com:/jwks",
            "https://example.com:99999/",
            "https://example.com:0/",
            "https://[::1/",
            "https://ex%61mple.com/",
            "https://exämple.com/",
        ] {
            assert!(jwks_uri(bad).is_err(), "{bad:?}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_JWKS_URI_LEN));
        assert!(jwks_uri(&long).is_err());
    }

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

    // RFC 8037 appendix A: an Ed25519 public key and its RFC 7638 thumbprint.
    const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

    #[test]
    fn public_keys_get_their_kid_and_private_members_are_refused() {
        let keys = public_keys(vec![json!({"kty": "OKP", "crv": "Ed25519", "x": X})]).unwrap();
        assert_eq!(keys[0]["kid"], THUMBPRINT);
        let named = public_keys(vec![
            json!({"kty": "OKP", "crv": "Ed25519", "x": X, "kid": "k1", "alg": "EdDSA"}),
        ])
        .unwrap();
        assert_eq!(named[0]["kid"], "k1");
        assert_eq!(named[0]["alg"], "EdDSA");

        let private = json!({"kty": "OKP", "crv": "Ed25519", "x": X, "d": "secret"});
        let Invalid(text) = public_keys(vec![private]).unwrap_err();
        assert!(text.contains("private"), "{text}");
        assert!(!text.contains("secret"), "{text}");
        let symmetric = json!({"kty": "oct", "k": "c2VjcmV0"});
        assert!(public_keys(vec![symmetric]).is_err());

        for bad in [
            json!("not an object"),
            json!({"kty": "OKP", "crv": "Ed25519"}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}),
            json!({"kty": "EC", "crv": "P-384", "x": X, "y": X}),
            json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": X, "use": "enc"}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": X, "kid": 7}),
        ] {
            assert!(public_keys(vec![bad.clone()]).is_err(), "{bad}");
        }
        let same = json!({"kty": "OKP", "crv": "Ed25519", "x": X});
        assert!(public_keys(vec![same.clone(), same]).is_err());
        let many = vec![json!({"kty": "OKP", "crv": "Ed25519", "x": X}); MAX_KEYS + 1];
        assert!(public_keys(many).is_err());
    }
}
