//! The text of each cell as it was written, for writing kept rows back (`filter`, `filteredCsv`)
//! without keeping a copy of the export.
//!
//! Each column has a format learned from its cells (how many decimal places its numbers are
//! padded to, whether its dates name days or months, how it spells true and false); a cell whose
//! text that format reproduces from the parsed value keeps nothing more. Only the others (bad
//! cells, text with surrounding spaces, `08123`, timestamps, a `+` sign, ...) keep their text, in
//! one string per column. On the sample exports no cell needs that, so the cost is a few bytes per
//! column; the worst case (every cell an exception) is 8 bytes a cell plus its text.

use crate::column::hash::same_bytes;
use crate::column::num::NumColumn;
use crate::date::{format_day, format_month};

/// A number cell written in plain form: its decimal places as written, and whether the last one
/// is a zero (`0.2500` → `(4, true)`).
pub(crate) type PlainShape = (u8, bool);

/// One column's format and exceptions.
#[derive(Clone, Debug, Default)]
pub(crate) struct Verbatim {
    /// Rows whose text the format does not reproduce, ascending...
    rows: Vec<u32>,
    /// ... the end of each one's text in `text`.
    ends: Vec<u32>,
    text: String,
    /// Numbers: the decimal places they are padded to (`None` until a cell shows it).
    decimals: Option<u8>,
    /// Numbers, while `decimals` is unknown: the fewest decimal places of a cell seen so far
    /// (every such cell ended in a non-zero digit, so any padding up to this reproduces it).
    fewest_decimals: u8,
    /// Dates: how they are written (`None` until a cell shows it).
    date_form: Option<DateForm>,
    /// Whether the last valid date cell was in that form (a repeat of it needs no look).
    last_date_plain: bool,
    /// Booleans: how the column spells false and true.
    spellings: [Option<Box<[u8]>>; 2],
    /// Exceptions cannot be indexed by a `u32` row any more (over 4 billion rows or bytes):
    /// then every later cell is written from its value.
    full: bool,
}

impl Verbatim {
    pub(crate) fn new() -> Verbatim {
        Verbatim {
            fewest_decimals: u8::MAX,
            ..Verbatim::default()
        }
    }

    /// Keeps the text of `row`'s cell, which the column's format does not reproduce.
    #[inline(never)]
    fn keep(&mut self, row: usize, raw: &[u8]) {
        if self.full {
            return;
        }
        let text = String::from_utf8_lossy(raw);
        let (Ok(row), Ok(end)) = (
            u32::try_from(row),
            u32::try_from(self.text.len() + text.len()),
        ) else {
            self.full = true;
            return;
        };
        self.text.push_str(&text);
        self.rows.push(row);
        self.ends.push(end);
    }

    /// A text cell: its value is the trimmed text, so only a cell with surrounding white space
    /// (or invalid UTF-8, which is decoded lossily either way) is kept.
    #[inline]
    pub(crate) fn note_text(&mut self, row: usize, raw: &[u8]) {
        let plain = |b: Option<&u8>| b.is_none_or(|&b| b.is_ascii() && !b.is_ascii_whitespace());
        if plain(raw.first()) && plain(raw.last()) {
            return;
        }
        match std::str::from_utf8(raw) {
            Ok(s) if s.trim().len() == s.len() => {}
            _ => self.keep(row, raw),
        }
    }

    /// A number cell, after `column` took it (`row` is its last row); `plain`: its shape, when
    /// the column's parser already found it a short plain decimal (the common case, decided
    /// without another look at the text).
    #[inline(always)]
    pub(crate) fn note_num(
        &mut self,
        row: usize,
        raw: &[u8],
        plain: Option<PlainShape>,
        column: &NumColumn,
    ) {
        match plain {
            Some((places, last_zero)) if self.plain_fits(places, last_zero) => {}
            Some(_) => self.keep(row, raw),
            None if raw.is_empty() => {}
            None => self.note_other_num(row, raw, column),
        }
    }

    /// The decimal places the column's numbers are padded to, once a cell showed it.
    #[inline(always)]
    pub(crate) fn decimals(&self) -> Option<u8> {
        self.decimals
    }

    /// A short plain decimal cell (`places` decimal places as written, the last a zero or not),
    /// as [`Verbatim::note_num`] notes it.
    #[inline(always)]
    pub(crate) fn note_plain(&mut self, row: usize, raw: &[u8], places: u8, last_zero: bool) {
        if !self.plain_fits(places, last_zero) {
            self.keep(row, raw);
        }
    }

    /// A number cell of any other form.
    #[inline(never)]
    fn note_other_num(&mut self, row: usize, raw: &[u8], column: &NumColumn) {
        // Past 15 digits a number is exact only while the column holds integers, and a later cell
        // (an exponent, a huge value) may turn it into floats: keep such rare cells as written.
        if raw.len() > 15 {
            self.keep(row, raw);
            return;
        }
        if let Some((places, last_zero)) = plain_decimal(raw) {
            if !self.plain_fits(places, last_zero) {
                self.keep(row, raw);
            }
            return;
        }
        // Rare forms (a sign, an exponent, spaces, a bad cell): compare with the rendering.
        let mut rendered = String::new();
        self.render_num(column, row, &mut rendered);
        let same = rendered.as_bytes() == raw;
        if same && self.decimals.is_none() {
            // Rendered in the shortest form: it says as much as a plain decimal would.
            match rendered.split_once('.') {
                None => self.decimals = Some(0),
                Some((_, fraction)) => {
                    let places = u8::try_from(fraction.len()).unwrap_or(u8::MAX);
                    self.fewest_decimals = self.fewest_decimals.min(places);
                }
            }
        } else if !same {
            self.keep(row, raw);
        }
    }

    /// Whether a plain decimal with `places` decimal places (its last one zero or not) is what the
    /// column's format writes; learns the format from the first cells that show it.
    #[inline(always)]
    fn plain_fits(&mut self, places: u8, last_zero: bool) -> bool {
        match self.decimals {
            Some(d) if places == 0 => d == 0,
            Some(d) if last_zero => places == d,
            Some(d) => places >= d,
            None if places == 0 => {
                self.decimals = Some(0);
                true
            }
            None if !last_zero => {
                self.fewest_decimals = self.fewest_decimals.min(places);
                true
            }
            // Padded to `places`: the format, unless an earlier cell had fewer places.
            None if places <= self.fewest_decimals => {
                self.decimals = Some(places);
                true
            }
            None => {
                self.decimals = Some(0);
                false
            }
        }
    }

    /// A date cell; `valid`: it parsed as a date.
    #[inline]
    pub(crate) fn note_date(&mut self, row: usize, raw: &[u8], valid: bool) {
        if raw.is_empty() {
            return;
        }
        let shape = if valid { date_shape(raw) } else { None };
        let plain = match (&self.date_form, shape) {
            (Some(DateForm::Month), Some(true)) => true,
            (Some(DateForm::Day(suffix)), Some(false)) => same_bytes(suffix, &raw[10..]),
            (None, Some(month)) => {
                self.date_form = Some(if month {
                    DateForm::Month
                } else {
                    DateForm::Day(raw[10..].into())
                });
                true
            }
            _ => false,
        };
        if valid {
            self.last_date_plain = plain;
        }
        if !plain {
            self.keep(row, raw);
        }
    }

    /// A date cell with the same text as the last valid one of its column.
    #[inline(always)]
    pub(crate) fn note_same_date(&mut self, row: usize, raw: &[u8]) {
        if !self.last_date_plain {
            self.keep(row, raw);
        }
    }

    /// A boolean cell, with the value the column took (`0`, `1`, or empty).
    #[inline]
    pub(crate) fn note_bool(&mut self, row: usize, raw: &[u8], value: u8) {
        if raw.is_empty() {
            return;
        }
        if let Some(spelling) = self.spellings.get_mut(usize::from(value)) {
            match spelling {
                Some(s) if same_bytes(s, raw) => return,
                None if raw.trim_ascii().len() == raw.len() => {
                    *spelling = Some(raw.into());
                    return;
                }
                _ => {}
            }
        }
        self.keep(row, raw);
    }

    /// Makes a number column's format and exceptions from its cells' text, row by row (for an
    /// unknown column found to be numeric once every cell was read).
    pub(crate) fn for_numbers<'a>(
        column: &NumColumn,
        cells: impl Iterator<Item = &'a str>,
    ) -> Verbatim {
        let mut v = Verbatim::new();
        for (row, cell) in cells.enumerate() {
            v.note_num(row, cell.as_bytes(), None, column);
        }
        v.finish();
        v
    }

    /// Ends the input: gives back spare capacity.
    pub(crate) fn finish(&mut self) {
        self.rows.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.text.shrink_to_fit();
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.rows.capacity() * 4 + self.ends.capacity() * 4 + self.text.capacity()
    }

    /// Bytes the exceptions stored take (not the spare capacity).
    pub(crate) fn used_bytes(&self) -> usize {
        self.rows.len() * 8 + self.text.len()
    }

    /// How many cells keep their text.
    #[cfg(test)]
    pub(crate) fn exceptions(&self) -> usize {
        self.rows.len()
    }

    /// A reader of the exceptions, for rows visited in ascending order.
    pub(crate) fn cursor(&self) -> Cursor<'_> {
        Cursor { v: self, next: 0 }
    }

    /// A number as the column writes it: the shortest exact decimal, padded to the column's
    /// decimal places; empty for an empty cell.
    pub(crate) fn render_num(&self, column: &NumColumn, row: usize, out: &mut String) {
        let start = out.len();
        column.format(row, out);
        let d = usize::from(self.decimals.unwrap_or(0));
        if d == 0 || out.len() == start {
            return;
        }
        let places = match out[start..].find('.') {
            Some(dot) => out.len() - start - dot - 1,
            None => {
                out.push('.');
                0
            }
        };
        for _ in places..d {
            out.push('0');
        }
    }

    /// A date as the column writes it.
    pub(crate) fn render_date(&self, day: i32, out: &mut String) {
        match &self.date_form {
            Some(DateForm::Month) => out.push_str(&format_month(day)),
            Some(DateForm::Day(suffix)) => {
                out.push_str(&format_day(day));
                out.push_str(&String::from_utf8_lossy(suffix));
            }
            None => out.push_str(&format_day(day)),
        }
    }

    /// A boolean as the column writes it (`true`/`false` until the column showed its spelling).
    pub(crate) fn render_bool(&self, value: u8, out: &mut String) {
        let default: &[u8] = match value {
            0 => b"false",
            1 => b"true",
            _ => return,
        };
        let spelling = self.spellings[usize::from(value)].as_deref();
        out.push_str(&String::from_utf8_lossy(spelling.unwrap_or(default)));
    }
}

/// How a date column writes its dates.
#[derive(Clone, Debug, PartialEq, Eq)]
enum DateForm {
    /// `YYYY-MM`.
    Month,
    /// `YYYY-MM-DD`, then the same time of day on every cell (`T00:00:00Z`), or nothing.
    Day(Box<[u8]>),
}

/// `Some(true)` for a cell shaped `DDDD-DD`, `Some(false)` for one that starts `DDDD-DD-DD`:
/// then, if it parsed as a date, its date part is exactly what the day number renders.
#[inline]
fn date_shape(raw: &[u8]) -> Option<bool> {
    let digits = |r: std::ops::Range<usize>| raw[r].iter().all(u8::is_ascii_digit);
    if raw.len() < 7 || raw[4] != b'-' || !digits(0..4) || !digits(5..7) {
        return None;
    }
    if raw.len() == 7 {
        return Some(true);
    }
    (raw.len() >= 10 && raw[7] == b'-' && digits(8..10)).then_some(false)
}

/// Walks a column's exceptions along ascending rows.
pub(crate) struct Cursor<'a> {
    v: &'a Verbatim,
    next: usize,
}

impl<'a> Cursor<'a> {
    /// The kept text of `row`, if it has one. Rows must be asked in ascending order.
    pub(crate) fn text(&mut self, row: usize) -> Option<&'a str> {
        let rows = &self.v.rows;
        while rows.get(self.next).is_some_and(|&r| (r as usize) < row) {
            self.next += 1;
        }
        if rows.get(self.next).is_some_and(|&r| r as usize == row) {
            let start = match self.next {
                0 => 0,
                i => self.v.ends[i - 1] as usize,
            };
            let end = self.v.ends[self.next] as usize;
            return self.v.text.get(start..end);
        }
        None
    }
}

/// `(decimal places, whether the last one is 0)` of an unsigned decimal in its plain form:
/// digits without a needless leading zero, then optionally a dot and at least one digit
/// (`0`, `12`, `0.25`, `3.50`; not `08`, `.5`, `5.`, `+1`). One pass: it runs on every number
/// cell.
#[inline(always)]
fn plain_decimal(raw: &[u8]) -> Option<PlainShape> {
    let (&first, &last) = (raw.first()?, raw.last()?);
    if first == b'.' || (first == b'0' && raw.get(1).is_some_and(|&b| b != b'.')) {
        return None;
    }
    let mut dot = usize::MAX;
    for (i, &b) in raw.iter().enumerate() {
        if b.wrapping_sub(b'0') < 10 {
            continue;
        }
        if b != b'.' || dot != usize::MAX {
            return None;
        }
        dot = i;
    }
    match dot {
        usize::MAX => Some((0, false)),
        i if i + 1 < raw.len() => Some((u8::try_from(raw.len() - i - 1).ok()?, last == b'0')),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text each cell is written back as, after a column of `cells` was read.
    fn round_trip(cells: &[&str]) -> (Vec<String>, usize) {
        let mut column = NumColumn::new();
        let mut v = Verbatim::new();
        for (row, cell) in cells.iter().enumerate() {
            let (_, plain) = column.push_cell(cell.as_bytes());
            v.note_num(row, cell.as_bytes(), plain, &column);
        }
        let mut cursor = v.cursor();
        let out = (0..cells.len())
            .map(|row| match cursor.text(row) {
                Some(t) => t.to_string(),
                None => {
                    let mut s = String::new();
                    v.render_num(&column, row, &mut s);
                    s
                }
            })
            .collect();
        (out, v.exceptions())
    }

    #[test]
    fn padded_columns_keep_their_padding_without_exceptions() {
        let cells = ["0.1964", "", "0.0000", "0.3500", "1.2000", "0.2290"];
        assert_eq!(round_trip(&cells), (cells.map(String::from).to_vec(), 0));
    }

    #[test]
    fn shortest_form_columns_need_no_exceptions() {
        let cells = ["0.25", "0.5", "3", "0.125", "-1.5", "12"];
        assert_eq!(round_trip(&cells), (cells.map(String::from).to_vec(), 0));
    }

    #[test]
    fn other_spellings_are_kept_as_written() {
        let cells = [
            "08123", "1e3", "+7", " 4 ", "-0", "abc", "5.", ".5", "0.50", "3",
        ];
        let (out, exceptions) = round_trip(&cells);
        assert_eq!(out, cells.map(String::from).to_vec());
        assert_eq!(exceptions, 9);
    }

    #[test]
    fn a_padding_shown_late_does_not_change_earlier_cells() {
        let cells = ["0.25", "0.5000", "0.125", "2"];
        assert_eq!(round_trip(&cells).0, cells.map(String::from).to_vec());
    }

    #[test]
    fn long_numbers_survive_a_column_turning_into_floats() {
        let cells = [
            "12345678901234567",
            "0.123456789012345678",
            "7",
            "1e3",
            "2.5",
        ];
        assert_eq!(round_trip(&cells).0, cells.map(String::from).to_vec());
    }

    #[test]
    fn plain_decimals_are_recognized() {
        assert_eq!(plain_decimal(b"0"), Some((0, false)));
        assert_eq!(plain_decimal(b"10.50"), Some((2, true)));
        for bad in [&b"08"[..], b".5", b"5.", b"+1", b"-1", b"1.2.3", b""] {
            assert_eq!(plain_decimal(bad), None, "{bad:?}");
        }
    }
}
