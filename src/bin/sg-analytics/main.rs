//! The `sg-analytics` command line: summarize or filter an Analytics export, downloaded or fetched.
//!
//! A thin adapter over the library. Each subcommand is one file under `cmd/` whose usage text is
//! also its spec; `args` holds the options they share, `input` reads an export into a table in
//! chunks (memory is the compact table, tens of bytes a row, never the whole file), `output`
//! writes an answer (the one atomic writer) and `render` turns the core's typed answers into text.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(match run() {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("sg-analytics: error: {}", render::printable(&message));
            2
        }
    });
}

#[cfg(not(target_arch = "wasm32"))]
#[macro_use]
mod args;
#[cfg(not(target_arch = "wasm32"))]
mod cmd;
#[cfg(not(target_arch = "wasm32"))]
mod convert;
#[cfg(not(target_arch = "wasm32"))]
mod dataset;
#[cfg(not(target_arch = "wasm32"))]
mod fetch;
#[cfg(not(target_arch = "wasm32"))]
mod fetch_args;
#[cfg(not(target_arch = "wasm32"))]
mod input;
#[cfg(not(target_arch = "wasm32"))]
mod limited;
#[cfg(not(target_arch = "wasm32"))]
mod output;
#[cfg(not(target_arch = "wasm32"))]
mod parts;
#[cfg(not(target_arch = "wasm32"))]
mod render;

#[cfg(not(target_arch = "wasm32"))]
const USAGE: &str = concat!(
    "\
sg-analytics: summarize Sourcegraph Analytics usage exports (CSV)

USAGE:
    sg-analytics summarize [FILE|-] [--by KEY,...] [--minutes F=N,...] [--format table|csv|json]
                                          print totals and grouped metrics
    sg-analytics filter [FILE|-] [-o, --output FILE]
                                          write the rows that pass the filters as CSV
    sg-analytics growth [FILE|-] [--period week|month]
                                          active, new, retained, resurrected and churned users
                                          per period, and the quick ratio
    sg-analytics retention [FILE|-] [--period week|month]
                                          how many of each first-active cohort are active
                                          k periods later
    sg-analytics stickiness [FILE|-] [--period week|month]
                                          days active per period, average DAU and DAU/MAU
    sg-analytics features [FILE|-] [--period week|month]
                                          users of search, completions, chat and auto-edit
                                          per period, first-time users and breadth
    sg-analytics cost [FILE|-] --credits FILE [--by COLUMN]
                                          credits per active user and per hour saved, per
                                          month and for the range
    sg-analytics report [FILE|-] -o report.html [--credits FILE]
                                          one self-contained HTML report to share (prints
                                          on A4)
    sg-analytics inactive [FILE|-] --days N [--registry FILE]
                                          users with no active day in the last N days
    sg-analytics fetch --instance HOST [-o FILE]
                                          download the export from the Analytics API
    sg-analytics convert [FILE|-] -o OUT.parquet | --out-dir DIR [--format parquet]
                                          write the export as Parquet (one file, or month
                                          partitions)
    sg-analytics COMMAND --instance HOST [OPTIONS]
                                          fetch, then answer (every command but fetch and
                                          convert)
    sg-analytics COMMAND --help           the command's options, what it writes and what it
                                          costs in memory

",
    input_help!(),
    "
",
    filters_help!(),
    "
",
    exit_help!(),
);

/// The commands, as the errors name them.
#[cfg(not(target_arch = "wasm32"))]
const COMMANDS: &str =
    "summarize, filter, fetch, convert, growth, retention, stickiness, features, cost, report or \
     inactive";

#[cfg(not(target_arch = "wasm32"))]
fn run() -> Result<(), String> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_env();
    let command = match parser.next().map_err(|e| e.to_string())? {
        None => return Err(format!("expected a command: {COMMANDS}\n\n{USAGE}")),
        Some(Short('h') | Long("help")) => {
            print!("{USAGE}");
            return Ok(());
        }
        Some(Short('V') | Long("version")) => {
            println!("sg-analytics {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        Some(Value(v)) => v.string().map_err(|e| e.to_string())?,
        Some(other) => {
            return Err(format!(
                "expected a command ({COMMANDS}) before the options, found {} (see --help)",
                args::Flag::from_arg(other)
            ))
        }
    };
    match command.as_str() {
        "summarize" => cmd::summarize::run(parser),
        "filter" => cmd::filter::run(parser),
        "growth" => cmd::growth::run(parser),
        "retention" => cmd::retention::run(parser),
        "stickiness" => cmd::engagement::stickiness(parser),
        "features" => cmd::engagement::features(parser),
        "cost" => cmd::cost::run(parser),
        "report" => cmd::report::run(parser),
        "inactive" => cmd::inactive::run(parser),
        "fetch" => cmd::fetch::run(parser),
        "convert" => cmd::convert::run(parser),
        other => Err(format!(
            "unknown command {other:?}: expected {COMMANDS} (see --help)"
        )),
    }
}
