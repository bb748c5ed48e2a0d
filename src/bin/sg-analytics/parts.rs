//! The Parquet files of `convert` and `fetch`: one file ([`write_file`]), or month partitions
//! written into a dataset folder (`DIR/month=YYYY-MM/part-0.parquet`, [`write`]): every file
//! written as the rows come, under a temporary name beside its target, then, once all are
//! complete (and checked), all renamed, oldest month first. What a folder holds is read by
//! `crate::dataset`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use sg_analytics::{Error, ErrorKind, ParquetLayout, ParquetSink, Partition, Split};

use crate::output::{write_atomically, AtomicFile};

/// The file name of a partition's data inside its `month=YYYY-MM` folder.
pub const PART_FILE: &str = "part-0.parquet";

/// The sink the rows are written into, one file per month.
pub type Sink<'a> = ParquetSink<BufWriter<File>, Opener<'a>>;

/// Opens a partition's file (its temporary one).
pub type Opener<'a> = Box<dyn FnMut(&Partition) -> io::Result<BufWriter<File>> + 'a>;

/// Writes the rows `feed` puts into the sink as month partitions of `dir` (created if missing),
/// replacing those present; `source` names the input in the errors of its cells. `check` sees the partitions written (their rows counted) before any
/// is renamed over its target. When `feed`, the writing or `check` fails, or the run is
/// interrupted before the renames, the folder is left as it was (the month folders made are
/// removed); a run stopped between two renames leaves whole files, whose newest month is still
/// fetched again by the next incremental run. Returns the partitions, oldest month first.
pub fn write(
    dir: &Path,
    source: &str,
    layout: ParquetLayout,
    feed: impl FnOnce(&mut Sink<'_>) -> Result<(), String>,
    check: impl FnOnce(&[Partition]) -> Result<(), String>,
) -> Result<Vec<Partition>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut made: Vec<PathBuf> = Vec::new();
    let mut files: Vec<(String, AtomicFile)> = Vec::new();
    let written =
        write_all(dir, source, layout, feed, &mut made, &mut files).and_then(|partitions| {
            check(&partitions)?;
            Ok(partitions)
        });
    let partitions = match written {
        Ok(partitions) => partitions,
        Err(e) => {
            // The temporary files go with `files`; then the folders made are empty.
            drop(files);
            for folder in made.iter().rev() {
                let _ = std::fs::remove_dir(folder);
            }
            return Err(e);
        }
    };
    for partition in &partitions {
        let name = partition.dir_name();
        if let Some(at) = files.iter().position(|(n, _)| *n == name) {
            files.swap_remove(at).1.commit()?;
        }
    }
    Ok(partitions)
}

fn write_all(
    dir: &Path,
    source: &str,
    layout: ParquetLayout,
    feed: impl FnOnce(&mut Sink<'_>) -> Result<(), String>,
    made: &mut Vec<PathBuf>,
    files: &mut Vec<(String, AtomicFile)>,
) -> Result<Vec<Partition>, String> {
    let open: Opener<'_> = Box::new(|partition: &Partition| {
        let folder = dir.join(partition.dir_name());
        let failed = io::Error::other;
        if !folder.is_dir() {
            std::fs::create_dir(&folder)
                .map_err(|e| failed(format!("cannot create {}: {e}", folder.display())))?;
            made.push(folder.clone());
        }
        let target = folder.join(PART_FILE);
        let mut file = AtomicFile::create(&target).map_err(failed)?;
        let handle = file
            .file()
            .try_clone()
            .map_err(|e| failed(format!("cannot write {}: {e}", target.display())))?;
        files.push((partition.dir_name(), file));
        Ok(BufWriter::new(handle))
    });
    let mut sink = ParquetSink::new(layout, Split::ByMonth, open);
    feed(&mut sink)?;
    let done = sink.finish().map_err(|e| said(source, e))?;
    let mut partitions = Vec::with_capacity(done.len());
    for (partition, out) in done {
        out.into_inner()
            .map_err(|e| e.into_error())
            .and_then(|mut f| f.flush())
            .map_err(|e| {
                format!(
                    "cannot write {}/{}/{PART_FILE}: {e}",
                    dir.display(),
                    partition.dir_name()
                )
            })?;
        partitions.push(partition);
    }
    Ok(partitions)
}

/// An error of the Parquet written from `source`: one of its cells' (a row that does not fit
/// its column's type) says the source, as the errors of reading it do.
pub fn said(source: &str, e: Error) -> String {
    match e.kind() {
        ErrorKind::Input => format!("{source}: {e}"),
        _ => e.to_string(),
    }
}

/// The sink of one file.
pub type FileSink<'a, 'b> = ParquetSink<&'a mut BufWriter<&'b mut File>, FileOpener<'a, 'b>>;

/// Opens the one file (once).
pub type FileOpener<'a, 'b> =
    Box<dyn FnMut(&Partition) -> io::Result<&'a mut BufWriter<&'b mut File>> + 'a>;

/// Writes the rows `feed` puts into the sink as one Parquet file at `path`, through a temporary
/// file renamed over it once complete; `source` names the input in the errors of its cells.
pub fn write_file(
    path: &Path,
    source: &str,
    layout: ParquetLayout,
    feed: impl FnOnce(&mut FileSink<'_, '_>) -> Result<(), String>,
) -> Result<(), String> {
    write_atomically(path, |out| {
        let mut out = Some(out);
        let open: FileOpener<'_, '_> = Box::new(move |_: &Partition| {
            out.take()
                .ok_or_else(|| io::Error::other("one file is opened once"))
        });
        let mut sink = ParquetSink::new(layout, Split::One, open);
        feed(&mut sink)?;
        sink.finish().map(drop).map_err(|e| said(source, e))
    })
}
