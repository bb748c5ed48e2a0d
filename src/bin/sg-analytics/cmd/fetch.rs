//! `sg-analytics fetch`: the export downloaded as received.

use lexopt::prelude::*;
use lexopt::Parser;

use crate::args::{Accepts, Common, Flag};
use crate::input::report_warnings;
use crate::output::{with_output, Destination};

const USAGE: &str = concat!(
    "\
sg-analytics fetch: download the export from the Analytics API

USAGE:
    sg-analytics fetch --instance HOST [OPTIONS] [-o FILE]

Writes the CSV as received (with --month-windows: one header, the windows one after another) to
stdout, or to FILE once the whole export arrived and was read as an export. The body is streamed
into a temporary file and into a table that checks it (memory: the table, about a third of the
CSV; with --month-windows also the window being fetched), never held whole in memory.

OPTIONS:
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

/// Parses the options after `fetch` and downloads the export.
pub fn run(mut parser: Parser) -> Result<(), String> {
    let mut common = Common::default();
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short('h') | Long("help") => {
                print!("{USAGE}");
                return Ok(());
            }
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
    let filter = &common.filter;
    let fetch = common
        .fetch
        .check(filter.from.as_deref(), filter.to.as_deref())?;
    let table = with_output(&destination, |raw| fetch.run(raw).map_err(|e| e.message))?;
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
