//! `sg-analytics convert`: the export as Parquet, one file (`-o OUT.parquet`) or Hive-style month
//! partitions (`--out-dir DIR`: `DIR/month=YYYY-MM/part-0.parquet`), written as the rows are read,
//! in bounded memory. The typing and the row groups are the library's (`ParquetLayout`,
//! `ParquetSink`); this file only reads the input (twice when its unknown columns need every
//! cell to be typed); the files are placed by `crate::parts`, each written beside its target
//! under a temporary name and renamed over it (the partitions all written before any is
//! renamed).

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Cursor, Read, Seek, Write};
use std::path::Path;

use sg_analytics::{ChunkEnd, Chunker, Error, LayoutLearner, ParquetLayout, Partition};

use crate::input;
use crate::output::AtomicFile;

/// Where `convert` writes.
pub enum Target<'a> {
    /// One file.
    File(&'a Path),
    /// A folder of `month=YYYY-MM/part-0.parquet` partitions.
    Dir(&'a Path),
}

impl Target<'_> {
    /// A path in the folder the output goes to, for a temporary file beside it.
    fn beside(&self) -> std::path::PathBuf {
        match self {
            Target::File(path) => path.to_path_buf(),
            Target::Dir(dir) => dir.join("spool"),
        }
    }
}

/// The bytes of a header line past which the input is not an export.
const MAX_HEADER_BYTES: u64 = 16 << 20;

/// Reads the export at `input` (stdin for `None` or `-`) on `threads` threads and writes it as
/// Parquet to `target`; returns what to tell the user on stderr, and what the input's end
/// found (its warnings). Memory: the chunks being read and one window of row groups, never the
/// export. An export with unknown columns is read twice (the first time to type them by all
/// their cells); from stdin, the first reading keeps a copy in a temporary file beside the
/// output for the second.
pub fn convert(
    input: Option<&Path>,
    threads: usize,
    target: Target,
) -> Result<(String, ChunkEnd), String> {
    let path = input.filter(|p| p.as_os_str() != "-");
    let name = path.map_or("stdin".to_string(), |p| p.display().to_string());
    let mut reader: Box<dyn BufRead + Send> = match path {
        Some(p) => Box::new(BufReader::new(
            File::open(p).map_err(|e| format!("cannot open {}: {e}", p.display()))?,
        )),
        None => Box::new(BufReader::new(io::stdin())),
    };
    let head = read_header(&mut reader).map_err(|e| format!("reading {name}: {e}"))?;
    let mut header = Chunker::new(1);
    let read = |e: Error| format!("{name}: {e}");
    header.push(&head).map_err(read)?;
    let (columns, _) = header.finish().map_err(read)?;
    let whole: Box<dyn Read + Send> = Box::new(Cursor::new(head).chain(reader));
    // Kept until the end: the copy of stdin (removed when dropped).
    let mut spool = None;
    let (layout, second) = if LayoutLearner::needs_every_row(&columns) {
        let mut learner = LayoutLearner::default();
        let first: Box<dyn Read + Send> = match path {
            Some(_) => whole,
            None => {
                let copy = spool.insert(AtomicFile::create(&target.beside())?);
                let file = copy.file().try_clone().map_err(|e| e.to_string())?;
                Box::new(Tee {
                    input: whole,
                    copy: BufWriter::new(file),
                })
            }
        };
        let (last, _) = input::chunks_from(&name, first, threads, |chunk| {
            learner.add(&chunk);
            Ok(())
        })?;
        learner.add(&last);
        let second: Box<dyn Read + Send> = match (path, spool.as_mut()) {
            (Some(p), _) => {
                Box::new(File::open(p).map_err(|e| format!("cannot open {}: {e}", p.display()))?)
            }
            (None, Some(copy)) => {
                let mut file = copy.file().try_clone().map_err(|e| e.to_string())?;
                file.rewind().map_err(|e| e.to_string())?;
                Box::new(file)
            }
            (None, None) => unreachable!("the copy is made above"),
        };
        (learner.finish(&last), second)
    } else {
        (LayoutLearner::default().finish(&columns), whole)
    };
    let what = format!(
        "{}, {} columns",
        layout.granularity(),
        layout.columns().len()
    );
    let written = write(&name, second, threads, layout, &target);
    drop(spool);
    let (rows, partitions, end) = written?;
    let message = match target {
        Target::File(path) => format!("{rows} rows written to {} ({what})", path.display()),
        Target::Dir(dir) => {
            let undated =
                partitions
                    .iter()
                    .find(|p| p.month.is_none())
                    .map_or(String::new(), |p| {
                        format!(
                            "; {} row(s) without a date went to {}",
                            p.rows,
                            p.dir_name()
                        )
                    });
            let months = partitions.iter().filter(|p| p.month.is_some()).count();
            format!(
                "{rows} rows written to {} as {months} month partition(s) ({what}){undated}",
                dir.display()
            )
        }
    };
    Ok((message, end))
}

type Written = (usize, Vec<Partition>, ChunkEnd);

/// Reads `input` into the Parquet of `layout` at `target`: the rows written, the partitions
/// (`--out-dir`) and what the input's end found.
fn write(
    name: &str,
    input: Box<dyn Read + Send>,
    threads: usize,
    layout: ParquetLayout,
    target: &Target,
) -> Result<Written, String> {
    let mut rows = 0;
    let mut end = None;
    let feed = |add: &mut dyn FnMut(sg_analytics::Chunk) -> Result<(), Error>| {
        let (last, found) = input::chunks_from(name, input, threads, |chunk| {
            rows += chunk.rows();
            add(chunk)
        })?;
        rows += last.rows();
        add(last).map_err(|e| crate::parts::said(name, e))?;
        end = Some(found);
        Ok::<(), String>(())
    };
    let partitions = match target {
        Target::File(path) => {
            crate::parts::write_file(path, name, layout, |sink| {
                feed(&mut |chunk| sink.add(chunk))
            })?;
            Vec::new()
        }
        Target::Dir(dir) => crate::parts::write(
            dir,
            name,
            layout,
            |sink| feed(&mut |chunk| sink.add(chunk)),
            |_| Ok(()),
        )?,
    };
    let end = end.ok_or("the input was not read")?;
    Ok((rows, partitions, end))
}

/// The input's first bytes up to the end of its first line that is not blank (the header):
/// what tells its columns.
fn read_header(reader: &mut dyn BufRead) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    loop {
        let start = head.len();
        let n = reader.take(MAX_HEADER_BYTES).read_until(b'\n', &mut head)?;
        if n == 0 || head[start..].iter().any(|b| !b.is_ascii_whitespace()) {
            return Ok(head);
        }
        if head.len() as u64 > MAX_HEADER_BYTES {
            return Ok(head);
        }
    }
}

/// Reads `input`, keeping a copy of every byte in `copy`.
struct Tee {
    input: Box<dyn Read + Send>,
    copy: BufWriter<File>,
}

impl Read for Tee {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.input.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        if n == 0 {
            self.copy.flush()?;
        }
        Ok(n)
    }
}
