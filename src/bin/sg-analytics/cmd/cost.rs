//! `sg-analytics cost`: the credits beside the usage.

use lexopt::Parser;
use sg_analytics::{Cost, CostQuery, Credits};

use crate::args::{self, Accepts, Format};
use crate::cmd::{self, Answer, Opened};
use crate::render;

const USAGE: &str = concat!(
    "\
sg-analytics cost: credits per active user and per hour saved, per month and for the range

USAGE:
    sg-analytics cost [FILE|-] --credits CREDITS [OPTIONS]
    sg-analytics cost --instance HOST [--credits CREDITS] [OPTIONS]

One line per month of the usage, then the range (every month, when each has credits), then with
--by one line per value of a people file's column: the credits used, the active users, the hours
saved, credits per active user and per hour saved. Then, in words, what the figures cannot say:
months without credits, credits that are the whole instance's under a filter of users, and why
there is no cost per team when the credits are not per user. Memory: the table (see FILE below)
plus the credits file, read whole.

",
    input_help!(),
    "
OPTIONS:
    --credits FILE        the credits answer of /api/credits, saved as JSON or CSV (required
                          with a FILE; with --instance, fetched in the same session unless
                          given): buckets with a month (month, period, startDate, ...) and the
                          credits used (creditsUsed, used, credits, ...); with a user field,
                          per user
    --by COL              also the cost per value of a people file's column (--attributes),
                          where the credits are per user
    --minutes F=N,...     minutes saved per use of a feature (as summarize's)
    --format FMT          table (default), csv or json
",
    answer_help!(),
);

const ACCEPTS: Accepts = Accepts {
    input: true,
    filters: true,
};

/// The most a credits file may hold (a year of daily buckets per user of a large instance is a
/// few megabytes).
pub const MAX_CREDITS_BYTES: u64 = 64 << 20;

/// Parses the options after `cost` and prints the answer.
pub fn run(mut parser: Parser) -> Result<(), String> {
    let mut credits = None;
    let mut query = CostQuery::default();
    let mut format = Format::Table;
    let own = |name: &str, parser: &mut Parser| {
        match name {
            "credits" => credits = Some(args::path(parser)?),
            "by" => query.by = Some(args::string(parser)?),
            "minutes" => query.minutes_saved = cmd::summarize::minutes(&args::string(parser)?)?,
            "format" => format = Format::parse(parser)?,
            _ => return Ok(false),
        }
        Ok(true)
    };
    let Some(common) = cmd::options(&mut parser, USAGE, ACCEPTS, own)? else {
        return Ok(());
    };
    if credits.is_none() && !common.fetch.given() {
        return Err(
            "cost: --credits FILE is required, or --instance HOST to fetch them (see --help)"
                .into(),
        );
    }
    let from_file = credits.as_deref().map(read_credits).transpose()?;
    let (opened, fetched) = Opened::with_credits(&common, from_file.is_none())?;
    let credits = match (from_file, fetched) {
        (Some(credits), _) => credits,
        (None, Some(fetched)) => fetched_credits(fetched)?,
        (None, None) => return Err("cost: no credits were fetched".into()),
    };
    query.filter = common.filter;
    let cost = opened
        .table
        .cost(&credits, &query)
        .map_err(|e| e.to_string())?;
    opened.answer(format, &cost)
}

/// A credits file (`--credits FILE`), read whole within [`MAX_CREDITS_BYTES`].
pub fn read_credits(path: &std::path::Path) -> Result<Credits, String> {
    let bytes = crate::limited::read(path, MAX_CREDITS_BYTES, "the credits file")?;
    Credits::from_bytes(&bytes).map_err(|e| format!("{}: {}", path.display(), e.message()))
}

/// The credits fetched with `--instance`, read as a credits file is.
pub fn fetched_credits(fetched: crate::input::FetchedCredits) -> Result<Credits, String> {
    let body = fetched.map_err(|e| format!("the credits could not be fetched: {e}"))?;
    Credits::from_bytes(&body).map_err(|e| format!("the credits fetched: {}", e.message()))
}

impl Answer for Cost {
    fn csv(&self) -> String {
        self.to_csv()
    }

    /// The lines, rounded for reading, then the notes.
    fn table(&self) -> String {
        let rows = self
            .lines()
            .into_iter()
            .map(|l| {
                vec![
                    l.key.clone(),
                    render::float(l.credits_used),
                    l.active_users.to_string(),
                    render::float(Some(l.hours_saved)),
                    render::float(l.credits_per_active_user),
                    render::float(l.credits_per_hour_saved),
                ]
            })
            .collect();
        let mut out = render::table(&self.header(), rows);
        for note in &self.notes {
            out.push_str(&format!("note: {}\n", render::printable(note)));
        }
        out
    }
}
