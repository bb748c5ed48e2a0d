//! `sg-analytics retention`: how each first-active cohort stays.

use lexopt::prelude::*;
use lexopt::Parser;
use sg_analytics::{Period, PeriodQuery};

use crate::args::{Accepts, Common, Flag, Format};
use crate::cmd::growth::period;
use crate::input::{self, report_warnings};
use crate::output::{refuse_input_as_output, write_text, Destination};
use crate::render;

const USAGE: &str = concat!(
    "\
sg-analytics retention: how many of each first-active cohort are active k periods later

USAGE:
    sg-analytics retention [FILE|-] [OPTIONS]
    sg-analytics retention --instance HOST [OPTIONS]

One line per cohort (the users first active in a period): its size, then how many of them are
active 0, 1, 2, ... periods later (and the share of the cohort in the table format). Memory: the
table (see FILE below) plus each user's active periods.

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

/// Parses the options after `retention` and prints the answer.
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
    let retention = table.retention(&query).map_err(|e| e.to_string())?;
    let text = match format {
        // The core's writer: the page's download is the same file.
        Format::Csv => retention.to_csv(),
        Format::Json => serde_json::to_string(&retention).map_err(|e| e.to_string())? + "\n",
        Format::Table => {
            let rows = retention
                .cohorts
                .iter()
                .map(|c| {
                    let share = |n: u64| format!("{n} ({:.0}%)", 100.0 * n as f64 / c.users as f64);
                    [c.cohort.clone(), c.users.to_string()]
                        .into_iter()
                        .chain(c.active.iter().map(|&n| share(n)))
                        .collect()
                })
                .collect();
            render::table(retention.header(), rows)
        }
    };
    write_text(&destination, &text)?;
    if format == Format::Csv {
        report_warnings(&table);
    }
    Ok(())
}
