//! `sg-analytics fetch`: the export downloaded as received, and with `--registry`/`--credits` the
//! user registry and the credits in the same session.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use lexopt::prelude::*;
use lexopt::Parser;
use sg_analytics::{Fetched, Parts};

use crate::args::{self, Accepts, Common, Flag};
use crate::input::report_warnings;
use crate::output::{with_output, write_atomically, Destination};

const USAGE: &str = concat!(
    "\
sg-analytics fetch: download the export from the Analytics API

USAGE:
    sg-analytics fetch --instance HOST [OPTIONS] [-o FILE] [--registry FILE] [--credits FILE]

Writes the CSV as received (with --month-windows: one header, the windows one after another) to
stdout, or to FILE once the whole export arrived and was read as an export. The body is streamed
into a temporary file and into a table that checks it (memory: the table, about a third of the
CSV; with --month-windows also the window being fetched), never held whole in memory.

OPTIONS:
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
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short('h') | Long("help") => {
                print!("{USAGE}");
                return Ok(());
            }
            Long("registry") => registry = Some(args::path(&mut parser)?),
            Long("credits") => credits = Some(args::path(&mut parser)?),
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
    let fetched = with_output(&destination, |file: Option<File>| {
        let fetched = crate::fetch::run(&options, parts, file).map_err(|e| e.message)?;
        write_side_files(&fetched, side)?;
        Ok(fetched)
    })?;
    let table = fetched.report.ok_or("the fetch gave no export")?;
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
