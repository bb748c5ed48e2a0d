//! The push-based ingester: bytes in, in chunks of any size, a [`Table`] out.
//!
//! It reads the CSV and feeds each record to a [`TableBuilder`], which types and stores the
//! fields. Plain records (no quote, complete in the chunk at hand: nearly all of an export) are
//! split in place, 16 bytes at a time ([`crate::scan`]); every other record is read by `csv-core`,
//! which does no I/O: it takes whatever bytes it is given and says how many it used, so a record
//! may span any number of chunks. Both paths give the same fields and line numbers. The plain
//! records of a chunk are queued in blocks and typed a column at a time; a record that does
//! anything else (a warning, a skipped row) first stores the block before it, so warnings stay in
//! input order.

mod read;

use csv_core::{ReadRecordResult, Reader};

use crate::builder::{Block, TableBuilder};
use crate::error::{Error, ErrorKind};
use crate::table::Table;
use crate::warning::Warnings;

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use read::count_lines;
use read::is_line_break;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The longest record taken, in bytes of its fields (docs/security.md, "Hostile input"): past
/// it the input is refused, so that one endless cell cannot take the memory.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// The most fields a record may have.
pub const MAX_FIELDS: usize = 10_000;

/// The largest input size believed for reserving memory (a `Content-Length`, a file's size):
/// exports are tens to hundreds of megabytes; a larger announcement is only a hint for progress.
pub const MAX_EXPECTED_BYTES: u64 = 512 << 20;

/// How far ahead of the bytes pushed so far an announced size is believed for reserving room.
pub const EXPECTED_AHEAD: u64 = 8;

/// What a whole input found, at the end of a stream of chunks ([`Ingester::finish_rows`]).
pub(crate) struct Ending {
    pub skipped_rows: u64,
    pub warnings: Warnings,
    pub first_negatives: Vec<Option<u64>>,
}

/// Builds a [`Table`] from an export pushed in chunks of any size.
///
/// Nothing is dropped silently: a row with the wrong number of fields is skipped and reported with
/// its line number; a cell that does not parse where a number, date or boolean is expected is
/// reported with its line and column and counts as empty; blank lines are ignored; invalid UTF-8 is
/// decoded lossily.
pub struct Ingester {
    reader: Reader,
    /// csv-core's output for the current record (field bytes and field ends), kept across chunks.
    fields: Vec<u8>,
    ends: Vec<usize>,
    fields_len: usize,
    ends_len: usize,
    /// csv-core has taken bytes of a record it has not given back yet: the bytes that follow
    /// belong to it, and the fast path waits.
    in_core_record: bool,
    /// The raw bytes of the record csv-core is in the middle of, when it began in an earlier
    /// chunk than the current one (at most one record: a few hundred bytes, at most the record
    /// limit), to tell at the end whether the input ended inside it.
    pending_raw: Vec<u8>,
    /// Field ends of a record split in place (the fast path).
    fast_ends: Vec<usize>,
    /// Physical lines ended so far: a line ends at LF, CRLF or a bare CR (csv-core's own count
    /// knows only LF). Counted across parts, as if they were one file.
    lines: u64,
    /// The line the record csv-core is reading starts on.
    record_line: u64,
    /// Plain records of the chunk at hand, queued to be stored a column at a time.
    block: Block,
    last_consumed: u8,
    bytes: u64,
    /// Bytes held back at the very start, until we know whether they are a BOM.
    head: Vec<u8>,
    started: bool,
    /// The header of the first part, as written; `None` until it is read.
    header: Option<Vec<String>>,
    /// A later part started: its first record is a header that must match the first one.
    expect_header: bool,
    builder: Option<TableBuilder>,
    /// The whole input's size, when the caller knows it (see [`Ingester::expect_bytes`]).
    expected_bytes: Option<u64>,
    /// The same size as announced (not capped), for the memory budget's projection.
    announced_bytes: Option<u64>,
    /// The memory the report may take (see [`Ingester::set_memory_budget`]).
    budget: Option<u64>,
    /// The bytes pushed when room was last reserved for the expected size.
    reserved_at: u64,
    skipped_rows: u64,
    warnings: Warnings,
    error: Option<Error>,
    /// Reads records without storing them (see [`Ingester::body_ends_inside_record`]).
    check_only: bool,
    /// Plain records are split in place (off only in tests, to compare with csv-core alone).
    fast_path: bool,
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
            in_core_record: false,
            pending_raw: Vec::new(),
            fast_ends: Vec::with_capacity(64),
            lines: 0,
            record_line: 1,
            block: Block::default(),
            last_consumed: 0,
            bytes: 0,
            head: Vec::new(),
            started: false,
            header: None,
            expect_header: false,
            builder: None,
            expected_bytes: None,
            announced_bytes: None,
            budget: crate::budget::default_budget(),
            reserved_at: 0,
            skipped_rows: 0,
            warnings: Warnings::default(),
            error: None,
            check_only: false,
            fast_path: true,
        }
    }

    /// Data rows kept so far.
    pub fn rows(&self) -> usize {
        self.builder.as_ref().map_or(0, TableBuilder::rows)
    }

    /// Bytes pushed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Whether the input so far ends inside a record: a quoted field left open, or a last record
    /// without its line break that has fewer fields than the header. A body that ends so was cut
    /// short (the fetch clients ask this at the end of each body). A complete last record without
    /// a final line break is not inside a record, nor is a header alone or no input at all.
    pub fn ends_inside_record(&self) -> bool {
        let Some(builder) = &self.builder else {
            return false;
        };
        if !self.in_core_record || self.expect_header {
            return false;
        }
        // Read the record again, with a line break after it, by a fresh csv-core reader: if the
        // line break does not end it, a quoted field is open.
        let mut again = Reader::new();
        let input = [&self.pending_raw[..], b"\n"].concat();
        let mut out = vec![0u8; input.len()];
        let mut ends = vec![0usize; self.ends_len + 2];
        let (result, nin, nout, fields) = again.read_record(&input, &mut out, &mut ends);
        match result {
            ReadRecordResult::Record if nin == input.len() => fields < builder.width(),
            // Only line breaks (blank lines, skipped): no record was begun.
            ReadRecordResult::InputEmpty if nout == 0 && fields == 0 => false,
            _ => true,
        }
    }

    /// [`Ingester::ends_inside_record`] for a whole CSV body in memory (a month window, buffered
    /// until it is checked; the user registry): its records are read, not stored, and its header
    /// may be any CSV header.
    pub fn body_ends_inside_record(body: &[u8]) -> bool {
        let mut ingester = Ingester::checker();
        ingester.push(body).is_ok() && ingester.ends_inside_record()
    }

    /// An ingester that reads records without storing them, for
    /// [`Ingester::ends_inside_record`] on a body streamed through it (a month window, held
    /// until it is checked); its header may be any CSV header.
    pub(crate) fn checker() -> Ingester {
        Ingester {
            check_only: true,
            ..Ingester::new()
        }
    }

    /// Tells the ingester how many bytes the whole input has (a file's size, a `Content-Length`).
    /// Once the first megabyte has shown how long rows are, every column reserves room for the
    /// rows to come, instead of growing by doubling: less copying, and in wasm, whose memory never
    /// shrinks, a smaller footprint. A wrong figure costs only that benefit.
    /// The size is believed only as far as the input bears it out: room is reserved for at most
    /// [`EXPECTED_AHEAD`] times the bytes pushed so far (more as they come), so a server
    /// announcing 40 GB and sending a megabyte makes the module reserve for a few megabytes, not
    /// for 40 GB. Without a memory budget, sizes over [`MAX_EXPECTED_BYTES`] are believed only up
    /// to it.
    ///
    /// The size also lets the memory budget (see [`Ingester::set_memory_budget`]) project what
    /// the whole input will need: a size that cannot fit is refused by the next
    /// [`Ingester::push`] (and by [`Ingester::check_expected_size`] at once), and reading stops
    /// as soon as the rows read show that the rest will not fit.
    pub fn expect_bytes(&mut self, total: u64) {
        self.expected_bytes = Some(total.min(MAX_EXPECTED_BYTES));
        self.announced_bytes = Some(total);
    }

    /// Sets the memory the report may take, table and room for queries (see
    /// [`QUERY_ROOM`](crate::QUERY_ROOM)), or `None` for no limit but the machine's. Default:
    /// [`default_budget`](crate::default_budget) ([`MEMORY_BUDGET_32`](crate::MEMORY_BUDGET_32)
    /// where addresses are 32 bits wide, as in WebAssembly; none on 64-bit machines).
    ///
    /// While reading, the ingester projects what the whole input will need from the table's bytes
    /// per input byte so far and the size given to [`Ingester::expect_bytes`] (without one, from
    /// what is stored); once that passes the budget, [`Ingester::push`] fails with
    /// [`ErrorKind::TooLarge`], the rows read are freed, and every later call fails the same way.
    /// The message says how many rows were read, what the whole would need, and the ways out.
    pub fn set_memory_budget(&mut self, budget: Option<u64>) {
        self.budget = budget;
    }

    /// The memory the report may take (see [`Ingester::set_memory_budget`]).
    pub fn memory_budget(&self) -> Option<u64> {
        self.budget
    }

    /// Fails with [`ErrorKind::TooLarge`] when the size given to [`Ingester::expect_bytes`]
    /// cannot fit in the memory budget whatever its rows hold, so that a caller can say so before
    /// reading anything (the next push would fail the same way).
    pub fn check_expected_size(&self) -> Result<(), Error> {
        match (self.announced_bytes, self.budget) {
            (Some(total), Some(budget)) => crate::budget::check_size(total, budget),
            _ => Ok(()),
        }
    }

    /// Bytes the rows stored so far take (dictionaries included, spare capacity not).
    pub fn table_bytes(&self) -> u64 {
        self.builder.as_ref().map_or(0, |b| b.used_bytes() as u64)
    }

    /// Checks the memory budget after a chunk: stops reading when the whole will not fit.
    fn check_budget(&mut self) -> Result<(), Error> {
        let Some(budget) = self.budget else {
            return Ok(());
        };
        let reading = crate::budget::Reading {
            rows: self.rows(),
            bytes: self.bytes,
            table_bytes: self.table_bytes(),
            total: self.announced_bytes,
        };
        crate::budget::check_reading(reading, budget).map_err(|e| self.stop(e))
    }

    /// Makes room in every column for the rows `chunk` can hold, failing (not ending the
    /// process, or the wasm module) when the memory is not there.
    fn grow_for(&mut self, chunk: usize) -> Result<(), Error> {
        let Some(builder) = self.builder.as_mut() else {
            return Ok(());
        };
        if self.check_only {
            return Ok(());
        }
        let rows = builder.rows() as u64;
        // Twice the rows the chunk holds at the rows' mean length so far, a block at least, and
        // never more than it can hold (a row takes two bytes at least).
        let mean = if rows > 0 {
            (chunk as u64).saturating_mul(rows) / self.bytes.max(1)
        } else {
            0
        };
        let more = (mean.saturating_mul(2) + Block::ROWS as u64).min(chunk as u64 / 2 + 1);
        let more = usize::try_from(more).unwrap_or(usize::MAX);
        match builder.try_grow(more) {
            Ok(()) => Ok(()),
            Err(_) => {
                let e = crate::budget::out_of_memory(builder.rows(), builder.used_bytes() as u64);
                Err(self.stop(e))
            }
        }
    }

    /// Stops reading for good: the rows read are freed, and every later call fails with `e`.
    fn stop(&mut self, e: Error) -> Error {
        self.builder = None;
        self.block.clear();
        self.pending_raw = Vec::new();
        self.error = Some(e.clone());
        e
    }

    /// Reserves room for the rows the expected size implies, as far as the bytes pushed so far
    /// make it plausible: after the first megabyte, then each time they double. Under a memory
    /// budget the announced size is not capped by [`MAX_EXPECTED_BYTES`] (the projection has
    /// found that it fits the budget). A reservation the memory cannot give is skipped: the
    /// columns then grow as they go.
    fn reserve_expected_rows(&mut self) {
        const SAMPLE: u64 = 1 << 20;
        let total = match (self.budget, self.announced_bytes) {
            (Some(_), Some(announced)) if self.expected_bytes.is_some() => Some(announced),
            _ => self.expected_bytes,
        };
        let (Some(total), Some(builder)) = (total, self.builder.as_mut()) else {
            return;
        };
        let rows = builder.rows();
        if self.bytes < SAMPLE.max(self.reserved_at * 2) || rows == 0 || total <= self.bytes {
            return;
        }
        self.reserved_at = self.bytes;
        let plausible = total.min(self.bytes.saturating_mul(EXPECTED_AHEAD));
        if plausible == total {
            self.expected_bytes = None;
        }
        let per_row = self.bytes as f64 / rows as f64;
        // A little over the estimate: the first megabyte's rows may be shorter than the rest.
        let expected = ((plausible as f64 / per_row) * 1.02) as usize + 64;
        let _ = builder.try_grow(expected.saturating_sub(rows));
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
        if let Err(e) = self.check_expected_size() {
            return Err(self.stop(e));
        }
        self.grow_for(chunk.len())?;
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
        self.check_budget()?;
        self.reserve_expected_rows();
        Ok(())
    }

    /// Starts another CSV document in the same report (another window of a windowed fetch): the
    /// record in progress is completed, and the next record is a header that must name the same
    /// columns as the first part's.
    pub fn start_part(&mut self) -> Result<(), Error> {
        self.end_input()?;
        // Line numbers go on counting across parts, as if they were one file (a part's last line
        // without its line break ends with the part).
        if self.bytes > 0 && !is_line_break(self.last_consumed) {
            self.lines += 1;
        }
        self.reader.reset();
        self.in_core_record = false;
        self.pending_raw.clear();
        self.started = false;
        self.last_consumed = b'\n';
        self.expect_header = self.header.is_some();
        Ok(())
    }

    #[cfg(not(target_arch = "wasm32"))]
    /// An ingester that goes on reading an export whose header was `header`, from the start of
    /// a record on line `lines + 1` (the bytes after a record's line break): what
    /// [`Ingester::at_record_start`] and [`Ingester::lines`] of the ingester that read the bytes
    /// before would say. Its rows, warnings and line numbers are those that ingester would have
    /// gone on with; the header's own warnings were that ingester's.
    pub(crate) fn continuing(header: &[String], lines: u64) -> Result<Ingester, Error> {
        let mut ingester = Ingester::new();
        let mut header_warnings = Warnings::default();
        ingester.builder = Some(TableBuilder::new(header, 1, &mut header_warnings, false)?);
        ingester.header = Some(header.to_vec());
        ingester.started = true;
        ingester.lines = lines;
        ingester.last_consumed = b'\n';
        Ok(ingester)
    }

    #[cfg(not(target_arch = "wasm32"))]
    /// The header read (as written), once it is.
    pub(crate) fn header(&self) -> Option<&[String]> {
        self.header.as_deref()
    }

    #[cfg(not(target_arch = "wasm32"))]
    /// Whether the bytes pushed so far end between two records (after the header), with no
    /// error: what follows starts a record.
    pub(crate) fn at_record_start(&self) -> bool {
        self.started
            && self.builder.is_some()
            && self.error.is_none()
            && !self.in_core_record
            && !self.expect_header
            && self.fields_len == 0
    }

    #[cfg(not(target_arch = "wasm32"))]
    /// The lines ended so far (LF, CRLF and bare CR each end one).
    pub(crate) fn lines(&self) -> u64 {
        self.lines
    }

    /// The rows stored since the last call, as a table of their own (see
    /// [`TableBuilder::take_rows`]); `None` before the header. Reading goes on with the same
    /// header, line numbers and warnings: a stream of such chunks holds every row once.
    pub(crate) fn take_rows(&mut self) -> Option<Table> {
        if self.error.is_some() {
            return None;
        }
        self.builder.as_mut().map(TableBuilder::take_rows)
    }

    /// Ends the input of a stream of chunks: the last rows (as [`Ingester::take_rows`] gives
    /// them), and what the whole input found (skipped rows, warnings, the line of each unknown
    /// column's first negative number).
    pub(crate) fn finish_rows(mut self) -> Result<(Table, Ending), Error> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.end_input()?;
        let Some(mut builder) = self.builder.take() else {
            return Err(Error::new(
                ErrorKind::EmptyInput,
                "the export is empty: there is no header row",
            ));
        };
        let last = builder.take_rows();
        Ok((
            last,
            Ending {
                skipped_rows: self.skipped_rows,
                warnings: self.warnings,
                first_negatives: builder.first_negatives().to_vec(),
            },
        ))
    }

    /// Ends the input and returns the report.
    pub fn finish(mut self) -> Result<Table, Error> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.end_input()?;
        let Some(builder) = self.builder.take() else {
            return Err(Error::new(
                ErrorKind::EmptyInput,
                "the export is empty: there is no header row",
            ));
        };
        Ok(builder.finish(self.skipped_rows, self.warnings))
    }

    fn end_input(&mut self) -> Result<(), Error> {
        if !self.started {
            self.started = true;
            let head = std::mem::take(&mut self.head);
            self.feed(&head, false)?;
        }
        self.feed(&[], true)
    }
}

impl Table {
    /// Parses a whole export held in memory.
    pub fn from_bytes(data: &[u8]) -> Result<Table, Error> {
        let mut ingester = Ingester::new();
        ingester.expect_bytes(data.len() as u64);
        for chunk in data.chunks(1 << 20) {
            ingester.push(chunk)?;
        }
        ingester.finish()
    }
}

#[cfg(test)]
mod tests;
