//! Typing one cell of each kind into its column (text, number, date, boolean) and noting how it
//! was written, the problem of a bad one and its warning; at the end, an unknown column's type
//! from its cells.

use crate::column::{same_bytes, Chunked, DayColumn, NumColumn, TextColumn, NULL_BOOL, NULL_DAY};
use crate::date::{in_date_range, parse_date, parse_plain_day, ParsedDate};
use crate::number::{parse_num, parse_num_bytes};
use crate::schema::{KnownColumn, Role};
use crate::table::{Column, Data};
use crate::verbatim::Verbatim;
use crate::warning::Warnings;

/// The problem of a count cell below 0 (kept, unlike the others, which count as empty).
pub(super) const NEGATIVE: &str = "a count of 0 or more";

/// Types a text cell.
#[inline(always)]
pub(super) fn text_cell(t: &mut TextColumn, verbatim: &mut Verbatim, row: usize, raw: &[u8]) {
    t.push(raw);
    verbatim.note_text(row, raw);
}

/// Types a number cell; the problem, if it is a bad one.
#[inline(always)]
pub(super) fn num_cell(
    n: &mut NumColumn,
    verbatim: &mut Verbatim,
    known: Option<KnownColumn>,
    row: usize,
    raw: &[u8],
) -> Option<&'static str> {
    let (ok, plain) = n.push_cell(raw);
    verbatim.note_num(row, raw, plain, n);
    if !ok {
        Some("a number")
    } else if plain.is_none()
        && raw.trim_ascii().first() == Some(&b'-')
        && known.map(KnownColumn::role) == Some(Role::Count)
        && n.get(n.len() - 1).is_some_and(|x| x < 0.0)
    {
        // Summed as it is, but never silently: a negative count is a warning.
        Some(NEGATIVE)
    } else {
        None
    }
}

/// Types a date cell of column `col`; the problem, if it is a bad one.
#[inline(always)]
pub(super) fn date_cell(
    d: &mut DayColumn,
    verbatim: &mut Verbatim,
    last_date: &mut (usize, Vec<u8>, i32),
    col: usize,
    row: usize,
    raw: &[u8],
    days: bool,
) -> Option<&'static str> {
    let (last_col, bytes, day) = &*last_date;
    if *last_col == col && same_bytes(bytes, raw) {
        d.push(*day);
        verbatim.note_same_date(row, raw);
        return None;
    }
    new_date_cell(d, verbatim, last_date, col, row, raw, days)
}

/// A date cell unlike the last one parsed; `days`: the column holds days (`Timestamp Date`), so a
/// month (`YYYY-MM`) is a bad cell, not its first day.
#[inline(never)]
fn new_date_cell(
    d: &mut DayColumn,
    verbatim: &mut Verbatim,
    last_date: &mut (usize, Vec<u8>, i32),
    col: usize,
    row: usize,
    raw: &[u8],
    days: bool,
) -> Option<&'static str> {
    // The export's form, `YYYY-MM-DD`, straight from the bytes; any other through the text.
    let parsed = match parse_plain_day(raw) {
        Some(day) => Some(ParsedDate {
            day,
            month_only: false,
        }),
        None => parse_date(&String::from_utf8_lossy(raw)),
    };
    // Out of range is a bad cell, so that no span of days can explode a computation
    // (docs/security.md, "Hostile input").
    let month_in_days = days && parsed.is_some_and(|p| p.month_only);
    let parsed = parsed.filter(|p| in_date_range(p.day) && !month_in_days);
    let day = parsed.map_or(NULL_DAY, |p| p.day);
    d.push(day);
    verbatim.note_date(row, raw, parsed.is_some());
    if parsed.is_some() {
        let (last_col, bytes, last_day) = last_date;
        (*last_col, *last_day) = (col, day);
        bytes.clear();
        bytes.extend_from_slice(raw);
    }
    if month_in_days {
        return Some("a day, YYYY-MM-DD (this column holds days; a month names none)");
    }
    (parsed.is_none() && !String::from_utf8_lossy(raw).trim().is_empty())
        .then_some("a date (YYYY-MM-DD or YYYY-MM) from 1970-01-01 to 2100-12-31")
}

/// Notes the line of an unknown column's first negative number (rare: one byte looked at per
/// cell until then).
#[inline(always)]
pub(super) fn note_negative(slot: &mut Option<u64>, raw: &[u8], line: impl FnOnce() -> u64) {
    if slot.is_none()
        && raw.trim_ascii_start().first() == Some(&b'-')
        && parse_num_bytes(raw).is_some_and(|x| x.to_f64() < 0.0)
    {
        *slot = Some(line());
    }
}

/// Warns of the negative values of an unknown column typed as a count (summed): once, with how
/// many and the line of the first.
#[cold]
pub(super) fn warn_negatives(warnings: &mut Warnings, line: u64, column: &str, n: &NumColumn) {
    warn_negative_count(warnings, line, column, negative_cells(n));
}

/// How many cells of a number column are below 0.
pub(crate) fn negative_cells(n: &NumColumn) -> u64 {
    (0..n.len())
        .filter(|&row| n.get(row).is_some_and(|x| x < 0.0))
        .count() as u64
}

/// The warning of [`warn_negatives`], for `count` negative cells of which the first is on `line`.
#[cold]
pub(crate) fn warn_negative_count(warnings: &mut Warnings, line: u64, column: &str, count: u64) {
    if count > 0 {
        warnings.add(
            line,
            Some(column.to_string()),
            format!(
                "a negative count ({count} in this column, the first on this line): a count \
                 cannot be below 0; summed as it is"
            ),
        );
    }
}

/// Types a boolean cell; the problem, if it is a bad one.
#[inline(always)]
pub(super) fn bool_cell(
    b: &mut Chunked<u8>,
    verbatim: &mut Verbatim,
    row: usize,
    raw: &[u8],
) -> Option<&'static str> {
    let value = parse_bool(raw);
    b.push(value.unwrap_or(NULL_BOOL));
    verbatim.note_bool(row, raw, value.unwrap_or(NULL_BOOL));
    value.is_none().then_some("true or false")
}

/// Reports a cell that is not what its column holds (rare: out of the hot loop).
#[cold]
#[inline(never)]
pub(super) fn bad_cell(
    warnings: &mut Warnings,
    line: u64,
    column: &str,
    raw: &[u8],
    expected: &str,
) {
    let found = String::from_utf8_lossy(raw);
    let found = truncate(found.trim(), 40);
    let message = if expected == NEGATIVE {
        format!("a negative count, {found:?}: a count cannot be below 0; summed as it is")
    } else {
        format!("expected {expected}, found {found:?}; counted as empty")
    };
    warnings.add(line, Some(column.to_string()), message);
}

pub(super) fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// `Some(1)` true, `Some(0)` false, `Some(NULL_BOOL)` empty, `None` unparseable.
#[inline(always)]
fn parse_bool(raw: &[u8]) -> Option<u8> {
    match raw {
        b"true" => Some(1),
        b"false" => Some(0),
        _ => parse_bool_other(raw),
    }
}

/// [`parse_bool`] for the other spellings.
#[inline(never)]
fn parse_bool_other(raw: &[u8]) -> Option<u8> {
    let s = raw.trim_ascii();
    const TRUE: [&[u8]; 5] = [b"true", b"yes", b"y", b"t", b"1"];
    const FALSE: [&[u8]; 5] = [b"false", b"no", b"n", b"f", b"0"];
    if s.is_empty() {
        Some(NULL_BOOL)
    } else if TRUE.iter().any(|t| s.eq_ignore_ascii_case(t)) {
        Some(1)
    } else if FALSE.iter().any(|f| s.eq_ignore_ascii_case(f)) {
        Some(0)
    } else {
        None
    }
}

/// What [`type_unknown_column`] found in a column's cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Content {
    /// Every non-empty cell is a number, and there is one at least: the column is numbers now.
    Numbers,
    /// A cell is not a number: the column stays text.
    Text,
    /// No non-empty cell (or not an unknown text column): nothing changed.
    Empty,
}

/// An unknown column is a number column when every non-empty cell is a number (and there is at
/// least one); otherwise it stays text.
pub(crate) fn type_unknown_column(column: &mut Column) -> Content {
    if column.known.is_some() {
        return Content::Empty;
    }
    let Data::Text(text) = &column.data else {
        return Content::Empty;
    };
    let mut any = false;
    let mut parsed = Vec::with_capacity(text.values.len());
    for value in &text.values {
        if value.is_empty() {
            parsed.push(None);
            continue;
        }
        match parse_num(value) {
            Some(n) => {
                any = true;
                parsed.push(Some(n));
            }
            None => return Content::Text,
        }
    }
    if !any {
        return Content::Empty;
    }
    let mut numbers = NumColumn::new();
    text.codes
        .for_each(|_, code| numbers.push(parsed[code as usize]));
    numbers.shrink();
    // The cells' text: kept where it had spaces around it, else the dictionary's value.
    let mut kept = column.verbatim.cursor();
    let mut codes = Vec::with_capacity(numbers.len());
    text.codes.for_each(|_, code| codes.push(code));
    let cells = codes
        .iter()
        .enumerate()
        .map(|(row, &code)| kept.text(row).unwrap_or(&text.values[code as usize]));
    let verbatim = Verbatim::for_numbers(&numbers, cells);
    column.verbatim = verbatim;
    column.data = Data::Num(numbers);
    Content::Numbers
}
