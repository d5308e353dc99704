//! Where a name is written in the file: YAML parsers keep no positions for values once they
//! are deserialized, so the line of a semantic error (a duplicate name, an unknown scope) is
//! found in the text, by the name itself, within its section and client.

/// Finds lines in the file's text: YAML parsers keep no positions for values once they are
/// deserialized, so a name is looked up where it is written.
pub struct Locator<'a> {
    lines: Vec<&'a str>,
}

impl<'a> Locator<'a> {
    pub fn new(text: &'a str) -> Self {
        Self {
            lines: text.lines().collect(),
        }
    }

    /// The lines (0-based, end excluded) of top-level section `key:`.
    fn section(&self, key: &str) -> (usize, usize) {
        let top = |line: &str| !line.starts_with([' ', '\t', '#', '-']) && line.contains(':');
        let start = self
            .lines
            .iter()
            .position(|l| top(l) && l.split(':').next() == Some(key))
            .unwrap_or(0);
        let end = self
            .lines
            .iter()
            .enumerate()
            .skip(start + 1)
            .find(|(_, l)| top(l))
            .map_or(self.lines.len(), |(i, _)| i);
        (start, end)
    }

    /// The 1-based line of the `nth` (0-based) occurrence of `token` in section `section`.
    pub fn token(&self, section: &str, token: &str, nth: usize) -> usize {
        let (start, end) = self.section(section);
        self.find(start, end, nth, |line| has_token(line, token))
            .map_or(start + 1, |i| i + 1)
    }

    /// The 1-based line of the `nth` `key: value` in section `section`.
    pub fn key_value(&self, section: &str, key: &str, value: &str, nth: usize) -> usize {
        let (start, end) = self.section(section);
        self.find(start, end, nth, |line| is_key_value(line, key, value))
            .map_or(start + 1, |i| i + 1)
    }

    /// The 1-based line of the `nth` client named `name`.
    pub fn client(&self, name: &str, nth: usize) -> usize {
        self.key_value("clients", "name", name, nth)
    }

    /// The 1-based line of `token` within the `nth` client named `name`: between its name
    /// and the next client's, else before it back to the previous client's; else the line
    /// of its name.
    pub fn in_client(&self, name: &str, nth: usize, token: &str) -> usize {
        let (start, end) = self.section("clients");
        let names: Vec<usize> = (start..end)
            .filter(|&i| is_key(self.lines[i], "name"))
            .collect();
        let here = self.client(name, nth) - 1;
        let next = names.iter().copied().find(|&i| i > here).unwrap_or(end);
        let previous = names.iter().copied().rfind(|&i| i < here).unwrap_or(start);
        self.find(here, next, 0, |line| has_token(line, token))
            .or_else(|| {
                (previous + 1..here)
                    .rev()
                    .find(|&i| has_token(self.lines[i], token))
            })
            .map_or(here + 1, |i| i + 1)
    }

    fn find(
        &self,
        start: usize,
        end: usize,
        nth: usize,
        matches: impl Fn(&str) -> bool,
    ) -> Option<usize> {
        (start..end.min(self.lines.len()))
            .filter(|&i| matches(self.lines[i]))
            .nth(nth)
    }
}

/// The line without its comment, indentation and list dash.
fn content(line: &str) -> &str {
    let line = match line.find(" #") {
        Some(at) => &line[..at],
        None => line,
    };
    let line = line.trim_start();
    line.strip_prefix("- ").unwrap_or(line).trim()
}

fn is_key(line: &str, key: &str) -> bool {
    content(line)
        .strip_prefix(key)
        .is_some_and(|rest| rest.trim_start().starts_with(':'))
}

fn is_key_value(line: &str, key: &str, value: &str) -> bool {
    let Some(rest) = content(line).strip_prefix(key) else {
        return false;
    };
    let Some(rest) = rest.trim_start().strip_prefix(':') else {
        return false;
    };
    unquoted(rest.trim()) == value
}

fn unquoted(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

/// True when `token` appears in `line` as a whole YAML scalar: bounded by the line's ends,
/// whitespace, quotes, brackets, braces or commas.
fn has_token(line: &str, token: &str) -> bool {
    if token.is_empty() {
        return false;
    }
    let line = content(line);
    line.match_indices(token).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let before_ok = before.is_none_or(|c| c.is_whitespace() || "\"'[{,".contains(c));
        let rest = &line[at + token.len()..];
        let after_ok = rest.is_empty()
            || rest.starts_with(|c: char| c.is_whitespace() || "\"']},".contains(c))
            || rest == ":"
            || rest.starts_with(": ");
        before_ok && after_ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
scopes:
  - orders:read
clients:
  - name: web
    scopes: [orders:read]
  - name: billing # the billing job
    scopes:
      - orders:read
      - orders:write
";

    #[test]
    fn names_and_tokens_are_found_on_their_lines() {
        let at = Locator::new(TEXT);
        assert_eq!(at.client("web", 0), 4);
        assert_eq!(at.client("billing", 0), 6);
        assert_eq!(at.in_client("billing", 0, "orders:write"), 9);
        assert_eq!(at.in_client("web", 0, "orders:read"), 5);
        assert_eq!(at.token("scopes", "orders:read", 0), 2);
    }

    #[test]
    fn a_token_inside_a_longer_one_does_not_match() {
        assert!(!has_token("  - orders:readwrite", "orders:read"));
        assert!(has_token("  - 'orders:read'", "orders:read"));
        assert!(has_token("scopes: [a, orders:read]", "orders:read"));
        assert!(has_token("    keys:", "keys"));
    }
}
