//! What commands print: lines and tables for people, the API's JSON for scripts. Results
//! go to standard output, notes and errors to standard error; a secret only ever goes to
//! standard output when the operator asked for it there (no `--secret-out`).

use std::io::Write as _;

use serde_json::Value;

use crate::cli::Format;

/// Writes one line to standard output (a closed pipe is not an error worth a message).
pub fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

/// Prints `value` as indented JSON.
pub fn json(value: &Value) {
    line(&serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
}

/// Prints a table: a header row, then the rows, each column as wide as its widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    line(&render(headers, &widths));
    for row in rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        line(&render(&cells, &widths));
    }
}

/// One row: each cell padded to its column's width, two spaces between columns.
fn render(cells: &[&str], widths: &[usize]) -> String {
    let mut text = String::new();
    for (cell, width) in cells.iter().zip(widths) {
        let padding = width.saturating_sub(cell.chars().count());
        text.push_str(cell);
        text.push_str(&" ".repeat(padding + 2));
    }
    text.trim_end().to_owned()
}

/// Prints `value` as JSON, or `human` for people.
pub fn either(format: Format, value: &Value, human: impl FnOnce(&Value)) {
    match format {
        Format::Json => json(value),
        Format::Table => human(value),
    }
}

/// A JSON value as a table cell: strings bare, arrays space-separated, null as `-`.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "-".to_owned(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

/// `key: value` lines for the fields of an object, in `keys` order.
pub fn fields(value: &Value, keys: &[&str]) {
    let width = keys.iter().map(|k| k.len()).max().unwrap_or(0);
    for key in keys {
        line(&format!(
            "{:<width$}  {}",
            format!("{key}:"),
            cell(&value[*key]),
            width = width + 1
        ));
    }
}
