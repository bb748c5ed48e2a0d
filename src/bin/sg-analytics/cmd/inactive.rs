//! `sg-analytics inactive`: users with no active day in the last N days.

use lexopt::Parser;
use sg_analytics::{Inactive, InactiveQuery, Registry};

use crate::args::{self, Accepts, Format};
use crate::cmd::{self, Answer, Opened};
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
    answer_help!(),
);

const ACCEPTS: Accepts = Accepts {
    input: true,
    filters: true,
};

/// Parses the options after `inactive` and prints the answer.
pub fn run(mut parser: Parser) -> Result<(), String> {
    let mut days = None;
    let mut registry = None;
    let mut format = Format::Table;
    let own = |name: &str, parser: &mut Parser| {
        match name {
            "days" => days = Some(args::number(parser)?),
            "registry" => registry = Some(args::path(parser)?),
            "format" => format = Format::parse(parser)?,
            _ => return Ok(false),
        }
        Ok(true)
    };
    let Some(common) = cmd::options(&mut parser, USAGE, ACCEPTS, own)? else {
        return Ok(());
    };
    let days = days.ok_or("inactive: --days N is required (see --help)")?;
    // With --instance and no --registry FILE, the registry is fetched with the export.
    let (opened, fetched) = Opened::with_registry(&common, registry.is_none())?;
    let registry = registry
        .map(|path| {
            let bytes =
                crate::limited::read(&path, crate::limited::MAX_SIDE_FILE_BYTES, "the registry")?;
            Registry::from_bytes(&bytes).map_err(|e| e.to_string())
        })
        .transpose()?
        .or(fetched);
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
