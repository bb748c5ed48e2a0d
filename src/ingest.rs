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

use csv_core::{ReadRecordResult, Reader};

use crate::builder::{Block, Fields, TableBuilder};
use crate::error::{Error, ErrorKind};
use crate::scan::split_record;
use crate::table::Table;
use crate::warning::Warnings;

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

    /// Reads the records in `input`; `at_end` says the data ends here (csv-core takes an empty
    /// input as the end of the data, so an empty input is only passed on then).
    fn feed(&mut self, mut input: &[u8], at_end: bool) -> Result<(), Error> {
        let whole = input;
        // Where in `whole` the record csv-core is reading began (0: in an earlier chunk).
        let mut core_start = 0;
        loop {
            if self.fast_path
                && !self.in_core_record
                && !self.expect_header
                && self.builder.is_some()
            {
                input = self.feed_plain(input);
            }
            if !self.in_core_record {
                // Line breaks between records (blank lines, before the header too) are counted
                // and dropped here, so that csv-core is only ever given a record's bytes and
                // what is held of a record (`pending_raw`) stays within the record limit.
                let skip = input
                    .iter()
                    .position(|&b| !is_line_break(b))
                    .unwrap_or(input.len());
                if skip > 0 {
                    self.lines += count_lines(&input[..skip], self.last_consumed);
                    self.last_consumed = input[skip - 1];
                    input = &input[skip..];
                }
            }
            if input.is_empty() && !at_end {
                return Ok(());
            }
            if !self.in_core_record {
                core_start = whole.len() - input.len();
                self.record_line = self.lines + 1;
            }
            let (result, nin, nout, nend) = self.reader.read_record(
                input,
                &mut self.fields[self.fields_len..],
                &mut self.ends[self.ends_len..],
            );
            if nin > 0 {
                self.lines += count_lines(&input[..nin], self.last_consumed);
                self.last_consumed = input[nin - 1];
                self.in_core_record = true;
            }
            input = &input[nin..];
            self.fields_len += nout;
            self.ends_len += nend;
            match result {
                ReadRecordResult::InputEmpty => {
                    if self.in_core_record {
                        self.pending_raw.extend_from_slice(&whole[core_start..]);
                    }
                    return Ok(());
                }
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
                    self.in_core_record = false;
                    if at_end && quote_left_open(&self.pending_raw) {
                        // The rest of the input was read into one quoted field: the rows in it
                        // are not rows, and not stored as one either.
                        self.skipped_rows += 1;
                        // The last line counts whether or not a line break ends it.
                        let last = self.lines + u64::from(!is_line_break(self.last_consumed));
                        self.warnings.add(
                            self.record_line,
                            None,
                            format!(
                                "a quoted field opened on this line is never closed: lines {} \
                                 to {} (the end of the input) are inside it; the row is skipped",
                                self.record_line,
                                last.max(self.record_line)
                            ),
                        );
                        self.pending_raw.clear();
                        self.fields_len = 0;
                        self.ends_len = 0;
                        continue;
                    }
                    self.pending_raw.clear();
                    let fields = Fields {
                        data: &self.fields[..self.fields_len],
                        ends: &self.ends[..self.ends_len],
                        gap: 0,
                    };
                    let result = record(
                        &mut self.builder,
                        &mut self.header,
                        &mut self.expect_header,
                        &mut self.error,
                        &mut self.skipped_rows,
                        &mut self.warnings,
                        fields,
                        self.record_line,
                        self.check_only,
                    );
                    self.fields_len = 0;
                    self.ends_len = 0;
                    result?;
                }
                ReadRecordResult::End => return Ok(()),
            }
        }
    }

    /// The fast path: takes the plain records at the start of `input` (and the blank lines
    /// between them), feeding each to the builder straight from `input`; returns what is left
    /// for csv-core, which starts with a record it must read (or is empty).
    fn feed_plain<'a>(&mut self, whole: &'a [u8]) -> &'a [u8] {
        let mut lines = self.lines;
        let mut input = whole;
        // Rows are queued (the block) and stored a column at a time; anything else that a record
        // does (a warning, a skipped row) waits until the rows before it are stored.
        let width = match &self.builder {
            Some(b) if !self.check_only => b.width(),
            _ => 0,
        };
        loop {
            // Line breaks at a record's start are blank lines, skipped as csv-core skips them.
            let skip = input
                .iter()
                .position(|&b| b != b'\n' && b != b'\r')
                .unwrap_or(input.len());
            if skip > 0 {
                lines += count_lines(&input[..skip], self.last_consumed);
                self.last_consumed = input[skip - 1];
                input = &input[skip..];
            }
            let Some(end) = split_record(input, &mut self.fast_ends, MAX_FIELDS, MAX_RECORD_BYTES)
            else {
                break;
            };
            // The line break (LF or CR: the record holds neither) is taken with the record, as
            // csv-core takes it.
            let terminator = input[end];
            let line = lines + 1;
            lines += 1;
            let fields = Fields {
                data: &input[..end],
                ends: &self.fast_ends,
                gap: 1,
            };
            if fields.len() == width && !is_blank(fields) {
                let start = whole.len() - input.len();
                self.block.push(start, &self.fast_ends, line);
                if self.block.len() == Block::ROWS {
                    flush_block(
                        &mut self.block,
                        &mut self.builder,
                        &mut self.warnings,
                        whole,
                    );
                }
            } else {
                flush_block(
                    &mut self.block,
                    &mut self.builder,
                    &mut self.warnings,
                    whole,
                );
                // A plain record never is a header here (the fast path starts after the header
                // and waits for a part's header), so it cannot fail.
                let _ = record(
                    &mut self.builder,
                    &mut self.header,
                    &mut self.expect_header,
                    &mut self.error,
                    &mut self.skipped_rows,
                    &mut self.warnings,
                    fields,
                    line,
                    self.check_only,
                );
            }
            self.last_consumed = terminator;
            input = &input[end + 1..];
        }
        flush_block(
            &mut self.block,
            &mut self.builder,
            &mut self.warnings,
            whole,
        );
        self.lines = lines;
        input
    }

    /// Fails the input on the record being read, naming the line it starts on; every later call
    /// fails the same way.
    fn refuse(&mut self, what: String) -> Error {
        let line = self.record_line;
        let e = Error::new(ErrorKind::Input, format!("line {line}: {what}"));
        self.error = Some(e.clone());
        e
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

/// Stores the queued rows, whose fields lie in `data`.
fn flush_block(
    block: &mut Block,
    builder: &mut Option<TableBuilder>,
    warnings: &mut Warnings,
    data: &[u8],
) {
    if block.len() == 0 {
        return;
    }
    if let Some(builder) = builder {
        builder.push_block(data, block, warnings);
    }
    block.clear();
}

/// One record read: the header (which sets up the builder), a later part's header (checked), or
/// a row for the builder, which starts on `line`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn record(
    builder: &mut Option<TableBuilder>,
    header: &mut Option<Vec<String>>,
    expect_header: &mut bool,
    error: &mut Option<Error>,
    skipped_rows: &mut u64,
    warnings: &mut Warnings,
    fields: Fields<'_>,
    line: u64,
    check_only: bool,
) -> Result<(), Error> {
    let n = fields.len();
    // A line of only spaces is as blank as an empty one.
    if is_blank(fields) {
        return Ok(());
    }
    if let Some(builder) = builder {
        if !*expect_header {
            if n == builder.width() {
                if !check_only {
                    builder.push_row(fields, || line, warnings);
                }
                return Ok(());
            }
            *skipped_rows += 1;
            let message = format!(
                "found a row with {n} fields, but the header has {}; the row is skipped",
                builder.width()
            );
            warnings.add(line, None, message);
            return Ok(());
        }
    }
    let Some(first) = header.as_deref() else {
        let written: Vec<String> = (0..n)
            .map(|i| String::from_utf8_lossy(fields.get(i)).into_owned())
            .collect();
        let built = TableBuilder::new(&written, line, warnings, check_only)
            .inspect_err(|e| *error = Some(e.clone()))?;
        *header = Some(written);
        *builder = Some(built);
        return Ok(());
    };
    *expect_header = false;
    let same = n == first.len()
        && (0..n).all(|i| same_header(&String::from_utf8_lossy(fields.get(i)), &first[i]));
    if !same {
        let e = Error::new(
            ErrorKind::Input,
            format!(
                "line {}: this part's header differs from the first part's; \
                 parts of one report must have the same columns",
                line
            ),
        );
        *error = Some(e.clone());
        return Err(e);
    }
    Ok(())
}

/// A record of one field of only white space (or nothing): a blank line.
#[inline(always)]
fn is_blank(fields: Fields<'_>) -> bool {
    fields.len() == 1 && fields.get(0).iter().all(u8::is_ascii_whitespace)
}

fn is_line_break(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// The lines that end in `bytes`, which follow the byte `before`: at each CR, and at each LF not
/// right after a CR (so CRLF is one line end, and a bare CR one too).
fn count_lines(bytes: &[u8], before: u8) -> u64 {
    let mut previous = before;
    let mut lines = 0;
    for &b in bytes {
        lines += u64::from(b == b'\r' || (b == b'\n' && previous != b'\r'));
        previous = b;
    }
    lines
}

/// Whether a record's raw bytes leave a quoted field open: read again with a line break after
/// them by a fresh csv-core reader, the line break does not end the record.
fn quote_left_open(raw: &[u8]) -> bool {
    let mut again = Reader::new();
    let input = [raw, b"\n"].concat();
    let mut out = vec![0u8; input.len()];
    let mut ends = vec![0usize; MAX_FIELDS];
    let (result, nin, _, _) = again.read_record(&input, &mut out, &mut ends);
    !(matches!(result, ReadRecordResult::Record) && nin == input.len())
}

fn same_header(a: &str, b: &str) -> bool {
    crate::schema::normalize_header(a) == crate::schema::normalize_header(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Granularity;
    use crate::table::{Data, Measure};

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

    fn warnings_of(
        csv: &[u8],
        chunk: usize,
        fast_path: bool,
    ) -> (Table, Vec<(u64, Option<String>)>) {
        let mut i = Ingester::new();
        i.fast_path = fast_path;
        for c in csv.chunks(chunk) {
            i.push(c).unwrap();
        }
        let t = i.finish().unwrap();
        let w = t
            .warnings
            .iter()
            .map(|w| (w.line, w.column.clone()))
            .collect();
        (t, w)
    }

    /// Line numbers counted only LF: a file with bare CR line ends reported every bad cell on
    /// line 1. Every line end (LF, CRLF, CR, mixed) counts one line, on both paths, in chunks of
    /// any size.
    #[test]
    fn line_numbers_count_every_line_ending() {
        let lf = "Instance user ID,Chat Events\n1,2\n\n\"x\ny\",3,4\n2,z\n3,\"4\nx\"\n4,5";
        let chat = Some("Chat Events".to_string());
        let want = vec![(4, None), (6, chat.clone()), (7, chat)];
        let mixed = lf.replacen('\n', "\r", 2).replacen('\n', "\r\n", 2);
        for csv in [
            lf.to_string(),
            lf.replace('\n', "\r"),
            lf.replace('\n', "\r\n"),
            mixed,
        ] {
            for size in 1..csv.len() {
                for fast_path in [true, false] {
                    let (t, w) = warnings_of(csv.as_bytes(), size, fast_path);
                    assert_eq!(w, want, "{csv:?} in chunks of {size}");
                    assert_eq!(t.rows, 4);
                }
            }
        }
    }

    /// A quote left open ran to the end of the input and took the rows after it into one field:
    /// reported a line early, and the next valid row vanished into a stored row without a word.
    #[test]
    fn an_unclosed_quote_is_reported_on_its_line_and_its_row_skipped() {
        let csv = b"Instance user ID,Chat Events\n1,2\n2,\"3\n3,4\n4,5\n";
        for size in 1..csv.len() {
            let (t, w) = warnings_of(csv, size, true);
            assert_eq!(w, vec![(3, None)], "chunks of {size}");
            assert!(
                t.warnings[0].message.contains("lines 3 to 5"),
                "{:?}",
                t.warnings
            );
            assert_eq!(t.rows, 1);
            assert_eq!(t.skipped_rows, 1);
        }
    }

    /// Blank lines before the header, or at the start of a later part, grew the raw bytes kept of
    /// the record in progress by every chunk: the record limit did not bound them.
    #[test]
    fn blank_lines_before_a_header_take_no_memory() {
        let chunk = vec![b'\n'; 64 << 10];
        let crs = vec![b'\r'; 64 << 10];
        let mut i = Ingester::new();
        for part in 0..2 {
            if part == 1 {
                i.start_part().unwrap();
            }
            for n in 0..48 {
                i.push(if n % 2 == 0 { &chunk } else { &crs }).unwrap();
                assert!(
                    i.pending_raw.capacity() < 64 << 10,
                    "part {part}, chunk {n}"
                );
            }
            i.push(b"Instance user ID,Chat Events\n1,2\n").unwrap();
        }
        let t = i.finish().unwrap();
        assert_eq!(t.rows, 2);
    }

    fn cut_off(chunks: &[&[u8]]) -> bool {
        let mut i = Ingester::new();
        for c in chunks {
            i.push(c).unwrap();
        }
        let streamed = i.ends_inside_record();
        assert_eq!(
            streamed,
            Ingester::body_ends_inside_record(&chunks.concat()),
            "{chunks:?}"
        );
        streamed
    }

    #[test]
    fn a_last_record_cut_off_is_told_from_a_complete_one() {
        let header: &[u8] = b"Instance user ID,Searches,Chat Events\r\n";
        assert!(!cut_off(&[header, b"1,2,3\r\n2,4,5\r\n"]));
        // No final line break, but every field is there.
        assert!(!cut_off(&[header, b"1,2,3\n2,4,5"]));
        assert!(cut_off(&[header, b"1,2,3\n2,4"]));
        assert!(cut_off(&[header, b"1,2,3\n\"2,", b"x\",4"]));
        // A quoted field left open, even with every field there.
        assert!(cut_off(&[header, b"1,2,\"3\n"]));
        assert!(!cut_off(&[header, b"1,2,\"3\"\n"]));
        assert!(!cut_off(&[header, b"1,2,\"3\""]));
        // Split at every byte: the same answers.
        let whole = b"Instance user ID,Searches\n1,\"a\nb\"\n2,3";
        let bytes: Vec<&[u8]> = whole.chunks(1).collect();
        assert!(!cut_off(&bytes));
        let cut = &whole[..whole.len() - 2];
        let bytes: Vec<&[u8]> = cut.chunks(1).collect();
        assert!(cut_off(&bytes));
        // A header alone, or nothing at all, is not cut off.
        assert!(!cut_off(&[b"Instance user ID,Searches"]));
        assert!(!cut_off(&[]));
        // Cut at every byte of a body: inside a record exactly when the cut leaves a quote open
        // or fewer fields than the header's three.
        let (head, first, second) = (
            &b"Instance user ID,Searches,Chat Events\n"[..],
            &b"1,\"x,\ny\",3\r\n"[..],
            &b"22,4,5\n"[..],
        );
        let body = [head, first, second].concat();
        for at in 0..=body.len() {
            let in_first = at.checked_sub(head.len()).filter(|r| (1..=8).contains(r));
            let in_second = at
                .checked_sub(head.len() + first.len())
                .filter(|r| (1..=4).contains(r));
            let want = in_first.is_some() || in_second.is_some();
            assert_eq!(cut_off(&[&body[..at]]), want, "cut at {at}");
            let bytes: Vec<&[u8]> = body[..at].chunks(3).collect();
            assert_eq!(cut_off(&bytes), want, "cut at {at}, 3-byte chunks");
        }
    }

    /// Everything an ingest gives: the table's rows written back, its summary, its warnings (line
    /// and column), and whether the input ended inside a record.
    fn outcome(csv: &[u8], chunk: usize, fast_path: bool) -> String {
        let mut i = Ingester::new();
        i.fast_path = fast_path;
        let mut pushed = Ok(());
        for c in csv.chunks(chunk.max(1)) {
            pushed = pushed.and_then(|()| i.push(c));
        }
        let inside = i.ends_inside_record();
        let table = pushed.and_then(|()| i.finish());
        match table {
            Err(e) => format!("error {e} / inside {inside}"),
            Ok(t) => format!(
                "{}\n{}\n{:?}\ninside {inside}",
                t.filtered_csv(&crate::Filter::default()).unwrap(),
                t.summarize(&crate::Query::default()).unwrap().to_json(),
                t.warnings
                    .iter()
                    .map(|w| (w.line, w.column.clone(), w.message.clone()))
                    .collect::<Vec<_>>(),
            ),
        }
    }

    // proptest does not build for wasm32, where `cargo clippy --all-targets` also looks.
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(400))]

        /// The fast path and csv-core alone read the same table, warnings and line numbers from
        /// any mix of plain and quoted records, CR, LF and CRLF line ends, blank lines and short or
        /// long rows, pushed in chunks of any size.
        #[test]
        fn the_fast_path_reads_what_csv_core_reads(
            cells in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::string::string_regex("[0-9]{0,3}").unwrap(),
                    proptest::string::string_regex("[a-z0-9 ,\"\r\n.-]{0,20}").unwrap(),
                    proptest::string::string_regex("\"[a-z0-9 ,\r\n]{0,6}\"").unwrap(),
                    proptest::strategy::Just("2025-01-02".to_string()),
                    proptest::strategy::Just("\r\n".to_string()),
                    proptest::strategy::Just("\n".to_string()),
                    proptest::strategy::Just("\r".to_string()),
                ],
                0..120,
            ),
            width in 1usize..5,
            chunk in 1usize..70,
        ) {
            let header = ["Instance user ID", "Timestamp Date", "Chat Events", "Language", "Team"];
            let mut csv = header[..width].join(",");
            csv.push('\n');
            for (i, cell) in cells.iter().enumerate() {
                csv.push_str(cell);
                csv.push(if i % width == width - 1 { '\n' } else { ',' });
            }
            let bytes = csv.as_bytes();
            proptest::prop_assert_eq!(outcome(bytes, chunk, true), outcome(bytes, chunk, false));
            proptest::prop_assert_eq!(outcome(bytes, bytes.len(), true), outcome(bytes, chunk, true));
        }
    }

    /// Bad cells in several columns of many blocks, short rows between them and more warnings
    /// than are kept: the blocks typed a column at a time report what csv-core's records, typed
    /// one at a time, report (the same first warnings, in line then column order, and count).
    #[test]
    fn blocks_report_warnings_in_input_order() {
        let mut csv = String::from(
            "Instance user ID,Timestamp Date,Chat Events,Active Sourcegraph User,Combined CAR\n",
        );
        for i in 0..3000 {
            let date = if i % 7 == 3 {
                "2025-13-01"
            } else {
                "2025-01-02"
            };
            let chat = if i % 5 == 1 {
                "x"
            } else if i % 11 == 4 {
                "-3"
            } else {
                "7"
            };
            let active = if i % 9 == 2 { "maybe" } else { "true" };
            let car = if i % 13 == 6 { "0.5.1" } else { "0.2500" };
            csv.push_str(&format!("{i},{date},{chat},{active},{car}\n"));
            if i % 400 == 17 {
                csv.push_str("1,2\n");
            }
        }
        let bytes = csv.as_bytes();
        let fast = outcome(bytes, 64 * 1024, true);
        assert_eq!(fast, outcome(bytes, 64 * 1024, false));
        assert_eq!(fast, outcome(bytes, 777, true));
        let count = |fast_path: bool| {
            let mut i = Ingester::new();
            i.fast_path = fast_path;
            i.push(bytes).unwrap();
            let t = i.finish().unwrap();
            (t.warnings.len(), t.warnings_total, t.skipped_rows)
        };
        let (kept, total, skipped) = count(true);
        assert_eq!((kept, total, skipped), count(false));
        assert_eq!(kept, Table::MAX_WARNINGS);
        assert!(total > kept as u64 && skipped == 8, "{total} {skipped}");
    }

    #[test]
    fn plain_and_quoted_records_read_alike_split_anywhere() {
        let csv: &[u8] = b"Instance user ID,Chat Events,Language\r\n1,2,go\r\n2,\"3\",\"a,\"\"b\"\"\nc\"\r\n\r\n3,,\rx,4\n5\n6,7,8,9\n7,8,\"rust\"";
        let whole = outcome(csv, csv.len(), true);
        assert_eq!(whole, outcome(csv, csv.len(), false));
        for size in 1..csv.len() {
            assert_eq!(outcome(csv, size, true), whole, "chunks of {size}");
        }
    }

    #[test]
    fn bom_split_across_chunks_is_dropped() {
        let t = ingest(&[
            b"\xEF",
            b"\xBB",
            b"\xBFInstance user ID,Searches\n",
            b"7,1\n",
        ])
        .unwrap();
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
            b"Instance user ID,Agent runs,Team,Agent success rate,Searches\n1,3,a,0.5,1\n2,,b,,1\n3,4,7,1,1\n",
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
        let capacity = hinted
            .builder
            .as_ref()
            .and_then(TableBuilder::date_capacity);
        let Some(capacity) = capacity else {
            panic!("no date column");
        };
        assert!(capacity >= 200_000, "{capacity} < 200000");
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
    fn a_lying_content_length_reserves_room_only_as_far_as_the_bytes_bear_it_out() {
        let mut csv = String::from("Instance user ID,Timestamp Date,Chat Events\n");
        for i in 0..100_000 {
            csv += &format!("{},2025-01-{:02},{}\n", i / 50, 1 + i % 28, i % 7);
        }
        let per_row = csv.len() as f64 / 100_000.0;
        // A server announcing 40 GB: the columns reserve for EXPECTED_AHEAD times what came.
        for piece in [csv.len(), 64 * 1024] {
            let mut lied_to = Ingester::new();
            lied_to.set_memory_budget(None);
            lied_to.expect_bytes(40_000_000_000);
            for chunk in csv.as_bytes().chunks(piece) {
                lied_to.push(chunk).unwrap();
            }
            let builder = lied_to.builder.as_ref().unwrap();
            let Some(capacity) = builder.date_capacity() else {
                panic!("no date column");
            };
            let most = ((EXPECTED_AHEAD * csv.len() as u64) as f64 / per_row * 1.02) as usize + 64;
            assert!(capacity <= most, "{capacity} > {most}");
            assert!(capacity > 400_000, "the hint is still used: {capacity}");
        }
        // A true size is believed once the bytes reach an eighth of it.
        let mut told = Ingester::new();
        told.set_memory_budget(None);
        told.expect_bytes(csv.len() as u64 * 3);
        told.push(csv.as_bytes()).unwrap();
        let capacity = told.builder.as_ref().unwrap().date_capacity().unwrap();
        assert!((300_000..320_000).contains(&capacity), "{capacity}");
    }

    #[test]
    fn under_a_memory_budget_a_lying_size_still_reserves_only_what_the_bytes_bear_out() {
        let mut csv = String::from("Instance user ID,Timestamp Date,Chat Events\n");
        for i in 0..100_000 {
            csv += &format!("{},2025-01-{:02},{}\n", i / 50, 1 + i % 28, i % 7);
        }
        // 2 GB announced, within a 3 GiB budget by the rows' size (about 10 table bytes a row of
        // 23 bytes), so not refused; but only the 2.3 MB sent are believed, times EXPECTED_AHEAD.
        let mut ingester = Ingester::new();
        ingester.set_memory_budget(Some(3 << 30));
        ingester.expect_bytes(2_000_000_000);
        ingester.push(csv.as_bytes()).unwrap();
        let builder = ingester.builder.as_ref().unwrap();
        let capacity = builder.date_capacity().expect("a date column");
        let per_row = csv.len() as f64 / builder.rows() as f64;
        let most = ((EXPECTED_AHEAD * csv.len() as u64) as f64 / per_row * 1.02) as usize + 64;
        assert!(capacity <= most, "{capacity} > {most}");
        assert!(capacity > 400_000, "the hint is still used: {capacity}");
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
