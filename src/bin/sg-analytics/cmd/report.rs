//! `sg-analytics report`: one self-contained HTML file to share.

use lexopt::Parser;
use sg_analytics::{Credits, ReportOptions};

use crate::args::{self, Accepts, Format};
use crate::cmd::{self, Opened};

const USAGE: &str = concat!(
    "\
sg-analytics report: one self-contained HTML file to share (no script, no request; prints on A4)

USAGE:
    sg-analytics report [FILE|-] -o report.html [OPTIONS]
    sg-analytics report --instance HOST -o report.html [OPTIONS]

States the instance, the range, the granularity and the filters, then the headline cards (with
the change from the complete period before the last), the usage trend, growth, retention,
stickiness, feature depth, the top users (or teams, with --by and a people file), the cost with
--credits, and the definitions of every number. Its numbers are the same queries as summarize,
growth, retention, stickiness, features and cost. A section the export cannot answer (stickiness
of a month export, say) says why. Memory: the table (see FILE below) plus the report (tens of KB).

",
    input_help!(),
    "
OPTIONS:
    --period P            week (Monday start; day-grain exports) or month (default)
    --by KEY              the top groups' key: user (default) or a people file's column
    --top N               how many top groups (default 10)
    --minutes F=N,...     minutes saved per use (as summarize's)
    --min-sample N        rates over fewer than N are marked small samples (default 50)
    --credits FILE        the credits answer (JSON or CSV, as cost's): adds the cost
    --instance-name HOST  the instance the report names (with --instance, that one)
",
    answer_help!(),
);

const ACCEPTS: Accepts = Accepts {
    input: true,
    filters: true,
};

/// Parses the options after `report` and writes the HTML.
pub fn run(mut parser: Parser) -> Result<(), String> {
    let mut options = ReportOptions::default();
    let mut credits = None;
    let own = |name: &str, parser: &mut Parser| {
        match name {
            "period" => options.period = cmd::period(parser)?,
            "by" => options.by = Some(args::string(parser)?),
            "top" => options.top = Some(args::number(parser)?),
            "minutes" => options.minutes_saved = cmd::summarize::minutes(&args::string(parser)?)?,
            "min-sample" => options.min_sample = Some(args::number(parser)?),
            "credits" => credits = Some(args::path(parser)?),
            "instance-name" => options.instance = Some(args::string(parser)?),
            _ => return Ok(false),
        }
        Ok(true)
    };
    let Some(common) = cmd::options(&mut parser, USAGE, ACCEPTS, own)? else {
        return Ok(());
    };
    let credits = credits
        .map(|path| {
            let bytes =
                crate::limited::read(&path, cmd::cost::MAX_CREDITS_BYTES, "the credits file")?;
            Credits::from_bytes(&bytes).map_err(|e| format!("{}: {}", path.display(), e.message()))
        })
        .transpose()?;
    let opened = Opened::of(&common)?;
    if let Some(instance) = &common.fetch.instance {
        options.instance.get_or_insert_with(|| instance.clone());
    }
    options.filter = common.filter;
    let html = opened
        .table
        .report_html(&options, credits.as_ref())
        .map_err(|e| e.to_string())?;
    // Written as the table format is: the ingest's warnings are not repeated on stderr.
    opened.write(Format::Table, &html)?;
    if let Some(path) = opened.destination.path() {
        eprintln!("sg-analytics: report written to {}", path.display());
    }
    Ok(())
}
