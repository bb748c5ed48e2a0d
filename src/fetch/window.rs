//! A month window's body, checked as it streams in: it must not be empty, and every row's date
//! must fall inside the window (for month rows: the window's month), so that a server or proxy
//! that ignored the dates can neither multiply nor drop rows silently. The body is held until it
//! is complete and checked, so that a window cut short is fetched again without touching the
//! report (the ingester cannot take rows back); it is held in pieces of [`SEGMENT`] bytes, never
//! copied into a larger buffer as it grows.

use csv_core::{ReadFieldResult, Reader};

use crate::date::{format_day, month_end, parse_date, parse_day};
use crate::schema::KnownColumn;

use super::error::{FetchCode, FetchError};

/// The size of the pieces a window's body is held in.
const SEGMENT: usize = 64 * 1024;

/// Header cells longer than this cannot name the date column; date cells longer than this are no
/// date. What is kept of a cell is cut there, so a hostile cell costs nothing.
const CELL_CAP: usize = 128;

/// A body held in pieces: its memory is its size (plus at most one piece), with no copy as it
/// grows.
#[derive(Default)]
pub(super) struct Segments {
    pieces: Vec<Vec<u8>>,
    len: u64,
}

impl Segments {
    pub(super) fn push(&mut self, mut chunk: &[u8]) {
        self.len += chunk.len() as u64;
        while !chunk.is_empty() {
            match self.pieces.last_mut() {
                Some(last) if last.len() < last.capacity() => {
                    let n = (last.capacity() - last.len()).min(chunk.len());
                    last.extend_from_slice(&chunk[..n]);
                    chunk = &chunk[n..];
                }
                _ => self.pieces.push(Vec::with_capacity(SEGMENT)),
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> u64 {
        self.len
    }

    /// The pieces, in order, handed over (the memory goes with them piece by piece).
    pub(super) fn take(&mut self) -> std::vec::Drain<'_, Vec<u8>> {
        self.len = 0;
        self.pieces.drain(..)
    }
}

/// Checks a window's rows against its dates as its body streams in.
pub(super) struct WindowCheck {
    start: i32,
    end: i32,
    reader: Reader,
    out: Vec<u8>,
    /// The field being read, within its record.
    field: usize,
    /// The cell being read, when it is one that matters (cut at [`CELL_CAP`]).
    cell: Vec<u8>,
    /// The line the record being read started on.
    record_line: u64,
    /// `None` while the header is read; then the date column, if the export has one.
    date_column: Option<Option<usize>>,
    /// The date column found in the header so far.
    header_date: Option<usize>,
    /// Anything but white space seen.
    content: bool,
    first_byte: bool,
}

impl WindowCheck {
    /// A check for the window `start..=end` (`YYYY-MM-DD`, as planned).
    pub(super) fn new(start: &str, end: &str) -> WindowCheck {
        WindowCheck {
            start: parse_day(start).unwrap_or(i32::MIN),
            end: parse_day(end).unwrap_or(i32::MAX),
            reader: Reader::new(),
            out: vec![0; 4096],
            field: 0,
            cell: Vec::new(),
            record_line: 1,
            date_column: None,
            header_date: None,
            content: false,
            first_byte: true,
        }
    }

    fn span(&self) -> String {
        format!("{} to {}", format_day(self.start), format_day(self.end))
    }

    /// Reads the next chunk of the body; fails at the first row outside the window.
    pub(super) fn push(&mut self, mut input: &[u8]) -> Result<(), FetchError> {
        if self.first_byte && !input.is_empty() {
            self.first_byte = false;
            input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
        }
        self.content |= !input.iter().all(u8::is_ascii_whitespace);
        self.read(input, false)
    }

    /// The body is complete: an empty window is an error.
    pub(super) fn finish(&mut self) -> Result<(), FetchError> {
        if !self.content {
            return Err(FetchError::new(
                FetchCode::BadWindow,
                format!(
                    "The window {} came back empty (not even a header row): the report would \
                     silently lack that month. Fetch again.",
                    self.span()
                ),
            ));
        }
        self.read(&[], true)
    }

    fn read(&mut self, mut input: &[u8], at_end: bool) -> Result<(), FetchError> {
        loop {
            if self.field == 0 && self.cell.is_empty() {
                self.record_line = self.reader.line();
            }
            let (result, nin, nout) = self.reader.read_field(input, &mut self.out);
            input = &input[nin..];
            let keep = match self.date_column {
                None => true,
                Some(column) => column == Some(self.field),
            };
            if keep && self.cell.len() < CELL_CAP {
                let n = nout.min(CELL_CAP - self.cell.len());
                self.cell.extend_from_slice(&self.out[..n]);
            }
            match result {
                ReadFieldResult::InputEmpty if !at_end => return Ok(()),
                ReadFieldResult::InputEmpty | ReadFieldResult::OutputFull => {}
                ReadFieldResult::Field { record_end } => {
                    self.end_field()?;
                    self.field = if record_end { 0 } else { self.field + 1 };
                    if record_end && self.date_column.is_none() {
                        self.date_column = Some(self.header_date);
                    }
                }
                ReadFieldResult::End => return Ok(()),
            }
            // csv-core takes an empty input as the end of the data: only at the end, then.
            if input.is_empty() && !at_end {
                return Ok(());
            }
        }
    }

    fn end_field(&mut self) -> Result<(), FetchError> {
        let cell = std::mem::take(&mut self.cell);
        let text = String::from_utf8_lossy(&cell);
        match self.date_column {
            None => {
                let date_header = matches!(
                    KnownColumn::from_header(text.trim_start_matches('\u{feff}')),
                    Some(KnownColumn::TimestampDate | KnownColumn::TimestampMonth)
                );
                if date_header && self.header_date.is_none() {
                    self.header_date = Some(self.field);
                }
                Ok(())
            }
            Some(Some(column)) if column == self.field => self.check_date(text.trim()),
            Some(_) => Ok(()),
        }
    }

    fn check_date(&self, cell: &str) -> Result<(), FetchError> {
        let Some(date) = parse_date(cell) else {
            // Not a date: the ingester warns about it with its line and column.
            return Ok(());
        };
        // A month row stands for its whole month: it belongs when that month overlaps.
        let outside = if date.month_only {
            date.day > self.end || month_end(date.day) < self.start
        } else {
            date.day < self.start || date.day > self.end
        };
        if !outside {
            return Ok(());
        }
        Err(FetchError::new(
            FetchCode::BadWindow,
            format!(
                "The window {} holds a row dated {cell} (line {}), outside the dates asked for: \
                 the server, or a proxy on the way, ignored startDate and endDate, so joining the \
                 windows would count rows twice or in the wrong month. No report is shown. Check \
                 the proxy, or fetch without month windows.",
                self.span(),
                self.record_line
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(start: &str, end: &str, body: &[u8], chunk: usize) -> Result<(), FetchError> {
        let mut w = WindowCheck::new(start, end);
        for piece in body.chunks(chunk.max(1)) {
            w.push(piece)?;
        }
        w.finish()
    }

    #[test]
    fn month_windows_must_hold_their_own_rows_at_any_chunking() {
        let header = "\u{feff}Instance user ID,Timestamp Date,Searches\n";
        let inside = format!("{header}1,2025-01-15,1\n\n1,\"2025-01-31\",2\n");
        let outside = format!("{header}1,2025-01-15,1\n1,2025-02-01,2");
        for chunk in [1, 2, 3, 7, 4096] {
            assert!(check("2025-01-15", "2025-01-31", inside.as_bytes(), chunk).is_ok());
            assert!(check("2025-01-15", "2025-01-31", header.as_bytes(), chunk).is_ok());
            let e = check("2025-01-15", "2025-01-31", b" \r\n", chunk).unwrap_err();
            assert_eq!(e.code, FetchCode::BadWindow);
            assert!(e.message.contains("came back empty"), "{e}");
            let e = check("2025-02-01", "2025-02-10", inside.as_bytes(), chunk).unwrap_err();
            assert_eq!(e.code, FetchCode::BadWindow);
            assert!(
                e.message.contains("2025-01-15") && e.message.contains("line 2"),
                "{chunk}: {e}"
            );
            // The last row, without its line break, is checked too.
            let e = check("2025-01-15", "2025-01-31", outside.as_bytes(), chunk).unwrap_err();
            assert!(e.message.contains("2025-02-01 (line 3)"), "{chunk}: {e}");
        }
        // Month rows belong to a window their month overlaps.
        let months = b"Instance user ID,Timestamp Month,Searches\n1,2025-02-01,3\n";
        assert!(check("2025-02-01", "2025-02-10", months, 5).is_ok());
        assert!(check("2025-01-15", "2025-01-31", months, 5).is_err());
        // No date column (by_user): nothing to check.
        assert!(check(
            "2025-01-15",
            "2025-01-31",
            b"Instance user ID,Searches\n1,3\n",
            1
        )
        .is_ok());
    }

    #[test]
    fn segments_hold_a_body_in_pieces_without_regrowing() {
        let mut s = Segments::default();
        let body: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        for piece in body.chunks(999) {
            s.push(piece);
        }
        assert_eq!(s.len(), body.len() as u64);
        assert!(s.pieces.iter().all(|p| p.capacity() == SEGMENT));
        let joined: Vec<u8> = s.take().flatten().collect();
        assert_eq!(joined, body);
        assert_eq!(s.len(), 0);
    }
}
