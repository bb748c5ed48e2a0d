//! The export into a table: from FILE, stdin or the API, in chunks, and a people file joined.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sg_analytics::{
    Chunk, ChunkEnd, Error, ErrorKind, Filter, Ingester, Parts, Registry, ServiceAccounts, Table,
};

use crate::args::Common;
use crate::render::printable;

/// The credits body as the API served it, or why it could not be fetched.
pub type FetchedCredits = Result<Vec<u8>, String>;

/// What was fetched or read beside the table.
pub struct Sides {
    /// The user registry (`--registry FILE`, or fetched).
    pub registry: Option<Registry>,
    /// The credits fetched: `None` without `--instance` or when not asked for.
    pub credits: Option<FetchedCredits>,
}

/// The table the options name: fetched with `--instance`, else read from FILE or stdin, with
/// the people file of `--attributes` and the registry of `--registry` joined (its service
/// accounts left out unless `--include-service-accounts`); the people file's columns; and with
/// `--instance`, the user registry (when `registry`: one that could not be fetched is said on
/// stderr and left out) and the credits (when `credits`) fetched in the same session.
pub fn table_and_sides(
    common: &Common,
    registry: bool,
    credits: bool,
) -> Result<(Table, Vec<String>, Sides), String> {
    let mut fetched_registry = None;
    let mut fetched_credits = None;
    let mut table = if common.fetch.given() {
        if let Some(input) = &common.input {
            return Err(format!(
                "give either a FILE ({}) or --instance, not both",
                input.display()
            ));
        }
        let filter = &common.filter;
        let options = common
            .fetch
            .check(filter.from.as_deref(), filter.to.as_deref())?;
        let parts = Parts {
            registry: registry && common.registry.is_none(),
            credits,
            ..Parts::REPORT
        };
        let fetched = crate::fetch::run(&options, parts, None).map_err(|e| e.message)?;
        fetched_credits = fetched
            .credits
            .map(|c| c.map(|(_, body)| body).map_err(|e| e.message));
        match fetched.registry {
            Some(Ok((r, _))) => fetched_registry = Some(r),
            Some(Err(e)) => eprintln!(
                "sg-analytics: the user registry could not be fetched, so service accounts \
                 cannot be told apart and are counted like any user: {}",
                printable(&e.message)
            ),
            None => {}
        }
        fetched.report.ok_or("the fetch gave no export")?
    } else {
        read_table(common.input.as_deref())?
    };
    let attributes = match &common.attributes {
        Some(path) => join_attributes(&mut table, path)?,
        None => Vec::new(),
    };
    let registry = match &common.registry {
        Some(path) => {
            let bytes =
                crate::limited::read(path, crate::limited::MAX_SIDE_FILE_BYTES, "the registry")?;
            let registry = Registry::from_bytes(&bytes)
                .map_err(|e| format!("the registry {}: {e}", path.display()))?;
            Some(registry)
        }
        None => fetched_registry,
    };
    match &registry {
        Some(registry) => {
            table.join_registry(registry);
        }
        None if common.filter.exclude_service_accounts == Some(false) => {
            return Err(
                "--include-service-accounts: service accounts are known from a user registry; \
                 give it with --registry FILE"
                    .into(),
            )
        }
        None => {}
    }
    let sides = Sides {
        registry,
        credits: fetched_credits,
    };
    Ok((table, attributes, sides))
}

/// What an answer did with a registry's service accounts, in a sentence.
fn service_accounts_note(service: ServiceAccounts) -> String {
    let n = service.users;
    let accounts = if n == 1 { "account" } else { "accounts" };
    if service.excluded {
        format!(
            "Excludes {n} service {accounts} (marked in the registry); \
             --include-service-accounts counts them."
        )
    } else {
        format!("Includes {n} service {accounts} (marked in the registry).")
    }
}

/// Says what the answer did with the service accounts (`service`: the summary's, or `None` to
/// ask the table): after the text for a table, on stderr for CSV and JSON (whose files stay as
/// the core writes them). Without a registry, nothing.
pub fn with_service_accounts_note(
    text: String,
    table_format: bool,
    table: &Table,
    filter: &Filter,
    service: Option<ServiceAccounts>,
) -> Result<String, String> {
    let service = match service {
        Some(s) => Some(s),
        None => table.service_accounts(filter).map_err(|e| e.to_string())?,
    };
    Ok(match service.map(service_accounts_note) {
        Some(note) if table_format => format!("{text}\n{note}\n"),
        Some(note) => {
            eprintln!("sg-analytics: {note}");
            text
        }
        None => text,
    })
}

/// FILE (stdin for `None` or `-`) into a table, 256 KiB at a time.
fn read_table(path: Option<&Path>) -> Result<Table, String> {
    let name = path.map_or("stdin".to_string(), |p| p.display().to_string());
    let mut input: Box<dyn Read> = match path {
        Some(p) if p.as_os_str() != "-" => {
            Box::new(File::open(p).map_err(|e| format!("cannot open {}: {e}", p.display()))?)
        }
        _ => Box::new(io::stdin().lock()),
    };
    let mut ingester = Ingester::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("reading {name}: {e}")),
        };
        ingester
            .push(&buf[..n])
            .map_err(|e| format!("{name}: {e}"))?;
    }
    ingester.finish().map_err(|e| format!("{name}: {e}"))
}

/// The threads a streamed answer reads and parses with unless `--threads` says: as many as
/// the machine has cores.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Reads FILE (stdin for `None` or `-`) in chunks of rows on `threads` threads
/// ([`sg_analytics::read_chunks`]), handing each to `each` in order; returns the last chunk and
/// what the whole input found. Memory: a few chunks per thread, never the whole export.
pub fn chunks(
    path: Option<&Path>,
    threads: usize,
    each: impl FnMut(Chunk) -> Result<(), Error>,
) -> Result<(Chunk, ChunkEnd), String> {
    let name = path.map_or("stdin".to_string(), |p| p.display().to_string());
    let input: Box<dyn Read + Send> = match path {
        Some(p) if p.as_os_str() != "-" => {
            Box::new(File::open(p).map_err(|e| format!("cannot open {}: {e}", p.display()))?)
        }
        _ => Box::new(io::stdin()),
    };
    chunks_from(&name, input, threads, each)
}

/// [`chunks`] of an input already open, called `name` in the errors.
pub fn chunks_from(
    name: &str,
    input: Box<dyn Read + Send>,
    threads: usize,
    each: impl FnMut(Chunk) -> Result<(), Error>,
) -> Result<(Chunk, ChunkEnd), String> {
    sg_analytics::read_chunks(input, threads, each).map_err(|e| match e.kind() {
        // The question's errors are the question's, not the file's.
        ErrorKind::Query => e.to_string(),
        _ => format!("{name}: {e}"),
    })
}

/// How many of a people file's warnings are printed; the rest are counted.
const SHOWN_WARNINGS: usize = 10;

/// Joins the people file at `path`, saying on stderr how many users it matched; returns its
/// columns.
fn join_attributes(table: &mut Table, path: &Path) -> Result<Vec<String>, String> {
    let bytes = crate::limited::read(path, crate::limited::MAX_SIDE_FILE_BYTES, "the people file")?;
    let join = table.join_attributes(&bytes).map_err(|e| e.to_string())?;
    eprintln!(
        "sg-analytics: people file {}: {} of the export's users matched, {} not (unmapped); \
         attributes {}",
        path.display(),
        join.matched,
        join.unmatched,
        join.attributes.join(", ")
    );
    for w in join.warnings.iter().take(SHOWN_WARNINGS) {
        eprintln!(
            "sg-analytics: people file line {}: {}",
            w.line,
            printable(&w.message)
        );
    }
    if join.warnings_total > SHOWN_WARNINGS as u64 {
        eprintln!(
            "sg-analytics: people file: ... and {} more warning(s)",
            join.warnings_total - SHOWN_WARNINGS as u64
        );
    }
    Ok(join.attributes)
}

/// The ingest's warnings on stderr: how many, and the first.
pub fn report_warnings(table: &Table) {
    let info = table.info();
    report_first_warning(&info.warnings, info.warnings_total, info.input.skipped_rows);
}

/// The warnings on stderr: how many, and the first (`warnings`: the first ones).
pub fn report_first_warning(warnings: &[sg_analytics::Warning], total: u64, skipped_rows: u64) {
    if let Some(first) = warnings.first() {
        eprintln!(
            "sg-analytics: {total} warning(s), {skipped_rows} row(s) skipped; the first: line {}: {}",
            first.line,
            printable(&first.message)
        );
    }
}
