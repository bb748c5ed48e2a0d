//! One file per subcommand: its usage text (also its spec, with what it costs in memory), its
//! options and its run. The answering commands share one prologue here: [`options`] parses the
//! command line (the command's own options, then the shared ones), [`Opened::of`] checks `-o`
//! and reads the table, and [`Opened::write`] writes the answer.

use lexopt::prelude::*;
use lexopt::Parser;
use sg_analytics::{
    ActivityStream, Chunk, ChunkEnd, Error, Filter, PeriodAnswer, PeriodQuery, ServiceAccounts,
    Streamed, Table,
};

use crate::args::{self, Accepts, Common, Flag, Format};
use crate::input::{self, report_first_warning, report_warnings};
use crate::output::{refuse_input_as_output, write_text, Destination};

pub mod convert;
pub mod cost;
pub mod engagement;
pub mod fetch;
pub mod filter;
pub mod growth;
pub mod inactive;
pub mod report;
pub mod retention;
pub mod summarize;

/// Parses the options after a command's name: `own` is offered each long option first (its name
/// and the parser, to take its value) and says whether it took it; the rest are the shared
/// options this command `accepts`. `None` when `--help` printed `usage`.
pub fn options(
    parser: &mut Parser,
    usage: &str,
    accepts: Accepts,
    mut own: impl FnMut(&str, &mut Parser) -> Result<bool, String>,
) -> Result<Option<Common>, String> {
    let mut common = Common::default();
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        let flag = match arg {
            Short('h') | Long("help") => {
                print!("{usage}");
                return Ok(None);
            }
            arg => Flag::from_arg(arg),
        };
        if let Flag::Long(name) = &flag {
            if own(name, parser)? {
                continue;
            }
        }
        common.take(flag, parser, accepts)?;
    }
    Ok(Some(common))
}

/// Where `-o` sends the answer, checked before the input is read (a wrong `-o` costs no read,
/// and `-o` naming the input is refused before either is touched).
pub fn destination(common: &Common) -> Result<Destination, String> {
    let destination = Destination::of(common.output.as_deref())?;
    refuse_input_as_output(common.input.as_deref(), &destination)?;
    Ok(destination)
}

/// What an answering command works on: where its answer goes, the table, the people file's
/// columns, and the filter (for what the answer says of the service accounts).
pub struct Opened {
    /// Where the answer goes.
    pub destination: Destination,
    /// The export, with the people file and the registry joined.
    pub table: Table,
    /// The people file's columns (empty without one).
    pub attributes: Vec<String>,
    /// The filters given.
    pub filter: Filter,
}

impl Opened {
    /// Checks `-o` ([`destination`]), then reads the table the options name. Every answer is
    /// about users: with `--instance` (and no `--registry FILE`) the user registry is fetched in
    /// the same session and joined, so its service accounts are left out by default, as with a
    /// registry file, and the answer says so.
    pub fn of(common: &Common) -> Result<Opened, String> {
        Opened::with_registry(common).map(|(opened, _)| opened)
    }

    /// [`Opened::of`], and the user registry joined (`--registry FILE` or fetched).
    pub fn with_registry(
        common: &Common,
    ) -> Result<(Opened, Option<sg_analytics::Registry>), String> {
        Opened::with_sides(common, false).map(|(opened, i)| (opened, i.registry))
    }

    /// [`Opened::of`], and with `--instance` and `credits`, the credits fetched in the same session
    /// ([`input::table_and_sides`]; `None` without `--instance`).
    pub fn with_credits(
        common: &Common,
        credits: bool,
    ) -> Result<(Opened, Option<input::FetchedCredits>), String> {
        Opened::with_sides(common, credits).map(|(opened, i)| (opened, i.credits))
    }

    /// The table, and what the fetch brought beside it (the registry always).
    fn with_sides(common: &Common, credits: bool) -> Result<(Opened, input::Sides), String> {
        let destination = destination(common)?;
        let (table, attributes, sides) = input::table_and_sides(common, true, credits)?;
        let opened = Opened {
            destination,
            table,
            attributes,
            filter: common.filter.clone(),
        };
        Ok((opened, sides))
    }

    /// Writes an answer given in `format`; after a CSV (read by a program, not a person) the
    /// ingest's warnings go to stderr, which the table and JSON formats carry or need not.
    /// With a registry joined, the answer also says what it did with the service accounts
    /// (after a table; on stderr for CSV and JSON).
    pub fn write(&self, format: Format, text: &str) -> Result<(), String> {
        self.write_noting(format, text, None)
    }

    /// Writes a document (the report) as it is: what it did with a registry's service accounts
    /// goes to stderr, never into the document.
    pub fn write_document(&self, text: &str) -> Result<(), String> {
        write_text(&self.destination, text)?;
        input::with_service_accounts_note(String::new(), false, &self.table, &self.filter, None)
            .map(drop)
    }

    /// [`Opened::write`], given what the answer did with the service accounts when it says so
    /// itself (a summary), else asking the table.
    pub fn write_noting(
        &self,
        format: Format,
        text: &str,
        service: Option<ServiceAccounts>,
    ) -> Result<(), String> {
        let text = input::with_service_accounts_note(
            text.to_string(),
            format == Format::Table,
            &self.table,
            &self.filter,
            service,
        )?;
        write_text(&self.destination, &text)?;
        if format == Format::Csv {
            report_warnings(&self.table);
        }
        Ok(())
    }
}

/// `--period week|month`.
pub fn period(parser: &mut Parser) -> Result<sg_analytics::Period, String> {
    sg_analytics::Period::parse(&args::string(parser)?).map_err(|e| format!("--{}", e.message()))
}

/// An answer the commands write in the three formats.
pub trait Answer: serde::Serialize {
    /// As CSV: the core's writer (the page's download is the same file).
    fn csv(&self) -> String;
    /// As an aligned table, for reading.
    fn table(&self) -> String;
}

/// `answer` in `format`.
fn answer_text(format: Format, answer: &impl Answer) -> Result<String, String> {
    Ok(match format {
        Format::Csv => answer.csv(),
        Format::Json => serde_json::to_string(answer).map_err(|e| e.to_string())? + "\n",
        Format::Table => answer.table(),
    })
}

impl Opened {
    /// Writes `answer` in `format` (see [`Opened::write`]).
    pub fn answer(&self, format: Format, answer: &impl Answer) -> Result<(), String> {
        self.write(format, &answer_text(format, answer)?)
    }
}

/// Whether a question known before reading can be answered from the input read in chunks
/// (memory: the groups and the distinct users, not the rows): not when it needs the whole
/// table — a fetch, a people file, a registry (or a choice about its service accounts).
pub fn reads_in_chunks(common: &Common) -> bool {
    !common.fetch.given()
        && common.attributes.is_none()
        && common.registry.is_none()
        && common.filter.exclude_service_accounts.is_none()
        && common.filter.attributes.is_empty()
}

/// Writes an answer read in chunks in `format`; after a CSV, the input's warnings go to stderr
/// (as [`Opened::write`] does).
pub fn write_streamed<A: Answer>(
    destination: &Destination,
    format: Format,
    streamed: &Streamed<A>,
) -> Result<(), String> {
    write_text(destination, &answer_text(format, &streamed.answer)?)?;
    if format == Format::Csv {
        let total = streamed.warnings_total;
        report_first_warning(&streamed.warnings, total, streamed.skipped_rows);
    }
    Ok(())
}

/// How a per-period command answers from the input read in chunks: which answer, and the
/// stream's end that gives it (`ActivityStream::growth`, `ActivityStream::retention`).
pub type PeriodStream<A> = (
    PeriodAnswer,
    fn(ActivityStream, Chunk, ChunkEnd) -> Result<Streamed<A>, Error>,
);

/// A command answering per period (growth, retention, stickiness, features): takes `--period`,
/// `--format` and the shared options, then writes what `ask` answers to the query. With
/// `stream`, the command also takes `--threads` and, when [`reads_in_chunks`], answers from
/// the input read in chunks instead of the whole table (the same answer).
pub fn run_per_period<A: Answer>(
    mut parser: Parser,
    usage: &str,
    ask: impl FnOnce(&Table, &PeriodQuery) -> Result<A, Error>,
    stream: Option<PeriodStream<A>>,
) -> Result<(), String> {
    let mut query = PeriodQuery::default();
    let mut format = Format::Table;
    let mut threads = input::default_threads();
    let own = |name: &str, parser: &mut Parser| {
        match name {
            "period" => query.period = period(parser)?,
            "format" => format = Format::parse(parser)?,
            "min-sample" => query.min_sample = Some(args::number(parser)?),
            "threads" if stream.is_some() => threads = args::number(parser)?,
            _ => return Ok(false),
        }
        Ok(true)
    };
    let accepts = Accepts {
        input: true,
        filters: true,
    };
    let Some(common) = options(&mut parser, usage, accepts, own)? else {
        return Ok(());
    };
    if let Some((answer, finish)) = stream.filter(|_| reads_in_chunks(&common)) {
        let destination = destination(&common)?;
        query.filter = common.filter.clone();
        let mut stream = ActivityStream::new(&query, answer);
        let (last, end) =
            input::chunks(common.input.as_deref(), threads, |chunk| stream.add(chunk))?;
        let streamed = finish(stream, last, end).map_err(|e| e.to_string())?;
        return write_streamed(&destination, format, &streamed);
    }
    let opened = Opened::of(&common)?;
    query.filter = common.filter;
    let answer = ask(&opened.table, &query).map_err(|e| e.to_string())?;
    opened.answer(format, &answer)
}
