//! The table builder: typed columns filled one record at a time.
//!
//! The ingester reads CSV (records, line numbers, limits, parts) and feeds each record's fields
//! here; the builder types and stores them, as the schema says each column is to be read
//! ([`schema::role_of`]), and at the end decides what the schema leaves to the data (unknown
//! columns typed by content, measures from [`schema::measures`]).

use std::collections::{HashMap, HashSet};

use crate::column::{same_bytes, NumColumn, TextColumn, NULL_BOOL, NULL_DAY};
use crate::date::{in_date_range, parse_date};
use crate::error::{Error, ErrorKind};
use crate::number::parse_num;
use crate::schema::{self, display_header, is_structural_name, ColumnShape, KnownColumn, Role};
use crate::summary::Warning;
use crate::table::{Column, Data, Table};
use crate::verbatim::Verbatim;

/// The problem of a count cell below 0 (kept, unlike the others, which count as empty).
const NEGATIVE: &str = "a count of 0 or more";

/// A record's fields where they lie: `data[start(i)..ends[i]]`, where a field starts `gap`
/// bytes after the previous one ends (0 in csv-core's output, which has no delimiters; 1 for a
/// record read in place, where a comma separates the fields).
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a> {
    pub data: &'a [u8],
    pub ends: &'a [usize],
    pub gap: usize,
}

impl<'a> Fields<'a> {
    /// How many fields.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Field `i`'s bytes.
    #[inline(always)]
    pub fn get(&self, i: usize) -> &'a [u8] {
        let start = if i == 0 {
            0
        } else {
            self.ends[i - 1] + self.gap
        };
        &self.data[start..self.ends[i]]
    }
}

/// Warnings as they are gathered: the first [`Table::MAX_WARNINGS`] kept, all counted.
#[derive(Default)]
pub(crate) struct Warnings {
    pub list: Vec<Warning>,
    pub total: u64,
}

impl Warnings {
    pub fn add(&mut self, line: u64, column: Option<String>, message: String) {
        self.total += 1;
        if self.list.len() < Table::MAX_WARNINGS {
            self.list.push(Warning {
                line,
                column,
                message,
            });
        }
    }
}

/// Builds a [`Table`] from the header and then one record at a time.
pub(crate) struct TableBuilder {
    table: Table,
    /// The last date cell parsed (column, raw bytes, day number): exports are sorted by user then
    /// date, so the same date repeats on many rows.
    last_date: (usize, Vec<u8>, i32),
}

impl TableBuilder {
    /// Sets up the columns from the header row (`line` is its line, for warnings). Fails when the
    /// header names none of the export's columns, unless `any_csv` (records read only for their
    /// shape, never stored).
    pub fn new(
        header: &[String],
        line: u64,
        warnings: &mut Warnings,
        any_csv: bool,
    ) -> Result<TableBuilder, Error> {
        let mut columns: Vec<Column> = Vec::with_capacity(header.len());
        // Names taken so far, and for each base name the next suffix to try: unique-ifying stays
        // linear however many names repeat (a header of 6 000 equal names was cubic).
        let mut taken: HashSet<String> = HashSet::with_capacity(header.len());
        let mut next_suffix: HashMap<String, usize> = HashMap::new();
        for written in header {
            let mut known = KnownColumn::from_header(written);
            if let Some(k) = known {
                if columns.iter().any(|c| c.known == Some(k)) {
                    warnings.add(
                        line,
                        Some(display_header(written)),
                        format!(
                            "the column {:?} appears twice; the second is kept as an unknown \
                             column",
                            k.name()
                        ),
                    );
                    known = None;
                }
            }
            let mut name = known.map_or_else(|| display_header(written), |k| k.name().to_string());
            if known.is_none() {
                let mut base = name.clone();
                if is_structural_name(&base) {
                    // A column never overwrites a computed figure (DESIGN: "Structural fields
                    // never clash with columns"): it is renamed, and the renaming is said.
                    base = format!("{base} (column)");
                    warnings.add(
                        line,
                        Some(name.clone()),
                        format!(
                            "the column {name:?} has the name of a computed field of the \
                             summary; it is reported as {base:?}"
                        ),
                    );
                }
                name = base.clone();
                if taken.contains(&name) {
                    let n = next_suffix.entry(base.clone()).or_insert(2);
                    loop {
                        name = format!("{base} ({n})");
                        *n += 1;
                        if !taken.contains(&name) {
                            break;
                        }
                    }
                }
            }
            taken.insert(name.clone());
            let data = match schema::role_of(known) {
                Role::Bool => Data::Bool(Vec::new()),
                Role::Date => Data::Date(Vec::new()),
                Role::Count | Role::Rate => Data::Num(NumColumn::new()),
                Role::Text => Data::Text(TextColumn::new()),
            };
            columns.push(Column {
                name,
                header: written.trim_start_matches('\u{feff}').to_string(),
                known,
                data,
                measure: None,
                verbatim: Verbatim::new(),
            });
        }
        if !any_csv && columns.iter().all(|c| c.known.is_none()) {
            let first = header.first().map_or("", |h| h.as_str());
            return Err(Error::new(
                ErrorKind::Input,
                format!(
                    "this is not a Sourcegraph Analytics export: its first line names none of the \
                     export's columns (it starts with {:?}); expected a CSV header such as \
                     \"Instance user ID,User Email,Username,...\"",
                    truncate(first.trim(), 60)
                ),
            ));
        }
        if !any_csv
            && columns
                .iter()
                .all(|c| c.known.is_none_or(KnownColumn::is_user_key))
        {
            // Opened in place of the export it was meant to be joined to: said, not silently
            // summed as an export of users with no usage.
            let users: Vec<&str> = columns
                .iter()
                .filter_map(|c| c.known.map(KnownColumn::name))
                .collect();
            warnings.add(
                line,
                None,
                format!(
                    "this file names no usage column, only {}: it looks like a people file, to be \
                     joined to an export (the page's People CSV, or the CLI's --attributes FILE), \
                     not opened as one",
                    users.join(", ")
                ),
            );
        }
        let known: Vec<Option<KnownColumn>> = columns.iter().map(|c| c.known).collect();
        let find = |k: KnownColumn| known.iter().position(|&c| c == Some(k));
        let table = Table {
            user_id: find(KnownColumn::UserId),
            email: find(KnownColumn::UserEmail),
            username: find(KnownColumn::Username),
            active: find(KnownColumn::Active),
            client: find(KnownColumn::ClientName),
            language: find(KnownColumn::Language),
            date: find(KnownColumn::TimestampDate).or_else(|| find(KnownColumn::TimestampMonth)),
            granularity: schema::Granularity::of_columns(&known),
            columns,
            rows: 0,
            skipped_rows: 0,
            warnings: Vec::new(),
            warnings_total: 0,
            first_date: None,
            last_date: None,
            user_flags: None,
            users_contiguous: false,
            dates_sorted_within_users: false,
            attributes: None,
        };
        Ok(TableBuilder {
            table,
            last_date: (usize::MAX, Vec::new(), NULL_DAY),
        })
    }

    /// How many fields a record must have.
    pub fn width(&self) -> usize {
        self.table.columns.len()
    }

    /// Rows stored so far.
    pub fn rows(&self) -> usize {
        self.table.rows
    }

    /// Makes room for `rows` rows in all in every column.
    pub fn reserve(&mut self, rows: usize) {
        for column in &mut self.table.columns {
            match &mut column.data {
                Data::Text(t) => t.reserve(rows),
                Data::Num(n) => n.reserve(rows),
                Data::Date(d) => d.reserve(rows.saturating_sub(d.len())),
                Data::Bool(b) => b.reserve(rows.saturating_sub(b.len())),
            }
        }
    }

    /// The capacity of the first date column, for tests of [`TableBuilder::reserve`].
    #[cfg(test)]
    pub fn date_capacity(&self) -> Option<usize> {
        self.table.columns.iter().find_map(|c| match &c.data {
            Data::Date(d) => Some(d.capacity()),
            _ => None,
        })
    }

    /// Stores one record of [`TableBuilder::width`] fields. A cell that does not parse as its
    /// column's type counts as empty and is reported (with `line()`, computed only then).
    pub fn push_row(
        &mut self,
        fields: Fields<'_>,
        line: impl Fn() -> u64,
        warnings: &mut Warnings,
    ) {
        let table = &mut self.table;
        let row = table.rows;
        for (col, column) in table.columns.iter_mut().enumerate() {
            let raw = fields.get(col);
            let verbatim = &mut column.verbatim;
            let problem = match &mut column.data {
                Data::Text(t) => {
                    t.push(raw);
                    verbatim.note_text(row, raw);
                    None
                }
                Data::Num(n) => {
                    let (ok, plain) = n.push_cell(raw);
                    verbatim.note_num(row, raw, plain, n);
                    if !ok {
                        Some("a number")
                    } else if plain.is_none()
                        && raw.trim_ascii().first() == Some(&b'-')
                        && column.known.map(KnownColumn::role) == Some(Role::Count)
                        && n.get(n.len() - 1).is_some_and(|x| x < 0.0)
                    {
                        // Summed as it is, but never silently (DESIGN: negative counts warn).
                        Some(NEGATIVE)
                    } else {
                        None
                    }
                }
                Data::Date(d) => {
                    let (last_col, bytes, day) = &self.last_date;
                    if *last_col == col && same_bytes(bytes, raw) {
                        d.push(*day);
                        verbatim.note_same_date(row, raw);
                        None
                    } else {
                        let text = String::from_utf8_lossy(raw);
                        // Out of range is a bad cell, so that no span of days can explode a
                        // computation (DESIGN: "Limits on hostile input").
                        let parsed = parse_date(&text).filter(|p| in_date_range(p.day));
                        let day = parsed.map_or(NULL_DAY, |p| p.day);
                        d.push(day);
                        verbatim.note_date(row, raw, parsed.is_some());
                        if parsed.is_some() {
                            let (last_col, bytes, last_day) = &mut self.last_date;
                            (*last_col, *last_day) = (col, day);
                            bytes.clear();
                            bytes.extend_from_slice(raw);
                        }
                        (parsed.is_none() && !text.trim().is_empty()).then_some(
                            "a date (YYYY-MM-DD or YYYY-MM) from 1970-01-01 to 2100-12-31",
                        )
                    }
                }
                Data::Bool(b) => {
                    let value = parse_bool(raw);
                    b.push(value.unwrap_or(NULL_BOOL));
                    verbatim.note_bool(row, raw, value.unwrap_or(NULL_BOOL));
                    value.is_none().then_some("true or false")
                }
            };
            if let Some(expected) = problem {
                bad_cell(warnings, line(), &column.name, raw, expected);
            }
        }
        table.rows += 1;
    }

    /// The table, once the input has ended: unknown columns typed by their content, spare
    /// capacity given back, measures as the schema decides, dates and row order noted.
    pub fn finish(self, skipped_rows: u64, warnings: Warnings) -> Table {
        let mut table = self.table;
        for column in &mut table.columns {
            type_unknown_column(column);
            column.verbatim.finish();
            match &mut column.data {
                Data::Text(t) => t.finish(),
                Data::Num(n) => n.shrink(),
                Data::Date(d) => d.shrink_to_fit(),
                Data::Bool(b) => b.shrink_to_fit(),
            }
        }
        let shapes: Vec<ColumnShape<'_>> = table
            .columns
            .iter()
            .map(|c| ColumnShape {
                known: c.known,
                numeric: matches!(c.data, Data::Num(_)),
                name: &c.name,
            })
            .collect();
        let measures = schema::measures(&shapes);
        for (c, m) in table.columns.iter_mut().zip(measures) {
            c.measure = m;
        }
        table.skipped_rows = skipped_rows;
        table.warnings = warnings.list;
        table.warnings_total = warnings.total;
        table.compute_date_range();
        table.compute_order();
        table
    }
}

/// Reports a cell that is not what its column holds (rare: out of the hot loop).
#[cold]
#[inline(never)]
fn bad_cell(warnings: &mut Warnings, line: u64, column: &str, raw: &[u8], expected: &str) {
    let found = String::from_utf8_lossy(raw);
    let found = truncate(found.trim(), 40);
    let message = if expected == NEGATIVE {
        format!("a negative count, {found:?}: a count cannot be below 0; summed as it is")
    } else {
        format!("expected {expected}, found {found:?}; counted as empty")
    };
    warnings.add(line, Some(column.to_string()), message);
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// `Some(1)` true, `Some(0)` false, `Some(NULL_BOOL)` empty, `None` unparseable.
fn parse_bool(raw: &[u8]) -> Option<u8> {
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

/// An unknown column is a number column when every non-empty cell is a number (and there is at
/// least one); otherwise it stays text.
fn type_unknown_column(column: &mut Column) {
    if column.known.is_some() {
        return;
    }
    let Data::Text(text) = &column.data else {
        return;
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
            None => return,
        }
    }
    if !any {
        return;
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
}
