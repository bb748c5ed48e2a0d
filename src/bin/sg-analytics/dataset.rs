//! A folder of Hive-style month partitions (`DIR/month=YYYY-MM/part-0.parquet`) as one dataset:
//! what it holds ([`Dataset::open`], for `fetch --out-dir DIR --append`). How partitions are
//! written into it is `crate::parts`.

use std::path::{Path, PathBuf};

use sg_analytics::{Granularity, Partition};

use crate::parts::PART_FILE;

/// What a dataset folder holds.
pub struct Dataset {
    /// The months present (a folder holding its part file), oldest first; the partition of the
    /// rows without a date is not one of them.
    pub months: Vec<String>,
    /// The granularity its files state (`None` when it holds none).
    pub granularity: Option<Granularity>,
}

impl Dataset {
    /// Reads what `dir` holds, checking that all of it is a dataset's: `month=...` folders, each
    /// with nothing but its part file, every part file Parquet that states the same granularity.
    /// A missing `dir` is an empty dataset. A month folder without its part file (left by an
    /// interrupted run) holds no month. Temporary files of an interrupted run are passed over.
    pub fn open(dir: &Path) -> Result<Dataset, String> {
        let mut dataset = Dataset {
            months: Vec::new(),
            granularity: None,
        };
        match std::fs::metadata(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(dataset),
            Err(e) => return Err(format!("--out-dir {}: {e}", dir.display())),
            Ok(meta) if !meta.is_dir() => {
                return Err(format!(
                    "--out-dir {} is not a folder: give the folder of the month partitions (it \
                     is created when missing)",
                    dir.display()
                ))
            }
            Ok(_) => {}
        }
        let mut stated: Option<(Granularity, PathBuf)> = None;
        for entry in entries(dir)? {
            let name = entry.file_name();
            let path = entry.path();
            if is_temporary(&name) {
                continue;
            }
            let month = name
                .to_str()
                .and_then(Partition::month_of_dir_name)
                .filter(|_| path.is_dir())
                .ok_or_else(|| not_ours(dir, &path))?;
            let mut part = None;
            for inner in entries(&path)? {
                let inner_name = inner.file_name();
                if is_temporary(&inner_name) {
                    continue;
                }
                if inner_name != PART_FILE || !inner.path().is_file() {
                    return Err(not_ours(dir, &inner.path()));
                }
                part = Some(inner.path());
            }
            let Some(part) = part else { continue };
            let granularity = granularity_of(dir, &part)?;
            match &stated {
                Some((first, first_path)) if *first != granularity => {
                    return Err(format!(
                        "--out-dir {}: {} holds {granularity} rows but {} holds {first}: one \
                         dataset holds one granularity (their sums would count the same use \
                         twice); give another folder",
                        dir.display(),
                        part.display(),
                        first_path.display()
                    ))
                }
                Some(_) => {}
                None => stated = Some((granularity, part.clone())),
            }
            if let Some(month) = month {
                dataset.months.push(month);
            }
        }
        dataset.months.sort();
        dataset.granularity = stated.map(|(g, _)| g);
        Ok(dataset)
    }

    /// The newest month present, `YYYY-MM`.
    pub fn newest(&self) -> Option<&str> {
        self.months.last().map(String::as_str)
    }
}

/// A folder's entries, with a read error said with its path.
fn entries(dir: &Path) -> Result<Vec<std::fs::DirEntry>, String> {
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", dir.display());
    std::fs::read_dir(dir)
        .map_err(cannot)?
        .map(|e| e.map_err(cannot))
        .collect()
}

/// Whether a name is one of `AtomicFile`'s temporary files (left behind only when the
/// process was killed outright).
fn is_temporary(name: &std::ffi::OsStr) -> bool {
    name.to_str()
        .is_some_and(|n| n.starts_with(".sg-analytics-") && n.ends_with(".tmp"))
}

fn not_ours(dir: &Path, path: &Path) -> String {
    format!(
        "--out-dir {}: {} is not part of a dataset sg-analytics writes (only \
         month=YYYY-MM/{PART_FILE} folders): the folder is the dataset's own, and nothing in it \
         is left to chance; move that away or give another folder",
        dir.display(),
        path.display()
    )
}

/// The granularity a part file states, or an error that says why it is not one of ours.
fn granularity_of(dir: &Path, part: &Path) -> Result<Granularity, String> {
    let file =
        std::fs::File::open(part).map_err(|e| format!("cannot read {}: {e}", part.display()))?;
    match sg_analytics::parquet_granularity(file) {
        Ok(Some(g)) => Ok(g),
        Ok(None) => Err(format!(
            "--out-dir {}: {} is Parquet that sg-analytics did not write (its metadata states \
             no {}); give another folder",
            dir.display(),
            part.display(),
            sg_analytics::GRANULARITY_KEY
        )),
        Err(e) => Err(format!(
            "--out-dir {}: {}: {e}",
            dir.display(),
            part.display()
        )),
    }
}
