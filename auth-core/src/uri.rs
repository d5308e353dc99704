//! The one rule for audiences and resource indicators (RFC 8707 §2): an absolute URI
//! (RFC 3986 §4.3: a scheme, `:`, and more), without a fragment, printable, bounded. The
//! token endpoint checks `resource` parameters with it, and the admin API the audiences it
//! registers, so a value one accepts the other does too.

/// Longest audience accepted.
pub const MAX_URI_LEN: usize = 512;
/// [`is_absolute_uri`]'s rule as a regular expression (besides the length), for the
/// OpenAPI descriptions.
pub const ABSOLUTE_URI_PATTERN: &str =
    r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s#\u0000-\u001F\u007F-\u009F]+$";

/// True for an absolute URI without a fragment, at most [`MAX_URI_LEN`] bytes, with no
/// whitespace or control characters.
pub fn is_absolute_uri(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let mut scheme_chars = scheme.chars();
    value.len() <= MAX_URI_LEN
        && scheme_chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme_chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !value.contains('#')
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_states_the_same_rule() {
        let pattern = regex::Regex::new(ABSOLUTE_URI_PATTERN).unwrap();
        for sample in [
            "https://api.example.com/v1?x=1",
            "urn:example:payments",
            "",
            "api.example.com",
            "https:",
            "1http://x",
            "https://x#fragment",
            "https://x y",
            "https://x\u{7}",
            "https://x\u{85}",
            "a+b.c-d:e",
        ] {
            assert_eq!(
                pattern.is_match(sample),
                is_absolute_uri(sample),
                "{sample:?}"
            );
        }
    }

    #[test]
    fn absolute_uris_without_fragments_only() {
        for good in [
            "https://api.example.com",
            "https://api.example.com/v1?x=1",
            "urn:example:payments",
            "spiffe://example.org/ns/payments",
        ] {
            assert!(is_absolute_uri(good), "{good}");
        }
        for bad in [
            "",
            "api.example.com",
            "/relative",
            "https:",
            "1http://x",
            "https://x#fragment",
            "https://x y",
            "https://x\u{7}",
            &format!("https://{}", "a".repeat(MAX_URI_LEN)),
        ] {
            assert!(!is_absolute_uri(bad), "{bad:?}");
        }
    }
}
