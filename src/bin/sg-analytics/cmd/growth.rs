//! `sg-analytics growth`: users gained and lost per period.

use lexopt::prelude::*;
use lexopt::Parser;
use sg_analytics::{Period, PeriodQuery};

use crate::args::{self, Accepts, Common, Flag, Format};
use crate::input::{self, report_warnings};
use crate::output::{refuse_input_as_output, write_text, Destination};
use crate::render;

const USAGE: &str = concat!(
    "\
sg-analytics growth: active, new, retained, resurrected and churned users per period

USAGE:
    sg-analytics growth [FILE|-] [OPTIONS]
    sg-analytics growth --instance HOST [OPTIONS]

One line per period of the range: active users, new ones (first active then), retained (active
the period before too), resurrected (active before, not the period before), churned (active the
period before, not now) and the quick ratio (new + resurrected) / churned. Memory: the table (see
FILE below) plus a set of active users per period.

",
    input_help!(),
    "
OPTIONS:
    --period P            week (Monday start; day-grain exports) or month (default)
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

/// `--period week|month`.
pub fn period(parser: &mut Parser) -> Result<Period, String> {
    Period::parse(&args::string(parser)?).map_err(|e| format!("--{}", e.message()))
}

/// Parses the options after `growth` and prints the answer.
pub fn run(mut parser: Parser) -> Result<(), String> {
    let mut common = Common::default();
    let mut query_period = Period::Month;
    let mut format = Format::Table;
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short('h') | Long("help") => {
                print!("{USAGE}");
                return Ok(());
            }
            Long("period") => query_period = period(&mut parser)?,
            Long("format") => format = Format::parse(&mut parser)?,
            arg => common.take(Flag::from_arg(arg), &mut parser, ACCEPTS)?,
        }
    }
    let destination = Destination::of(common.output.as_deref())?;
    refuse_input_as_output(common.input.as_deref(), &destination)?;
    let (table, _) = input::table(&common)?;
    let query = PeriodQuery {
        period: query_period,
        filter: common.filter,
    };
    let growth = table.growth(&query).map_err(|e| e.to_string())?;
    let text = match format {
        // The core's writer: the page's download is the same file.
        Format::Csv => growth.to_csv(),
        Format::Json => serde_json::to_string(&growth).map_err(|e| e.to_string())? + "\n",
        Format::Table => render::table(
            growth.header().into_iter().map(String::from).collect(),
            growth.cells(),
        ),
    };
    write_text(&destination, &text)?;
    if format == Format::Csv {
        report_warnings(&table);
    }
    Ok(())
}
