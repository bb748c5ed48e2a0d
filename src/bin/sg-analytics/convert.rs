//! `sg-analytics convert`: the export as Parquet, one file (`-o OUT.parquet`) or Hive-style month
//! partitions (`--out-dir DIR`: `DIR/month=YYYY-MM/part-0.parquet`). The typing and the layout
//! are the library's (`Table::write_parquet`, `Table::partitions`); this file only places the
//! files, each written beside its target under a temporary name and renamed over it (the
//! partitions all written before any is renamed: `crate::dataset::write`).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use sg_analytics::Table;

/// Where `convert` writes.
pub enum Target<'a> {
    /// One file.
    File(&'a Path),
    /// A folder of `month=YYYY-MM/part-0.parquet` partitions.
    Dir(&'a Path),
}

/// The file name of a partition's data inside its `month=YYYY-MM` folder.
pub const PART_FILE: &str = "part-0.parquet";

/// Writes `table` as Parquet to `target`, each file through `write_atomically`; returns what to
/// tell the user on stderr.
pub fn convert(
    table: &Table,
    target: Target,
    write_atomically: impl Fn(
        &Path,
        &mut dyn FnMut(&mut BufWriter<&mut File>) -> Result<(), String>,
    ) -> Result<(), String>,
) -> Result<String, String> {
    let columns = table.parquet_columns().len();
    let what = format!("{}, {columns} columns", table.granularity());
    match target {
        Target::File(path) => {
            write_atomically(path, &mut |out| {
                table.write_parquet(out).map_err(|e| e.to_string())
            })?;
            Ok(format!(
                "{} rows written to {} ({what})",
                table.rows(),
                path.display()
            ))
        }
        Target::Dir(dir) => {
            let partitions = table.partitions().map_err(|e| e.to_string())?;
            crate::dataset::write(table, dir, &partitions)?;
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
            Ok(format!(
                "{} rows written to {} as {months} month partition(s) ({what}){undated}",
                table.rows(),
                dir.display()
            ))
        }
    }
}
