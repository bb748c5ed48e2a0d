//! `sg-analytics filter`: the kept rows, as they were read.

use lexopt::Parser;

use crate::args::Accepts;
use crate::cmd::{self, Opened};
use crate::input::{self, report_warnings};
use crate::output::write_to;

const USAGE: &str = concat!(
    "\
sg-analytics filter: the rows that pass the filters, as CSV

USAGE:
    sg-analytics filter [FILE|-] [FILTERS] [-o FILE]
    sg-analytics filter --instance HOST [FILTERS] [-o FILE]

Writes the input's header and each kept record with every cell's text as it was read (after CSV
unquoting); only a cell that a spreadsheet would take for a formula gets a leading ', and cells
are quoted where CSV needs it. Invalid UTF-8 is replaced (the one lossy case). Memory: the table
(see FILE below), which keeps a cell's text only where the parsed value would not give it back.

",
    input_help!(),
    "
OPTIONS:
",
    output_help!(),
    "
",
    filters_help!(),
    "
",
    fetch_help!(),
    "
",
    exit_help!(),
);

const ACCEPTS: Accepts = Accepts {
    input: true,
    filters: true,
};

/// Parses the options after `filter` and writes the kept rows.
pub fn run(mut parser: Parser) -> Result<(), String> {
    let Some(common) = cmd::options(&mut parser, USAGE, ACCEPTS, |_, _| Ok(false))? else {
        return Ok(());
    };
    let Opened {
        destination, table, ..
    } = Opened::of(&common)?;
    let written = write_to(&destination, |out| {
        table
            .write_filtered_csv(&common.filter, out)
            .map_err(|e| e.to_string())
    })?;
    eprintln!("sg-analytics: {written} of {} rows written", table.rows());
    input::with_service_accounts_note(String::new(), false, &table, &common.filter, None)?;
    report_warnings(&table);
    Ok(())
}
