//! `sg-analytics fetch`: the export downloaded as received, and with `--registry`/`--credits` the
//! user registry and the credits in the same session; with `--format parquet`, written as
//! Parquet instead, one file or a dataset of month partitions brought up to date by `--append`.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lexopt::prelude::*;
use lexopt::Parser;
use sg_analytics::{FetchOptions, Fetched, Granularity, ParquetLayout, Parts, Table};

use crate::args::{self, Accepts, Common, Flag};
use crate::dataset::Dataset;
use crate::input::report_warnings;
use crate::output::{with_output, write_atomically, Destination};

const USAGE: &str = concat!(
    "\
sg-analytics fetch: download the export from the Analytics API

USAGE:
    sg-analytics fetch --instance HOST [OPTIONS] [-o FILE] [--registry FILE] [--credits FILE]
    sg-analytics fetch --instance HOST [OPTIONS] --format parquet -o OUT.parquet
    sg-analytics fetch --instance HOST [OPTIONS] --format parquet --out-dir DIR [--append]

Writes the CSV as received (with --month-windows: one header, the windows one after another) to
stdout, or to FILE once the whole export arrived and was read as an export. The body is streamed
into a temporary file and into a table that checks it (memory: the table, about a third of the
CSV; with --month-windows also the window being fetched), never held whole in memory.

With --format parquet the export is written as Parquet (typed as sg-analytics convert writes it)
once the whole of it arrived: one file (-o), or month partitions DIR/month=YYYY-MM/part-0.parquet
(--out-dir), all written under temporary names and then renamed, oldest month first; a failed
or interrupted run leaves DIR as it was. DIR holds the dataset and nothing else: a file in it
that is not a partition of ours, or partitions of another granularity, is an error (before
anything is fetched). Without --granularity, an existing dataset's is fetched.

OPTIONS:
    --format csv|parquet  csv: the export as served (the default); parquet: see above
    --out-dir DIR         month partitions in DIR (implies --format parquet); those of the months
                          fetched are replaced, the others left as they are
    --append              an incremental fetch into --out-dir: from the first day of the newest
                          month in DIR (it may have been partial when fetched) to --to (default
                          today); that month is replaced, later ones added, older ones not
                          touched. Run again, it writes the same files; on an empty DIR it is a
                          full fetch (from --from, if given). A --from later than that first day,
                          or a --to before it, is an error.
    --registry FILE       also write the user registry (CSV, as served) to FILE
    --credits FILE        also write the credits (JSON or CSV, as served) to FILE
                          Every file is written only when all that was asked for came: a failed
                          run leaves each as it was.
",
    output_help!(),
    "
",
    fetch_help!(),
    "
",
    exit_help!(),
);

const ACCEPTS: Accepts = Accepts {
    input: false,
    filters: false,
};

/// Parses the options after `fetch` and downloads the export (and the registry and credits).
pub fn run(mut parser: Parser) -> Result<(), String> {
    let mut common = Common::default();
    let mut registry: Option<PathBuf> = None;
    let mut credits: Option<PathBuf> = None;
    let mut parquet = false;
    let mut out_dir: Option<PathBuf> = None;
    let mut append = false;
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short('h') | Long("help") => {
                print!("{USAGE}");
                return Ok(());
            }
            Long("registry") => registry = Some(args::path(&mut parser)?),
            Long("credits") => credits = Some(args::path(&mut parser)?),
            Long("format") => {
                parquet = match args::string(&mut parser)?.as_str() {
                    "parquet" => true,
                    "csv" => false,
                    other => {
                        return Err(format!(
                            "--format: fetch writes csv (as served) or parquet, found {other:?}"
                        ))
                    }
                }
            }
            Long("out-dir") => out_dir = Some(args::path(&mut parser)?),
            Long("append") => append = true,
            Value(v) => {
                return Err(format!(
                    "fetch takes no FILE ({}): it downloads the export; -o FILE writes it",
                    v.to_string_lossy()
                ))
            }
            arg => common.take(Flag::from_arg(arg), &mut parser, ACCEPTS)?,
        }
    }
    if !common.fetch.given() {
        return Err("fetch needs --instance HOST (see --help)".into());
    }
    if append && out_dir.is_none() {
        return Err(
            "--append brings a dataset up to date: give its folder with --out-dir DIR".into(),
        );
    }
    if let Some(dir) = out_dir {
        if common.output.is_some() {
            return Err(
                "-o and --out-dir: give one (a Parquet file, or a folder of months)".into(),
            );
        }
        return into_dataset(&mut common, &dir, append, [registry, credits]);
    }
    let destination = Destination::of(common.output.as_deref())?;
    let side = [(&registry, "--registry"), (&credits, "--credits")];
    for (path, flag) in side {
        if let Some(path) = path {
            // The same checks as -o: no FIFO, device or directory.
            Destination::of(Some(path)).map_err(|e| format!("{flag}: {e}"))?;
        }
    }
    let filter = &common.filter;
    let options = common
        .fetch
        .check(filter.from.as_deref(), filter.to.as_deref())?;
    let parts = Parts {
        registry: registry.is_some(),
        credits: credits.is_some(),
        ..Parts::REPORT
    };
    let table = if parquet {
        let Some(path) = destination.path() else {
            return Err(
                "--format parquet writes a file, not stdout: give -o OUT.parquet or --out-dir DIR"
                    .into(),
            );
        };
        let fetched = crate::fetch::run(&options, parts, None).map_err(|e| e.message)?;
        write_side_files(&fetched, side)?;
        let table = Arc::new(fetched.report.ok_or("the fetch gave no export")?);
        let layout = ParquetLayout::of_table(&table);
        crate::parts::write_file(path, FETCHED, layout, |sink| {
            sink.add_table(Arc::clone(&table))
                .map_err(|e| crate::parts::said(FETCHED, e))
        })?;
        table
    } else {
        let fetched = with_output(&destination, |file: Option<File>| {
            let fetched = crate::fetch::run(&options, parts, file).map_err(|e| e.message)?;
            write_side_files(&fetched, side)?;
            Ok(fetched)
        })?;
        Arc::new(fetched.report.ok_or("the fetch gave no export")?)
    };
    eprintln!(
        "sg-analytics: fetched {} rows ({}){}",
        table.rows(),
        table.granularity().as_str(),
        destination
            .path()
            .map_or(String::new(), |p| format!(" into {}", p.display()))
    );
    report_warnings(&table);
    Ok(())
}

/// The input of `fetch --format parquet`, in the errors of its cells.
const FETCHED: &str = "the export fetched";

/// `fetch --out-dir DIR [--append]`: checks DIR, fetches (from the newest month present with
/// `--append`), then writes the months fetched.
fn into_dataset(
    common: &mut Common,
    dir: &Path,
    append: bool,
    [registry, credits]: [Option<PathBuf>; 2],
) -> Result<(), String> {
    let dataset = Dataset::open(dir)?;
    if let Some(held) = dataset.granularity {
        match common.fetch.granularity.as_deref() {
            None => common.fetch.granularity = Some(held.as_str().to_string()),
            Some(asked) if asked.trim() != held.as_str() => {
                return Err(format!(
                    "--granularity {asked}: {} holds {held} rows; one dataset holds one \
                     granularity (their sums would count the same use twice): fetch {held}, or \
                     into another folder",
                    dir.display()
                ))
            }
            Some(_) => {}
        }
    }
    if common.fetch.granularity.as_deref().map(str::trim) == Some(Granularity::ByUser.as_str()) {
        return Err(
            "--out-dir: a by_user export has no dates to partition by month; write one file \
             (-o FILE), or fetch by_user_month or finer"
                .into(),
        );
    }
    let (from, to) = (common.filter.from.as_deref(), common.filter.to.as_deref());
    let start = if append {
        sg_analytics::append_start(dataset.newest(), from, to).map_err(|e| e.to_string())?
    } else {
        from.map(str::to_string)
    };
    let options: FetchOptions = common.fetch.check(start.as_deref(), to)?;
    let side = [(&registry, "--registry"), (&credits, "--credits")];
    for (path, flag) in side {
        if let Some(path) = path {
            Destination::of(Some(path)).map_err(|e| format!("{flag}: {e}"))?;
        }
    }
    let parts = Parts {
        registry: registry.is_some(),
        credits: credits.is_some(),
        ..Parts::REPORT
    };
    let mut fetched = crate::fetch::run(&options, parts, None).map_err(|e| e.message)?;
    let table = Arc::new(fetched.report.take().ok_or("the fetch gave no export")?);
    let partitions = crate::parts::write(
        dir,
        FETCHED,
        ParquetLayout::of_table(&table),
        |sink| {
            sink.add_table(Arc::clone(&table))
                .map_err(|e| crate::parts::said(FETCHED, e))
        },
        |partitions| {
            check_partitions(&table, partitions, start.as_deref().filter(|_| append))?;
            write_side_files(&fetched, side)
        },
    )?;
    let months: Vec<&str> = partitions
        .iter()
        .filter_map(|p| p.month.as_deref())
        .collect();
    let what = match (months.first(), months.last()) {
        (Some(first), Some(last)) if first == last => format!("month {first}"),
        (Some(first), Some(last)) => format!("{} months, {first} to {last}", months.len()),
        _ => "no month: nothing written".to_string(),
    };
    let kept = dataset
        .months
        .iter()
        .filter(|m| !months.contains(&m.as_str()))
        .count();
    eprintln!(
        "sg-analytics: fetched {} rows ({}) into {}: {what}{}",
        table.rows(),
        table.granularity().as_str(),
        dir.display(),
        if kept > 0 {
            format!("; {kept} other month(s) left as they were")
        } else {
            String::new()
        }
    );
    report_warnings(&table);
    Ok(())
}

/// Refuses to write a dataset from rows that do not fit it: rows without a date (no month to
/// put them in; an incremental fetch could never replace them), and, in an incremental fetch
/// from `start`, rows of a month before it (the API did not keep to the dates asked, and
/// writing them would replace older months).
fn check_partitions(
    table: &Table,
    partitions: &[sg_analytics::Partition],
    start: Option<&str>,
) -> Result<(), String> {
    if let Some(undated) = partitions.iter().find(|p| p.month.is_none()) {
        return Err(format!(
            "{} of the {} rows fetched have no valid date, so no month partition to go to; \
             nothing was written (fetch them with -o FILE to look at them)",
            undated.rows,
            table.rows()
        ));
    }
    if let Some(start) = start {
        let first_month = &start[..7];
        if let Some(early) = partitions
            .iter()
            .filter_map(|p| p.month.as_deref())
            .find(|m| *m < first_month)
        {
            return Err(format!(
                "the API answered rows of {early}, before the first day asked ({start}): it did \
                 not keep to the dates, so nothing was written (the older months stay as they \
                 were)"
            ));
        }
    }
    Ok(())
}

/// The registry's and the credits' bodies as served, into their files: all or nothing (a part
/// that failed writes none of them), before the export is committed.
fn write_side_files(fetched: &Fetched, side: [(&Option<PathBuf>, &str); 2]) -> Result<(), String> {
    let bodies = [
        fetched.registry.as_ref().map(|r| r.as_ref().map(|r| &r.1)),
        fetched.credits.as_ref().map(|c| c.as_ref().map(|c| &c.1)),
    ];
    for ((_, flag), body) in side.iter().zip(&bodies) {
        if let Some(Err(e)) = body {
            return Err(format!("{flag}: {}", e.message));
        }
    }
    for ((path, flag), body) in side.iter().zip(bodies) {
        if let (Some(path), Some(Ok(body))) = (path, body) {
            write_atomically(path, |out| {
                out.write_all(body)
                    .map_err(|e| format!("{flag}: writing {}: {e}", path.display()))
            })?;
        }
    }
    Ok(())
}
