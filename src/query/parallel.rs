//! An export read into chunks of rows on several threads, with the rows, warnings and line
//! numbers of one ingester reading it all in order.
//!
//! The input is cut into pieces of a few megabytes, each ending with a line feed. The first is
//! read here (its header tells the columns); each later one is read on a worker by an ingester
//! that goes on from the start of a record at the line the piece starts on
//! ([`Ingester::continuing`]), on the guess that the piece starts a record. The guess is checked
//! in order: it holds when the ingester of the pieces before ended between two records at that
//! very line ([`Ingester::at_record_start`]). When it does not (a quoted field with a line break
//! across the cut, which exports do not have), the piece is read again by that ingester, in
//! order, and the guess thrown away: the answer never depends on where the input was cut.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use crate::error::{Error, ErrorKind};
use crate::ingest::{count_lines, Ending, Ingester};
use crate::table::Table;
use crate::warning::Warning;

use super::stream::{Chunk, ChunkEnd};

/// The bytes of a piece: a few megabytes, so that a piece is a few hundred thousand rows and
/// the pieces in flight (a few per thread) stay far below the export.
const PIECE_BYTES: usize = 16 << 20;

/// The `lines_before` of a piece that stands for a read error (its message in its bytes).
const FAILED: u64 = u64::MAX;

/// Reads `input` into chunks of rows, handing each to `each` in the export's order, with
/// `threads` threads reading and parsing (1: all on the calling thread, which always runs
/// `each`); returns the last chunk and what the whole input found. The chunks, warnings and line
/// numbers are those of one [`Ingester`] reading the whole input. Stops at the first error,
/// of the input or of `each`.
pub fn read_chunks(
    input: impl Read + Send,
    threads: usize,
    each: impl FnMut(Chunk) -> Result<(), Error>,
) -> Result<(Chunk, ChunkEnd), Error> {
    read_pieces(input, threads, PIECE_BYTES, each)
}

/// [`read_chunks`] with pieces of about `piece_bytes` (at least 1): where the input is cut never
/// changes the answer, which the tests check by cutting it everywhere.
pub fn read_pieces(
    input: impl Read + Send,
    threads: usize,
    piece_bytes: usize,
    mut each: impl FnMut(Chunk) -> Result<(), Error>,
) -> Result<(Chunk, ChunkEnd), Error> {
    let threads = threads.max(1);
    let piece_bytes = piece_bytes.max(1);
    if threads == 1 {
        // All on this thread: cut, read and handed on in turn.
        let mut pieces = Splitter::new(input, piece_bytes, None, None);
        let mut order = Order::new();
        while let Some(piece) = pieces.next_piece() {
            order.read_here(&piece, &mut each)?;
        }
        return order.finish(&mut each);
    }
    let stop = AtomicBool::new(false);
    let stop = &stop;
    std::thread::scope(|scope| {
        let (piece_tx, piece_rx) = mpsc::sync_channel::<Piece>(threads);
        let (spare_tx, spare_rx) = mpsc::sync_channel::<Vec<u8>>(2 * threads);
        scope.spawn(move || split(input, piece_bytes, spare_rx, &piece_tx, stop));
        // However this ends, the reading stops (not waiting for the rest of a pipe).
        let _stop = StopOnDrop(stop);
        let mut pieces = piece_rx.into_iter();
        let mut order = Order::new();
        // The first piece is read here: its header tells the workers the columns.
        let Some(first) = pieces.next() else {
            return order.finish(&mut each);
        };
        order.read_here(&first, &mut each)?;
        let Some(header) = order.header() else {
            // No header yet (blank lines, or a header longer than a piece): in order, here.
            for piece in pieces {
                order.read_here(&piece, &mut each)?;
            }
            return order.finish(&mut each);
        };
        let (work_tx, work_rx) = mpsc::sync_channel::<Piece>(threads);
        let work_rx = Arc::new(Mutex::new(work_rx));
        let (done_tx, done_rx) = mpsc::sync_channel::<Parsed>(2 * threads);
        for _ in 0..threads {
            let (work_rx, done_tx, header) =
                (Arc::clone(&work_rx), done_tx.clone(), header.clone());
            scope.spawn(move || work(&work_rx, &done_tx, &header));
        }
        drop(done_tx);
        // Pieces are handed out from a thread of their own, so that this one only takes the
        // parsed pieces back, in order.
        scope.spawn(move || {
            for piece in pieces {
                if work_tx.send(piece).is_err() {
                    break;
                }
            }
        });
        let mut waiting: BTreeMap<u64, Parsed> = BTreeMap::new();
        for parsed in done_rx.iter() {
            waiting.insert(parsed.piece.index, parsed);
            while let Some(parsed) = waiting.remove(&order.next) {
                // On an error the channels close as this returns: the threads stop.
                let bytes = order.take(parsed, &mut each)?;
                // Its buffer is filled again (or freed, when enough are waiting).
                let _ = spare_tx.try_send(bytes);
            }
        }
        order.finish(&mut each)
    })
}

/// Sets the flag when dropped.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A piece of the input: whole lines (but perhaps the last), the how-manieth, and the lines
/// ended before it.
struct Piece {
    index: u64,
    bytes: Vec<u8>,
    lines_before: u64,
}

/// A piece read by a worker on the guess that it starts a record.
struct Parsed {
    piece: Piece,
    read: Result<(Table, Ingester), Error>,
}

/// Cuts an input into pieces after a line feed, counting the lines before each; a read error
/// ends the input with a piece that fails.
struct Splitter<'a, R> {
    input: R,
    /// Set when nobody wants the rest: the reading stops between two reads.
    stop: Option<&'a AtomicBool>,
    size: usize,
    buf: Vec<u8>,
    /// Buffers of pieces read, handed back to be filled again: a buffer new from the allocator
    /// costs a page fault a page.
    spare: Option<Receiver<Vec<u8>>>,
    index: u64,
    lines: u64,
    last: u8,
    ended: bool,
}

impl<'a, R: Read> Splitter<'a, R> {
    fn new(
        input: R,
        size: usize,
        spare: Option<Receiver<Vec<u8>>>,
        stop: Option<&'a AtomicBool>,
    ) -> Splitter<'a, R> {
        Splitter {
            input,
            stop,
            size,
            buf: piece_buffer(size),
            spare,
            index: 0,
            lines: 0,
            last: 0,
            ended: false,
        }
    }

    /// The next piece, or `None` at the end (after a failed piece too) or when stopped.
    fn next_piece(&mut self) -> Option<Piece> {
        let mut want = self.size;
        loop {
            // Fill to a piece's size (or the end).
            while !self.ended && self.buf.len() < want {
                if self.stop.is_some_and(|stop| stop.load(Ordering::Relaxed)) {
                    return None;
                }
                let at = self.buf.len();
                self.buf.resize(at + (want - at).clamp(1, 256 << 10), 0);
                match self.input.read(&mut self.buf[at..]) {
                    Ok(0) => {
                        self.buf.truncate(at);
                        self.ended = true;
                    }
                    Ok(n) => self.buf.truncate(at + n),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => self.buf.truncate(at),
                    Err(e) => {
                        self.ended = true;
                        self.buf = Vec::new();
                        return Some(Piece {
                            index: self.index,
                            bytes: format!("cannot read the input: {e}").into_bytes(),
                            lines_before: FAILED,
                        });
                    }
                }
            }
            let cut = if self.ended {
                self.buf.len()
            } else {
                match memchr::memrchr(b'\n', &self.buf) {
                    Some(i) => i + 1,
                    // No line feed in a whole piece: it grows by another.
                    None => {
                        want = self.buf.len() + self.size;
                        continue;
                    }
                }
            };
            if cut == 0 {
                return None;
            }
            let mut next = match self.spare.as_ref().and_then(|spare| spare.try_recv().ok()) {
                Some(mut spare) => {
                    spare.clear();
                    spare
                }
                None => piece_buffer(self.size),
            };
            next.extend_from_slice(&self.buf[cut..]);
            self.buf.truncate(cut);
            let bytes = std::mem::replace(&mut self.buf, next);
            let lines_before = self.lines;
            self.lines += count_lines(&bytes, self.last);
            self.last = bytes[bytes.len() - 1];
            let index = self.index;
            self.index += 1;
            return Some(Piece {
                index,
                bytes,
                lines_before,
            });
        }
    }
}

/// An empty buffer for a piece of about `size` bytes: room for the piece and one read past it
/// (the bytes after its last line feed, which start the next piece).
fn piece_buffer(size: usize) -> Vec<u8> {
    Vec::with_capacity(size + (1 << 18))
}

/// Sends the pieces of `input` to `out` until the end, or until `stop` is set or nobody takes
/// them.
fn split(
    input: impl Read,
    size: usize,
    spare: Receiver<Vec<u8>>,
    out: &SyncSender<Piece>,
    stop: &AtomicBool,
) {
    let mut pieces = Splitter::new(input, size, Some(spare), Some(stop));
    while let Some(piece) = pieces.next_piece() {
        if out.send(piece).is_err() {
            return;
        }
    }
}

/// A worker: reads pieces on the guess that each starts a record.
fn work(pieces: &Mutex<Receiver<Piece>>, done: &SyncSender<Parsed>, header: &[String]) {
    loop {
        let piece = match pieces.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(piece) = piece else { return };
        let read = if piece.lines_before == FAILED {
            Err(Error::new(ErrorKind::Input, "a read error"))
        } else {
            guess(&piece, header)
        };
        if done.send(Parsed { piece, read }).is_err() {
            return;
        }
    }
}

/// Reads a piece as if it started a record on its line.
fn guess(piece: &Piece, header: &[String]) -> Result<(Table, Ingester), Error> {
    let mut ingester = Ingester::continuing(header, piece.lines_before)?;
    ingester.push(&piece.bytes)?;
    let rows = ingester
        .take_rows()
        .expect("a continuing ingester has its header");
    Ok((rows, ingester))
}

/// The pieces put back in order: the ingester that read the last piece taken, and what the
/// ingesters before it found.
struct Order {
    next: u64,
    carrier: Ingester,
    /// What the finished ingesters found, in order.
    ending: Option<Ending>,
}

impl Order {
    fn new() -> Order {
        Order {
            next: 0,
            carrier: Ingester::new(),
            ending: None,
        }
    }

    fn header(&self) -> Option<Vec<String>> {
        self.carrier.header().map(<[String]>::to_vec)
    }

    /// Reads the next piece with the ingester of the pieces before.
    fn read_here(
        &mut self,
        piece: &Piece,
        each: &mut impl FnMut(Chunk) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if piece.lines_before == FAILED {
            return fail_read(piece);
        }
        self.next = piece.index + 1;
        self.carrier.push(&piece.bytes)?;
        match self.carrier.take_rows() {
            Some(rows) if rows.rows > 0 => each(Chunk(rows)),
            _ => Ok(()),
        }
    }

    /// Takes the next piece read on a guess: its rows when the guess holds, else it is read
    /// again here; returns the piece's bytes.
    fn take(
        &mut self,
        parsed: Parsed,
        each: &mut impl FnMut(Chunk) -> Result<(), Error>,
    ) -> Result<Vec<u8>, Error> {
        let Parsed { piece, read } = parsed;
        if piece.lines_before == FAILED {
            return fail_read(&piece);
        }
        let holds = self.carrier.at_record_start() && self.carrier.lines() == piece.lines_before;
        if !holds {
            self.read_here(&piece, each)?;
            return Ok(piece.bytes);
        }
        self.next = piece.index + 1;
        let (rows, ingester) = read?;
        let before = std::mem::replace(&mut self.carrier, ingester);
        let (last, ending) = before.finish_rows()?;
        if last.rows > 0 {
            each(Chunk(last))?;
        }
        self.ending = Some(match self.ending.take() {
            Some(earlier) => earlier.then(ending),
            None => ending,
        });
        if rows.rows > 0 {
            each(Chunk(rows))?;
        }
        Ok(piece.bytes)
    }

    fn finish(
        self,
        _each: &mut impl FnMut(Chunk) -> Result<(), Error>,
    ) -> Result<(Chunk, ChunkEnd), Error> {
        let (last, ending) = self.carrier.finish_rows()?;
        let ending = match self.ending {
            Some(earlier) => earlier.then(ending),
            None => ending,
        };
        Ok((Chunk(last), ChunkEnd(ending)))
    }
}

fn fail_read<T>(piece: &Piece) -> Result<T, Error> {
    let message = String::from_utf8_lossy(&piece.bytes);
    Err(Error::new(ErrorKind::Input, message.into_owned()))
}

impl Ending {
    /// What an input found, followed by what the input after it found.
    fn then(mut self, next: Ending) -> Ending {
        self.skipped_rows += next.skipped_rows;
        let room = Table::MAX_WARNINGS.saturating_sub(self.warnings.list.len());
        let kept: Vec<Warning> = next.warnings.list.into_iter().take(room).collect();
        self.warnings.list.extend(kept);
        self.warnings.total += next.warnings.total;
        for (mine, theirs) in self.first_negatives.iter_mut().zip(next.first_negatives) {
            *mine = mine.or(theirs);
        }
        self
    }
}
