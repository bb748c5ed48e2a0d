//! The core's typed answers as text for a terminal: aligned tables, numbers rounded for reading,
//! control characters escaped.

use sg_analytics::Cell;

/// Integers beyond this are written by the JSON as the nearest float, and shown as one here.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Text from the export as the terminal shows it: control characters (an escape sequence
/// would recolour, move the cursor or retitle the terminal, a newline would break the
/// table) are written as escapes, `\u{1b}`.
pub fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A value for reading: a dash for none, four decimals below 1, two above, integers whole.
pub fn cell(value: &Cell) -> String {
    match value {
        Cell::Null => "—".to_string(),
        Cell::Text(s) => printable(s),
        Cell::Bool(b) => b.to_string(),
        Cell::Int(x) if x.unsigned_abs() <= MAX_SAFE_INTEGER => x.to_string(),
        Cell::Int(x) => decimal(*x as f64),
        Cell::Float(x) => decimal(*x),
    }
}

/// A rate or an average for reading (see [`cell`]); a dash for none.
pub fn float(x: Option<f64>) -> String {
    x.map_or("—".to_string(), decimal)
}

fn decimal(x: f64) -> String {
    if x.abs() < 1.0 {
        format!("{x:.4}")
    } else {
        format!("{x:.2}")
    }
}

/// The change from `before` to `now` in percent ("+12%"), or "—" when it has no meaning.
pub fn change(now: &Cell, before: &Cell) -> String {
    match (now.as_f64(), before.as_f64()) {
        (Some(n), Some(b)) if b != 0.0 => format!("{:+.0}%", 100.0 * (n - b) / b),
        _ => "—".to_string(),
    }
}

/// Rows as columns padded to the widest cell, two spaces apart; columns from `right_from` on
/// (the numbers) aligned to the right.
pub fn aligned(rows: &[Vec<String>], right_from: usize) -> String {
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                let pad = " ".repeat(widths[c] - cell.chars().count());
                if c >= right_from {
                    format!("{pad}{cell}")
                } else {
                    format!("{cell}{pad}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// A header and its rows (text the core wrote) as an aligned table, control characters escaped.
pub fn table(header: &[impl AsRef<str>], rows: Vec<Vec<String>>) -> String {
    let header = header.iter().map(|h| h.as_ref().to_string()).collect();
    let cells: Vec<Vec<String>> = std::iter::once(header)
        .chain(rows)
        .map(|r| r.iter().map(|c| printable(c)).collect())
        .collect();
    aligned(&cells, 1)
}
