//! The export into a table: from FILE, stdin or the API, in chunks, and a people file joined.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sg_analytics::{Ingester, Parts, Registry, Table};

use crate::args::Common;
use crate::render::printable;

/// The table the options name: fetched with `--instance`, else read from FILE or stdin, with
/// the people file of `--attributes` joined. Returns the table and the people file's columns.
pub fn table(common: &Common) -> Result<(Table, Vec<String>), String> {
    table_and_registry(common, false).map(|(table, columns, _)| (table, columns))
}

/// [`table`], and with `--instance` and `registry`, the user registry fetched in the same
/// session. A registry that could not be fetched is said on stderr and left out: the answer is
/// still given, without it.
pub fn table_and_registry(
    common: &Common,
    registry: bool,
) -> Result<(Table, Vec<String>, Option<Registry>), String> {
    let mut fetched_registry = None;
    let mut table = if common.fetch.given() {
        if let Some(input) = &common.input {
            return Err(format!(
                "give either a FILE ({}) or --instance, not both",
                input.display()
            ));
        }
        let filter = &common.filter;
        let options = common
            .fetch
            .check(filter.from.as_deref(), filter.to.as_deref())?;
        let parts = Parts {
            registry,
            ..Parts::REPORT
        };
        let fetched = crate::fetch::run(&options, parts, None).map_err(|e| e.message)?;
        match fetched.registry {
            Some(Ok((r, _))) => fetched_registry = Some(r),
            Some(Err(e)) => eprintln!(
                "sg-analytics: the user registry could not be fetched, so users are listed \
                 without it: {}",
                printable(&e.message)
            ),
            None => {}
        }
        fetched.report.ok_or("the fetch gave no export")?
    } else {
        read_table(common.input.as_deref())?
    };
    let attributes = match &common.attributes {
        Some(path) => join_attributes(&mut table, path)?,
        None => Vec::new(),
    };
    Ok((table, attributes, fetched_registry))
}

/// FILE (stdin for `None` or `-`) into a table, 256 KiB at a time.
fn read_table(path: Option<&Path>) -> Result<Table, String> {
    let name = path.map_or("stdin".to_string(), |p| p.display().to_string());
    let mut input: Box<dyn Read> = match path {
        Some(p) if p.as_os_str() != "-" => {
            Box::new(File::open(p).map_err(|e| format!("cannot open {}: {e}", p.display()))?)
        }
        _ => Box::new(io::stdin().lock()),
    };
    let mut ingester = Ingester::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("reading {name}: {e}")),
        };
        ingester
            .push(&buf[..n])
            .map_err(|e| format!("{name}: {e}"))?;
    }
    ingester.finish().map_err(|e| format!("{name}: {e}"))
}

/// How many of a people file's warnings are printed; the rest are counted.
const SHOWN_WARNINGS: usize = 10;

/// Joins the people file at `path`, saying on stderr how many users it matched; returns its
/// columns.
fn join_attributes(table: &mut Table, path: &Path) -> Result<Vec<String>, String> {
    let bytes = crate::limited::read(path, crate::limited::MAX_SIDE_FILE_BYTES, "the people file")?;
    let join = table.join_attributes(&bytes).map_err(|e| e.to_string())?;
    eprintln!(
        "sg-analytics: people file {}: {} of the export's users matched, {} not (unmapped); \
         attributes {}",
        path.display(),
        join.matched,
        join.unmatched,
        join.attributes.join(", ")
    );
    for w in join.warnings.iter().take(SHOWN_WARNINGS) {
        eprintln!(
            "sg-analytics: people file line {}: {}",
            w.line,
            printable(&w.message)
        );
    }
    if join.warnings_total > SHOWN_WARNINGS as u64 {
        eprintln!(
            "sg-analytics: people file: ... and {} more warning(s)",
            join.warnings_total - SHOWN_WARNINGS as u64
        );
    }
    Ok(join.attributes)
}

/// The ingest's warnings on stderr: how many, and the first.
pub fn report_warnings(table: &Table) {
    let info = table.info();
    if let Some(first) = info.warnings.first() {
        eprintln!(
            "sg-analytics: {} warning(s), {} row(s) skipped; the first: line {}: {}",
            info.warnings_total,
            info.input.skipped_rows,
            first.line,
            printable(&first.message)
        );
    }
}
