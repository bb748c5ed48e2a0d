//! `sg-analytics inactive`: users with no active day in the last N days.

use lexopt::Parser;
use sg_analytics::{Inactive, InactiveQuery, InactiveStream};

use crate::args::{self, Accepts, Format};
use crate::cmd::{self, Answer, Opened};
use crate::input;
use crate::render;

const USAGE: &str = concat!(
    "\
sg-analytics inactive: users with no active day in the last N days

USAGE:
    sg-analytics inactive [FILE|-] --days N [OPTIONS]
    sg-analytics inactive --instance HOST --days N [OPTIONS]

One line per user of the kept rows with no active day in the N days ending at the range's last
day: their last active day and how long ago it was; with a registry also the registry's users who
never appear and whom the filter is about, with their flags (service accounts left out unless
--include-service-accounts). Memory: from a FILE or stdin without a people file or registry, the
export is read in chunks and dropped, keeping each user's ID, e-mail, username and last active
day (distinct users, not rows); else the table (see FILE below) plus the registry, read whole.

",
    input_help!(),
    "
OPTIONS:
    --days N              inactive: no active day in the N days ending at the range's last day
                          (required)
    --format FMT          table (default), csv or json
    --threads N           threads that parse the export (default: one per core; 1: all on one
                          thread); the answer is the same whatever N
",
    answer_help!(),
);

const ACCEPTS: Accepts = Accepts {
    input: true,
    filters: true,
};

/// Parses the options after `inactive` and prints the answer.
pub fn run(mut parser: Parser) -> Result<(), String> {
    let mut days = None;
    let mut format = Format::Table;
    let mut threads = input::default_threads();
    let own = |name: &str, parser: &mut Parser| {
        match name {
            "days" => days = Some(args::number(parser)?),
            "format" => format = Format::parse(parser)?,
            "threads" => threads = args::number(parser)?,
            _ => return Ok(false),
        }
        Ok(true)
    };
    let Some(common) = cmd::options(&mut parser, USAGE, ACCEPTS, own)? else {
        return Ok(());
    };
    let days = days.ok_or("inactive: --days N is required (see --help)")?;
    if cmd::reads_in_chunks(&common) {
        let destination = cmd::destination(&common)?;
        let query = InactiveQuery {
            days,
            filter: common.filter.clone(),
        };
        let mut stream = InactiveStream::new(&query);
        let (last, end) =
            input::chunks(common.input.as_deref(), threads, |chunk| stream.add(chunk))?;
        let streamed = stream.finish(last, end).map_err(|e| e.to_string())?;
        return cmd::write_streamed(&destination, format, &streamed);
    }
    // With --instance and no --registry FILE, the registry is fetched with the export.
    let (opened, registry) = Opened::with_registry(&common)?;
    let query = InactiveQuery {
        days,
        filter: common.filter,
    };
    let inactive = opened
        .table
        .inactive_users(&query, registry.as_ref())
        .map_err(|e| e.to_string())?;
    opened.answer(format, &inactive)
}

impl Answer for Inactive {
    fn csv(&self) -> String {
        self.to_csv()
    }

    fn table(&self) -> String {
        render::table(&self.header(), self.cells())
    }
}
