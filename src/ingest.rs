//! The push-based ingester: bytes in, in chunks of any size, a [`Table`] out.
//!
//! Built on `csv-core`, which does no I/O: it takes whatever bytes it is given and says how many it
//! used, so a record may span any number of chunks.

use std::collections::{HashMap, HashSet};

use csv_core::{ReadRecordResult, Reader};

use crate::column::{NumColumn, TextColumn, NULL_BOOL, NULL_DAY};
use crate::date::{in_date_range, parse_date};
use crate::error::{Error, ErrorKind};
use crate::number::parse_num;
use crate::schema::{
    display_header, header_says_rate, is_structural_name, Granularity, KnownColumn, Role,
};
use crate::summary::Warning;
use crate::table::{Column, Data, Measure, Table};
use crate::verbatim::Verbatim;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The problem of a count cell below 0 (kept, unlike the others, which count as empty).
const NEGATIVE: &str = "a count of 0 or more";

/// The longest record taken, in bytes of its fields (DESIGN: "Limits on hostile input"): past
/// it the input is refused, so that one endless cell cannot take the memory.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// The most fields a record may have.
pub const MAX_FIELDS: usize = 10_000;

/// The largest input size believed for reserving memory (a `Content-Length`, a file's size):
/// exports are tens to hundreds of megabytes; a larger announcement is only a hint for progress.
pub const MAX_EXPECTED_BYTES: u64 = 512 << 20;

/// Builds a [`Table`] from an export pushed in chunks of any size.
///
/// Nothing is dropped silently: a row with the wrong number of fields is skipped and reported with
/// its line number; a cell that does not parse where a number, date or boolean is expected is
/// reported with its line and column and counts as empty; blank lines are ignored; invalid UTF-8 is
/// decoded lossily.
pub struct Ingester {
    reader: Reader,
    /// The current record's field bytes and field ends, kept across chunks.
    fields: Vec<u8>,
    ends: Vec<usize>,
    fields_len: usize,
    ends_len: usize,
    last_consumed: u8,
    bytes: u64,
    /// Bytes held back at the very start, until we know whether they are a BOM.
    head: Vec<u8>,
    started: bool,
    /// The header of the first part, as written; `None` until it is read.
    header: Option<Vec<String>>,
    /// A later part started: its first record is a header that must match the first one.
    expect_header: bool,
    table: Option<Table>,
    /// The whole input's size, when the caller knows it (see [`Ingester::expect_bytes`]).
    expected_bytes: Option<u64>,
    /// The last date cell parsed (column, raw bytes, day number).
    last_date: (usize, Vec<u8>, i32),
    skipped_rows: u64,
    warnings: Vec<Warning>,
    warnings_total: u64,
    error: Option<Error>,
}

impl Default for Ingester {
    fn default() -> Self {
        Ingester::new()
    }
}

impl Ingester {
    /// A new ingester, waiting for the header row.
    pub fn new() -> Ingester {
        Ingester {
            reader: Reader::new(),
            fields: vec![0; 1024],
            ends: vec![0; 64],
            fields_len: 0,
            ends_len: 0,
            last_consumed: 0,
            bytes: 0,
            head: Vec::new(),
            started: false,
            header: None,
            expect_header: false,
            table: None,
            expected_bytes: None,
            last_date: (usize::MAX, Vec::new(), NULL_DAY),
            skipped_rows: 0,
            warnings: Vec::new(),
            warnings_total: 0,
            error: None,
        }
    }

    /// Data rows kept so far.
    pub fn rows(&self) -> usize {
        self.table.as_ref().map_or(0, |t| t.rows)
    }

    /// Bytes pushed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Tells the ingester how many bytes the whole input has (a file's size, a `Content-Length`).
    /// Once the first megabyte has shown how long rows are, every column reserves room for the
    /// rows to come, instead of growing by doubling: less copying, and in wasm, whose memory never
    /// shrinks, a smaller footprint. A wrong figure costs only that benefit.
    /// Sizes over [`MAX_EXPECTED_BYTES`] are believed only up to it: a server announcing 40 GB
    /// must not make the module reserve for 40 GB.
    pub fn expect_bytes(&mut self, total: u64) {
        self.expected_bytes = Some(total.min(MAX_EXPECTED_BYTES));
    }

    /// Reserves room for the rows the expected size implies, once, after the first megabyte.
    fn reserve_expected_rows(&mut self) {
        const SAMPLE: u64 = 1 << 20;
        let (Some(total), Some(table)) = (self.expected_bytes, self.table.as_mut()) else {
            return;
        };
        if self.bytes < SAMPLE || table.rows == 0 || total <= self.bytes {
            return;
        }
        self.expected_bytes = None;
        let per_row = self.bytes as f64 / table.rows as f64;
        // A little over the estimate: the first megabyte's rows may be shorter than the rest.
        let rows = ((total as f64 / per_row) * 1.02) as usize + 64;
        for column in &mut table.columns {
            match &mut column.data {
                Data::Text(t) => t.reserve(rows),
                Data::Num(n) => n.reserve(rows),
                Data::Date(d) => d.reserve(rows.saturating_sub(d.len())),
                Data::Bool(b) => b.reserve(rows.saturating_sub(b.len())),
            }
        }
    }

    /// Feeds the next chunk. Fails only when the input cannot be an Analytics export at all (its
    /// header names none of the export's columns, or a later part's header differs from the
    /// first); after a failure every call fails the same way.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if chunk.is_empty() {
            return Ok(());
        }
        self.bytes += chunk.len() as u64;
        if !self.started {
            // A BOM may be split across chunks: hold the first bytes until we can tell.
            self.head.extend_from_slice(chunk);
            if self.head.len() < BOM.len() && BOM.starts_with(&self.head) {
                return Ok(());
            }
            self.started = true;
            let head = std::mem::take(&mut self.head);
            let body = head.strip_prefix(BOM).unwrap_or(&head);
            self.feed(body, false)?;
        } else {
            self.feed(chunk, false)?;
        }
        self.reserve_expected_rows();
        Ok(())
    }

    /// Starts another CSV document in the same report (another window of a windowed fetch): the
    /// record in progress is completed, and the next record is a header that must name the same
    /// columns as the first part's.
    pub fn start_part(&mut self) -> Result<(), Error> {
        self.end_input()?;
        // Line numbers go on counting across parts, as if they were one file.
        let line = self.reader.line();
        self.reader.reset();
        self.reader.set_line(line);
        self.started = false;
        self.last_consumed = b'\n';
        self.expect_header = self.header.is_some();
        Ok(())
    }

    /// Ends the input and returns the report.
    pub fn finish(mut self) -> Result<Table, Error> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.end_input()?;
        let Some(mut table) = self.table.take() else {
            return Err(Error::new(
                ErrorKind::EmptyInput,
                "the export is empty: there is no header row",
            ));
        };
        // The report lives on, so its vectors give back their spare capacity.
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
        assign_measures(&mut table.columns);
        table.skipped_rows = self.skipped_rows;
        table.warnings = self.warnings;
        table.warnings_total = self.warnings_total;
        table.compute_date_range();
        table.compute_order();
        Ok(table)
    }

    fn end_input(&mut self) -> Result<(), Error> {
        if !self.started {
            self.started = true;
            let head = std::mem::take(&mut self.head);
            self.feed(&head, false)?;
        }
        self.feed(&[], true)
    }

    /// Runs the CSV reader over `input`; `at_end` says the data ends here (csv-core takes an empty
    /// input as the end of the data, so an empty input is only passed on then).
    fn feed(&mut self, mut input: &[u8], at_end: bool) -> Result<(), Error> {
        loop {
            if input.is_empty() && !at_end {
                return Ok(());
            }
            let (result, nin, nout, nend) = self.reader.read_record(
                input,
                &mut self.fields[self.fields_len..],
                &mut self.ends[self.ends_len..],
            );
            if nin > 0 {
                self.last_consumed = input[nin - 1];
            }
            input = &input[nin..];
            self.fields_len += nout;
            self.ends_len += nend;
            match result {
                ReadRecordResult::InputEmpty => return Ok(()),
                ReadRecordResult::OutputFull => {
                    let n = self.fields.len();
                    // csv-core asks for room before it sees the record's end: a record of
                    // exactly the limit fills a buffer one byte larger.
                    if self.fields_len > MAX_RECORD_BYTES {
                        return Err(self.refuse(format!(
                            "a record longer than {MAX_RECORD_BYTES} bytes (1 MiB): the input is \
                             refused (an export's records are a few hundred bytes; is a quote \
                             left open?)"
                        )));
                    }
                    self.fields.resize((n * 2).min(MAX_RECORD_BYTES + 1), 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let n = self.ends.len();
                    if n >= MAX_FIELDS {
                        return Err(self.refuse(format!(
                            "a record with more than {MAX_FIELDS} fields: the input is refused"
                        )));
                    }
                    self.ends.resize((n * 2).min(MAX_FIELDS), 0);
                }
                ReadRecordResult::Record => {
                    let result = self.record();
                    self.fields_len = 0;
                    self.ends_len = 0;
                    result?;
                }
                ReadRecordResult::End => return Ok(()),
            }
        }
    }

    /// Fails the input on the record being read, naming the line it starts on; every later call
    /// fails the same way.
    fn refuse(&mut self, what: String) -> Error {
        // Mid-record: no line end of its own has been consumed yet.
        let line = start_line(self.reader.line(), 0, &self.fields[..self.fields_len]);
        let e = Error::new(ErrorKind::Input, format!("line {line}: {what}"));
        self.error = Some(e.clone());
        e
    }

    fn record(&mut self) -> Result<(), Error> {
        let ends = &self.ends[..self.ends_len];
        let fields = &self.fields[..self.fields_len];
        // Only needed for a warning or an error, so only computed then.
        let (lines_seen, last_consumed) = (self.reader.line(), self.last_consumed);
        let line = || start_line(lines_seen, last_consumed, fields);
        let field = |i: usize| -> &[u8] {
            let start = if i == 0 { 0 } else { ends[i - 1] };
            &fields[start..ends[i]]
        };
        // A line of only spaces is as blank as an empty one.
        if ends.len() == 1 && field(0).iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        if self.header.is_none() {
            let header: Vec<String> = (0..ends.len())
                .map(|i| String::from_utf8_lossy(field(i)).into_owned())
                .collect();
            let table = new_table(&header, line(), &mut |w| self.warnings.push(w))
                .inspect_err(|e| self.error = Some(e.clone()))?;
            self.warnings_total = self.warnings.len() as u64;
            self.header = Some(header);
            self.table = Some(table);
            return Ok(());
        }
        if self.expect_header {
            self.expect_header = false;
            let first = self.header.as_deref().unwrap_or_default();
            let same = ends.len() == first.len()
                && (0..ends.len())
                    .all(|i| same_header(&String::from_utf8_lossy(field(i)), &first[i]));
            if !same {
                let e = Error::new(
                    ErrorKind::Input,
                    format!(
                        "line {}: this part's header differs from the first part's; \
                         parts of one report must have the same columns",
                        line()
                    ),
                );
                self.error = Some(e.clone());
                return Err(e);
            }
            return Ok(());
        }
        let Some(table) = self.table.as_mut() else {
            return Ok(());
        };
        if ends.len() != table.columns.len() {
            self.skipped_rows += 1;
            let message = format!(
                "found a row with {} fields, but the header has {}; the row is skipped",
                ends.len(),
                table.columns.len()
            );
            warn(
                &mut self.warnings,
                &mut self.warnings_total,
                line(),
                None,
                message,
            );
            return Ok(());
        }
        let row = table.rows;
        for (col, column) in table.columns.iter_mut().enumerate() {
            let raw = field(col);
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
                    } else if raw.trim_ascii().first() == Some(&b'-')
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
                    // Exports are sorted by user then date: the same date repeats on many rows.
                    let (last_col, bytes, day) = &self.last_date;
                    if *last_col == col && bytes == raw {
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
                let found = String::from_utf8_lossy(raw);
                let found = truncate(found.trim(), 40);
                let message = if expected == NEGATIVE {
                    format!(
                        "a negative count, {found:?}: a count cannot be below 0; summed as it is"
                    )
                } else {
                    format!("expected {expected}, found {found:?}; counted as empty")
                };
                warn(
                    &mut self.warnings,
                    &mut self.warnings_total,
                    line(),
                    Some(column.name.clone()),
                    message,
                );
            }
        }
        table.rows += 1;
        Ok(())
    }
}

/// The line a record started on, from the lines seen once it was read: less the newlines inside
/// its quoted fields, and less its own line end when that was consumed with it.
fn start_line(lines_seen: u64, last_consumed: u8, fields: &[u8]) -> u64 {
    let embedded = fields.iter().filter(|&&b| b == b'\n').count() as u64;
    let terminator = u64::from(last_consumed == b'\n');
    lines_seen.saturating_sub(embedded + terminator).max(1)
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn warn(
    warnings: &mut Vec<Warning>,
    total: &mut u64,
    line: u64,
    column: Option<String>,
    message: String,
) {
    *total += 1;
    if warnings.len() < Table::MAX_WARNINGS {
        warnings.push(Warning {
            line,
            column,
            message,
        });
    }
}

fn same_header(a: &str, b: &str) -> bool {
    crate::schema::normalize_header(a) == crate::schema::normalize_header(b)
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

/// Sets up the columns from the header row.
fn new_table(
    header: &[String],
    line: u64,
    warn_with: &mut dyn FnMut(Warning),
) -> Result<Table, Error> {
    let mut columns: Vec<Column> = Vec::with_capacity(header.len());
    // Names taken so far, and for each base name the next suffix to try: unique-ifying stays
    // linear however many names repeat (a header of 6 000 equal names was cubic).
    let mut taken: HashSet<String> = HashSet::with_capacity(header.len());
    let mut next_suffix: HashMap<String, usize> = HashMap::new();
    for written in header {
        let mut known = KnownColumn::from_header(written);
        if let Some(k) = known {
            if columns.iter().any(|c| c.known == Some(k)) {
                warn_with(Warning {
                    line,
                    column: Some(display_header(written)),
                    message: format!(
                        "the column {:?} appears twice; the second is kept as an unknown column",
                        k.name()
                    ),
                });
                known = None;
            }
        }
        let mut name = known.map_or_else(|| display_header(written), |k| k.name().to_string());
        if known.is_none() {
            let mut base = name.clone();
            if is_structural_name(&base) {
                // A column never overwrites a computed figure (DESIGN: "Structural fields never
                // clash with columns"): it is renamed, and the renaming is said.
                base = format!("{base} (column)");
                warn_with(Warning {
                    line,
                    column: Some(name.clone()),
                    message: format!(
                        "the column {name:?} has the name of a computed field of the summary; \
                         it is reported as {base:?}"
                    ),
                });
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
        let data = match known.map(KnownColumn::role) {
            Some(Role::Bool) => Data::Bool(Vec::new()),
            Some(Role::Date) => Data::Date(Vec::new()),
            Some(Role::Count | Role::Rate) => Data::Num(NumColumn::new()),
            Some(Role::Text) | None => Data::Text(TextColumn::new()),
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
    if columns.iter().all(|c| c.known.is_none()) {
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
    let find = |k: KnownColumn| columns.iter().position(|c| c.known == Some(k));
    let date = find(KnownColumn::TimestampDate).or_else(|| find(KnownColumn::TimestampMonth));
    let client = find(KnownColumn::ClientName);
    let language = find(KnownColumn::Language);
    let granularity = match date.map(|i| columns[i].known) {
        Some(Some(KnownColumn::TimestampDate)) if client.is_some() || language.is_some() => {
            Granularity::ByUserDayClientLanguage
        }
        Some(Some(KnownColumn::TimestampDate)) => Granularity::ByUserDay,
        Some(_) => Granularity::ByUserMonth,
        None => Granularity::ByUser,
    };
    Ok(Table {
        user_id: find(KnownColumn::UserId),
        email: find(KnownColumn::UserEmail),
        username: find(KnownColumn::Username),
        active: find(KnownColumn::Active),
        client,
        language,
        date,
        granularity,
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
    })
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

/// Decides how each numeric column aggregates (see DESIGN: rates are recomputed from their parts).
fn assign_measures(columns: &mut [Column]) {
    let find = |k: KnownColumn| columns.iter().position(|c| c.known == Some(k));
    let ratio = |numerator: KnownColumn, denominator: KnownColumn, factor: u32| match (
        find(numerator),
        find(denominator),
    ) {
        (Some(numerator), Some(denominator)) => Measure::Ratio {
            numerator,
            denominator,
            factor,
        },
        _ => Measure::Mean,
    };
    let measures: Vec<Option<Measure>> = columns
        .iter()
        .map(|c| {
            if !matches!(c.data, Data::Num(_)) {
                return None;
            }
            Some(match c.known {
                Some(KnownColumn::CombinedCar) => ratio(
                    KnownColumn::CompletionAcceptances,
                    KnownColumn::CompletionSuggestions,
                    1,
                ),
                Some(KnownColumn::PercentWrittenByCody) => ratio(
                    KnownColumn::CharsWrittenByCody,
                    KnownColumn::CharsWritten,
                    100,
                ),
                Some(KnownColumn::AutoEditRate) => ratio(
                    KnownColumn::AutoEditAccepted,
                    KnownColumn::AutoEditSuggested,
                    1,
                ),
                Some(KnownColumn::WeightedCar) => match find(KnownColumn::CompletionSuggestions) {
                    Some(weight) => Measure::WeightedMean { weight },
                    None => Measure::Mean,
                },
                Some(_) => Measure::Sum,
                None if header_says_rate(&c.name) => Measure::Mean,
                None => Measure::Sum,
            })
        })
        .collect();
    for (c, m) in columns.iter_mut().zip(measures) {
        c.measure = m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ingest(chunks: &[&[u8]]) -> Result<Table, Error> {
        let mut i = Ingester::new();
        for c in chunks {
            i.push(c)?;
        }
        i.finish()
    }

    #[test]
    fn line_numbers_count_physical_lines() {
        let csv =
            b"Instance user ID,Chat Events\r\n1,2\r\n\r\n\"x\ny\",3,4\r\n2,z\n3,\"4\nx\"\n4,5";
        for size in 1..csv.len() {
            let chunks: Vec<&[u8]> = csv.chunks(size).collect();
            let t = ingest(&chunks).unwrap();
            let w: Vec<(u64, Option<&str>)> = t
                .warnings
                .iter()
                .map(|w| (w.line, w.column.as_deref()))
                .collect();
            assert_eq!(
                w,
                vec![
                    (4, None),
                    (6, Some("Chat Events")),
                    (7, Some("Chat Events"))
                ],
                "chunk size {size}"
            );
            assert_eq!(t.rows, 4);
            assert_eq!(t.skipped_rows, 1);
        }
    }

    #[test]
    fn bom_split_across_chunks_is_dropped() {
        let t = ingest(&[b"\xEF", b"\xBB", b"\xBFInstance user ID\n", b"7\n"]).unwrap();
        assert_eq!(t.columns[0].name, "Instance user ID");
        assert_eq!(t.rows, 1);
    }

    #[test]
    fn empty_and_blank_input_is_an_error() {
        for input in [&b""[..], b"\n\n", b"\xEF\xBB\xBF", b"\r\n  \r\n"] {
            let e = ingest(&[input]).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::EmptyInput, "{input:?}");
        }
    }

    #[test]
    fn html_is_not_an_export() {
        let e = ingest(&[b"<!DOCTYPE html><html><body>Sign in</body></html>\n"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Input);
        assert!(e.message().contains("not a Sourcegraph Analytics export"));
    }

    #[test]
    fn later_parts_skip_their_header_and_must_match() {
        let mut i = Ingester::new();
        i.push(b"Instance user ID,Chat Events\n1,2\n1,").unwrap();
        i.start_part().unwrap();
        i.push(b"instance user id , CHAT EVENTS\n2,5\n").unwrap();
        let t = i.finish().unwrap();
        assert_eq!(t.rows, 3);
        assert_eq!(t.warnings_total, 0);
        let mut i = Ingester::new();
        i.push(b"Instance user ID,Chat Events\n1,2\n").unwrap();
        i.start_part().unwrap();
        assert!(i.push(b"Instance user ID,Searches\n").is_err());
        assert!(i.finish().is_err());
    }

    #[test]
    fn unknown_columns_are_typed_by_content() {
        let t = ingest(&[
            b"Instance user ID,Agent runs,Team,Agent success rate\n1,3,a,0.5\n2,,b,\n3,4,7,1\n",
        ])
        .unwrap();
        assert!(matches!(t.columns[1].data, Data::Num(_)));
        assert_eq!(t.columns[1].measure, Some(Measure::Sum));
        assert!(matches!(t.columns[2].data, Data::Text(_)));
        assert_eq!(t.columns[3].measure, Some(Measure::Mean));
    }

    #[test]
    fn an_expected_size_reserves_room_once_and_changes_nothing_else() {
        let mut csv = String::from("Instance user ID,Timestamp Date,Chat Events\n");
        for i in 0..200_000 {
            csv += &format!("{},2025-01-{:02},{}\n", i / 50, 1 + i % 28, i % 7);
        }
        let bytes = csv.as_bytes();
        let mut hinted = Ingester::new();
        hinted.expect_bytes(bytes.len() as u64);
        let (head, tail) = bytes.split_at(1 << 21);
        hinted.push(head).unwrap();
        let rows_so_far = hinted.rows();
        let Some(Data::Date(dates)) = hinted.table.as_ref().map(|t| &t.columns[1].data) else {
            panic!("no date column");
        };
        assert!(dates.capacity() >= 200_000, "{} < 200000", dates.capacity());
        assert!(rows_so_far < 200_000);
        hinted.push(tail).unwrap();
        let mut plain = Ingester::new();
        plain.push(bytes).unwrap();
        let query = crate::Query::default();
        assert_eq!(
            hinted
                .finish()
                .unwrap()
                .summarize(&query)
                .unwrap()
                .to_json(),
            plain.finish().unwrap().summarize(&query).unwrap().to_json()
        );
    }

    #[test]
    fn an_announced_size_is_believed_only_up_to_the_cap() {
        let mut csv = String::from("Instance user ID,Timestamp Date,Chat Events\n");
        for i in 0..100_000 {
            csv += &format!("{},2025-01-{:02},{}\n", i / 50, 1 + i % 28, i % 7);
        }
        // A server announcing 40 GB: the columns reserve for at most MAX_EXPECTED_BYTES.
        let mut lied_to = Ingester::new();
        lied_to.expect_bytes(40_000_000_000);
        lied_to.push(csv.as_bytes()).unwrap();
        let table = lied_to.table.as_ref().unwrap();
        let Data::Date(dates) = &table.columns[1].data else {
            panic!("no date column");
        };
        let per_row = csv.len() as f64 / table.rows as f64;
        let most = (MAX_EXPECTED_BYTES as f64 / per_row * 1.02) as usize + 64;
        assert!(dates.capacity() <= most, "{} > {most}", dates.capacity());
        assert!(
            dates.capacity() > 1_000_000,
            "the capped hint is still used"
        );
    }

    #[test]
    fn row_order_is_detected() {
        let t = ingest(&[
            b"Instance user ID,Timestamp Date\n1,2025-01-01\n1,2025-01-02\n2,2025-01-01\n",
        ])
        .unwrap();
        assert!(t.users_contiguous && t.dates_sorted_within_users);
        let t = ingest(&[
            b"Instance user ID,Timestamp Date\n1,2025-01-02\n1,2025-01-01\n2,2025-01-01\n",
        ])
        .unwrap();
        assert!(t.users_contiguous && !t.dates_sorted_within_users);
        let t = ingest(&[
            b"Instance user ID,Timestamp Date\n1,2025-01-01\n2,2025-01-01\n1,2025-01-02\n",
        ])
        .unwrap();
        assert!(!t.users_contiguous && !t.dates_sorted_within_users);
    }

    #[test]
    fn granularity_comes_from_the_header() {
        let cases = [
            ("Instance user ID,Searches", Granularity::ByUser),
            (
                "Instance user ID,Timestamp Month,Searches",
                Granularity::ByUserMonth,
            ),
            (
                "Instance user ID,Timestamp Date,Searches",
                Granularity::ByUserDay,
            ),
            (
                "Instance user ID,Client Name,Timestamp Date,Language",
                Granularity::ByUserDayClientLanguage,
            ),
        ];
        for (header, g) in cases {
            let t = ingest(&[header.as_bytes()]).unwrap();
            assert_eq!(t.granularity, g, "{header}");
            assert_eq!(t.rows, 0);
        }
    }
}
