//! The `jwks_uri` check: an https URL, or http on a loopback host only, whose host is
//! checked as an HTTP client would connect to it.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Invalid, invalid, shown};

/// Longest `jwks_uri`.
pub const MAX_JWKS_URI_LEN: usize = 2048;

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

#[cfg(test)]
mod tests {
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
}
