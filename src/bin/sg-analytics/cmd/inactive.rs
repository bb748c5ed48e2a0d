//! `sg-analytics inactive`: users with no active day in the last N days.

use lexopt::prelude::*;
use lexopt::Parser;
use sg_analytics::{InactiveQuery, Registry};

use crate::args::{self, Accepts, Common, Flag, Format};
use crate::input::{self, report_warnings};
use crate::output::{refuse_input_as_output, write_text, Destination};
use crate::render;

const USAGE: &str = concat!(
    "\
sg-analytics inactive: users with no active day in the last N days

USAGE:
    sg-analytics inactive [FILE|-] --days N [OPTIONS]
    sg-analytics inactive --instance HOST --days N [OPTIONS]

One line per user of the kept rows with no active day in the N days ending at the range's last
day: their last active day and how long ago it was; with --registry also the registry's users who
never appear, with their flags. Memory: the table (see FILE below) plus the registry, read whole.

",
    input_help!(),
    "
OPTIONS:
    --days N              inactive: no active day in the N days ending at the range's last day
                          (required)
    --registry FILE       a user registry CSV (Instance user ID, Service account, Site admin):
                          its users who never appear are listed too, with their flags; with
                          --instance and no --registry, the registry is fetched with the export
    --format FMT          table (default), csv or json
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
    active_help!(),
    "
",
    exit_help!(),
);

const ACCEPTS: Accepts = Accepts {
    input: true,
    filters: true,
};

/// Parses the options after `inactive` and prints the answer.
pub fn run(mut parser: Parser) -> Result<(), String> {
    let mut common = Common::default();
    let mut days = None;
    let mut registry = None;
    let mut format = Format::Table;
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short('h') | Long("help") => {
                print!("{USAGE}");
                return Ok(());
            }
            Long("days") => days = Some(args::number(&mut parser)?),
            Long("registry") => registry = Some(args::path(&mut parser)?),
            Long("format") => format = Format::parse(&mut parser)?,
            arg => common.take(Flag::from_arg(arg), &mut parser, ACCEPTS)?,
        }
    }
    let days = days.ok_or("inactive: --days N is required (see --help)")?;
    let destination = Destination::of(common.output.as_deref())?;
    refuse_input_as_output(common.input.as_deref(), &destination)?;
    // With --instance and no --registry FILE, the registry is fetched with the export.
    let (table, _, fetched) = input::table_and_registry(&common, registry.is_none())?;
    let registry = registry
        .map(|path| {
            let bytes = input::read_limited(&path, input::MAX_SIDE_FILE_BYTES, "the registry")?;
            Registry::from_bytes(&bytes).map_err(|e| e.to_string())
        })
        .transpose()?
        .or(fetched);
    let query = InactiveQuery {
        days,
        filter: common.filter,
    };
    let inactive = table
        .inactive_users(&query, registry.as_ref())
        .map_err(|e| e.to_string())?;
    let text = match format {
        // The core's writer: the page's download is the same file.
        Format::Csv => inactive.to_csv(),
        Format::Json => serde_json::to_string(&inactive).map_err(|e| e.to_string())? + "\n",
        Format::Table => render::table(
            inactive.header().into_iter().map(String::from).collect(),
            inactive.cells(),
        ),
    };
    write_text(&destination, &text)?;
    if format == Format::Csv {
        report_warnings(&table);
    }
    Ok(())
}
