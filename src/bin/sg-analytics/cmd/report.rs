//! `sg-analytics report`: one self-contained HTML file to share.

use lexopt::Parser;
use sg_analytics::{utc_day, ReportOptions};

use crate::args::{self, Accepts};
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
--credits (with --instance, the credits fetched in the same session, when they can be), and the
definitions of every number. It states the day it was made: today (UTC), or the day of
SOURCE_DATE_EPOCH (seconds since 1970) when set, so that a rebuilt report is the same file. Its numbers are the same queries as summarize,
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
    --credits FILE        the credits answer (JSON or CSV, as cost's): adds the cost (with
                          --instance, instead of the credits it fetches)
    --instance-name HOST  the instance the report names (with --instance, that one)
",
    answer_help!(),
);

const ACCEPTS: Accepts = Accepts {
    input: true,
    filters: true,
};

/// The day the report states it was made: that of `SOURCE_DATE_EPOCH` (seconds since 1970, for
/// reproducible files) when set, else today, both in UTC.
fn made_on() -> Result<String, String> {
    let seconds = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) => value.trim().parse::<i64>().map_err(|_| {
            format!("SOURCE_DATE_EPOCH is {value:?}: it must be whole seconds since 1970-01-01 UTC")
        })?,
        Err(std::env::VarError::NotPresent) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err("SOURCE_DATE_EPOCH must be whole seconds since 1970-01-01 UTC".into())
        }
    };
    utc_day(seconds).ok_or_else(|| {
        format!("the report's day ({seconds} seconds since 1970) is not in 1970-01-01..=2100-12-31")
    })
}

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
    options.generated = Some(made_on()?);
    let from_file = credits
        .as_deref()
        .map(cmd::cost::read_credits)
        .transpose()?;
    let (opened, fetched) = Opened::with_credits(&common, from_file.is_none())?;
    // Fetched credits that cannot be had leave the cost out, said on stderr: the rest stands.
    let credits = match (from_file, fetched) {
        (Some(credits), _) => Some(credits),
        (None, Some(fetched)) => cmd::cost::fetched_credits(fetched)
            .inspect_err(|e| {
                eprintln!(
                    "sg-analytics: the report has no cost section: {}",
                    crate::render::printable(e)
                )
            })
            .ok(),
        (None, None) => None,
    };
    if let Some(instance) = &common.fetch.instance {
        options.instance.get_or_insert_with(|| instance.clone());
    }
    options.filter = common.filter;
    let html = opened
        .table
        .report_html(&options, credits.as_ref())
        .map_err(|e| e.to_string())?;
    // The ingest's warnings are not repeated on stderr; the service accounts' note goes there.
    opened.write_document(&html)?;
    if let Some(path) = opened.destination.path() {
        eprintln!("sg-analytics: report written to {}", path.display());
    }
    Ok(())
}
