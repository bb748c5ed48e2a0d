//! Reading the records: plain records split in place ([`crate::scan`]), every other record read
//! by `csv-core`, both feeding the builder with the same fields and line numbers.

use csv_core::{ReadRecordResult, Reader};

use crate::builder::{Block, Fields, TableBuilder};
use crate::error::{Error, ErrorKind};
use crate::scan::split_record;
use crate::warning::Warnings;

use super::{Ingester, MAX_FIELDS, MAX_RECORD_BYTES};

impl Ingester {
    /// Reads the records in `input`; `at_end` says the data ends here (csv-core takes an empty
    /// input as the end of the data, so an empty input is only passed on then).
    pub(super) fn feed(&mut self, mut input: &[u8], at_end: bool) -> Result<(), Error> {
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

pub(super) fn is_line_break(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// The lines that end in `bytes`, which follow the byte `before`: at each CR, and at each LF not
/// right after a CR (so CRLF is one line end, and a bare CR one too).
pub(crate) fn count_lines(bytes: &[u8], before: u8) -> u64 {
    if memchr::memchr(b'\r', bytes).is_none() {
        // Line feeds alone (the usual case): counted many bytes at a time.
        let feeds = memchr::memchr_iter(b'\n', bytes).count() as u64;
        return feeds - u64::from(before == b'\r' && bytes.first() == Some(&b'\n'));
    }
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
    use super::count_lines;

    /// Every input of up to 7 bytes of `a`, CR and LF, after every kind of byte: the count
    /// many bytes at a time (no CR) and the byte-by-byte one (a CR) both count line ends as the
    /// reader does.
    #[test]
    fn count_lines_counts_lf_crlf_and_bare_cr_whatever_came_before() {
        fn by_hand(bytes: &[u8], before: u8) -> u64 {
            let mut lines = 0;
            for (i, &b) in bytes.iter().enumerate() {
                let previous = if i == 0 { before } else { bytes[i - 1] };
                if b == b'\r' || (b == b'\n' && previous != b'\r') {
                    lines += 1;
                }
            }
            lines
        }
        let alphabet = [b'a', b'\r', b'\n'];
        for len in 0..=7u32 {
            for n in 0..3usize.pow(len) {
                let bytes: Vec<u8> = (0..len).map(|i| alphabet[n / 3usize.pow(i) % 3]).collect();
                for before in [0, b'a', b'\r', b'\n'] {
                    assert_eq!(
                        count_lines(&bytes, before),
                        by_hand(&bytes, before),
                        "{bytes:?} after {before}"
                    );
                }
            }
        }
        assert_eq!(count_lines(b"\n\n", b'\r'), 1);
    }
}
