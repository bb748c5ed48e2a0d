//! The `sg-analytics` command line: summarize or filter an Analytics export, downloaded or fetched.
//!
//! A thin adapter over the library: it reads the file (or stdin) in chunks into an `Ingester`, so
//! memory is the compact table (tens of bytes a row), never the whole file.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(cli::main());
}

#[cfg(not(target_arch = "wasm32"))]
#[path = "sg-analytics/fetch.rs"]
mod fetch;
#[cfg(not(target_arch = "wasm32"))]
#[path = "sg-analytics/fetch_args.rs"]
mod fetch_args;

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::fs::File;
    use std::io::{self, BufWriter, Read, Seek, Write};
    use std::path::{Path, PathBuf};

    use lexopt::prelude::*;
    use serde_json::Value;
    use sg_analytics::{
        Fetched, Filter, InactiveQuery, Ingester, Parts, Period, PeriodQuery, Query, Registry,
        Sort, Summary, Table,
    };

    use crate::fetch_args::{FetchArgs, TOKEN_VARIABLE};

    const USAGE: &str = "\
sg-analytics: summarize Sourcegraph Analytics usage exports (CSV)

USAGE:
    sg-analytics summarize [FILE|-] [OPTIONS]    print totals and grouped metrics
    sg-analytics filter [FILE|-] [OPTIONS]       write the rows that pass the filters as CSV
    sg-analytics growth [FILE|-] [OPTIONS]       active, new, retained, resurrected and churned
                                                 users per period, and the quick ratio
    sg-analytics retention [FILE|-] [OPTIONS]    how many of each first-active cohort are active
                                                 k periods later
    sg-analytics inactive [FILE|-] --days N      users with no active day in the last N days
    sg-analytics fetch --instance HOST [OPTIONS] download the export from the Analytics API
    sg-analytics summarize|filter --instance HOST [OPTIONS]   fetch, then answer

FILE is an export from /api/reports/by-user-client-date (any granularity); `-` or no FILE reads
stdin. The file is read in chunks into a columnar table (about 43 bytes a row at the finest
granularity, a third of the file), so a 500 MB export needs about 160 MB of memory.

FILTERS (every command):
    --from DATE           first day kept, YYYY-MM-DD (month rows: kept when the month overlaps)
    --to DATE             last day kept, YYYY-MM-DD
    --user S              keep this user (ID, e-mail or username; exact, any case); repeatable
    --user-search TEXT    keep users whose ID, e-mail or username contains TEXT
    --client C            keep this client (Client Name); repeatable
    --language L          keep this language; repeatable
    --active-only         keep rows whose Active Sourcegraph User is true
    --attributes FILE     a people file: a CSV keyed by Instance user ID, User Email or Username
                          whose other columns (Team, Department, ...) become group keys (--by
                          Team) and filters; users without a line are (unmapped)
    --where COL=V[,V...]  keep users whose people-file column COL is one of the values (any
                          case; an empty value keeps the unmapped); repeatable

SUMMARIZE OPTIONS:
    --by KEY,...          group by user, day, week, month, client, language (in that order of nesting)
    --minutes F=N,...     minutes saved per use of a feature (completions=2, autoEdits=2, chat=5,
                          commands=5, searches=5, navigation=1, or the column names)
    --sort KEY[:desc]     order groups by a key or a metric (default: by the keys)
    --limit N             at most N groups
    --offset N            skip the first N groups
    --format FMT          table (default, aligned for reading), csv (the grouped result, or one
                          totals row) or json (the full summary)
    --columns A,B,...     metrics shown per group in the table format
    --compare previous    also the totals over the equally long range just before (--from/--to,
                          else the export's dates), with the change in percent

FILTER AND FETCH OPTIONS:
    -o, --output FILE     write to FILE instead of stdout (fetch: only once the whole export
                          arrived, through a temporary file beside FILE, so a failed fetch leaves
                          FILE as it was)

FETCH OPTIONS (fetch, and summarize, filter, growth, retention or inactive instead of a FILE):
    --instance HOST       your Sourcegraph instance (https://host/... is reduced to the host)
    --granularity G       by_user, by_user_month, by_user_day or by_user_day_client_language
                          (the default, the finest)
    --from D, --to D      the range to fetch, YYYY-MM-DD, inclusive (also the filter's range)
    --base-url URL        the API (default https://analytics.sourcegraph.com); https:// only,
                          http:// only for localhost and 127.0.0.1
    --month-windows       one request per calendar month of --from..--to (each window checked,
                          a failed one retried alone)
    --max-retries N       retries per request of 429, 5xx, cut or stalled bodies and windows
                          outside their dates (default 3, at most 10), waiting what Retry-After
                          asks (at most 60 s) or backing off
    --idle-timeout SECS   a body that brings less than 16 KiB in SECS seconds (default 60, at most
                          3600) has stalled: it is given up and retried, never waited on for ever
    --registry FILE       fetch: also write the user registry (CSV, as served) to FILE
    --credits FILE        fetch: also write the credits (JSON or CSV, as served) to FILE; with
                          --registry, every file is written only when all of them came
    --token-file FILE     read the token from FILE (- for stdin); else from the environment
                          variable SG_ANALYTICS_TOKEN. Never give the token as an argument: every
                          process on the machine can read another's arguments.
The fetch follows no redirect (the token must not go elsewhere); an HTML page or a body cut short
is an error, never a partial export. The export is buffered in a temporary file, not in memory;
a month window is held in memory (its size) until it is checked. Bodies are bounded after
decompression: the export 2 GiB, a window 512 MiB, the registry 64 MiB, the credits 16 MiB. An
API on localhost or 127.0.0.1 is never reached through HTTP_PROXY or ALL_PROXY.

GROWTH AND RETENTION OPTIONS:
    --period P            week (Monday start; day-grain exports) or month (default)
    --format FMT          table (default), csv or json

INACTIVE OPTIONS:
    --days N              inactive: no active day in the N days ending at the range's last day
    --registry FILE       a user registry CSV (Instance user ID, Service account, Site admin):
                          its users who never appear are listed too, with their flags; with
                          --instance and no --registry, the registry is fetched with the export
    --format FMT          table (default), csv or json

A user is active on a day when a kept row of theirs that day has a true Active Sourcegraph User
(without that column: any kept row). The range is --from/--to, else the kept rows' first and last
dates. by_user exports have no dates: growth, retention and inactive say which export to fetch.

Exit status: 0 on success, 2 on a usage or input error (with a message on stderr).
";

    const COMMANDS: &str = "summarize, filter, fetch, growth, retention or inactive";

    /// The metrics shown per group in the table format unless `--columns` says otherwise.
    const TABLE_COLUMNS: &[&str] = &[
        "users",
        "activeUsers",
        "avgDau",
        "hoursSaved",
        "Searches",
        "Chat Events",
        "Combined Completion Acceptances",
        "Combined CAR",
        "Percentage of Code Written by Cody",
    ];

    #[derive(Clone, Copy, PartialEq)]
    enum Format {
        Table,
        Csv,
        Json,
    }

    struct Args {
        command: String,
        input: Option<PathBuf>,
        output: Option<PathBuf>,
        query: Query,
        format: Format,
        columns: Option<Vec<String>>,
        period: Period,
        days: Option<u32>,
        registry: Option<PathBuf>,
        credits: Option<PathBuf>,
        attributes: Option<PathBuf>,
        fetch: FetchArgs,
    }

    pub fn main() -> i32 {
        match run() {
            Ok(()) => 0,
            Err(message) => {
                eprintln!("sg-analytics: error: {}", printable(&message));
                2
            }
        }
    }

    fn parse_args() -> Result<Option<Args>, String> {
        let mut parser = lexopt::Parser::from_env();
        let mut args = Args {
            command: String::new(),
            input: None,
            output: None,
            query: Query::default(),
            format: Format::Table,
            columns: None,
            period: Period::Month,
            days: None,
            registry: None,
            credits: None,
            attributes: None,
            fetch: FetchArgs::default(),
        };
        let list = |v: String| -> Vec<String> {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let e = |e: lexopt::Error| e.to_string();
        while let Some(arg) = parser.next().map_err(e)? {
            let f: &mut Filter = &mut args.query.filter;
            match arg {
                Short('h') | Long("help") => {
                    print!("{USAGE}");
                    return Ok(None);
                }
                Short('V') | Long("version") => {
                    println!("sg-analytics {}", env!("CARGO_PKG_VERSION"));
                    return Ok(None);
                }
                Long("from") => f.from = Some(parser.value().map_err(e)?.string().map_err(e)?),
                Long("to") => f.to = Some(parser.value().map_err(e)?.string().map_err(e)?),
                Long("user") => f
                    .users
                    .push(parser.value().map_err(e)?.string().map_err(e)?),
                Long("user-search") => {
                    f.user_search = Some(parser.value().map_err(e)?.string().map_err(e)?)
                }
                Long("client") => f
                    .clients
                    .push(parser.value().map_err(e)?.string().map_err(e)?),
                Long("language") => f
                    .languages
                    .push(parser.value().map_err(e)?.string().map_err(e)?),
                Long("active-only") => f.active_only = true,
                Long("by") => {
                    let v = parser.value().map_err(e)?.string().map_err(e)?;
                    args.query.group_by.extend(list(v));
                }
                Long("minutes") => {
                    let v = parser.value().map_err(e)?.string().map_err(e)?;
                    for pair in list(v) {
                        let (name, minutes) = pair.split_once('=').ok_or_else(|| {
                            format!("--minutes: expected FEATURE=MINUTES, found {pair:?}")
                        })?;
                        let minutes: f64 = minutes.trim().parse().map_err(|_| {
                            format!("--minutes: {minutes:?} is not a number of minutes")
                        })?;
                        args.query
                            .minutes_saved
                            .insert(name.trim().to_string(), minutes);
                    }
                }
                Long("sort") => {
                    let v = parser.value().map_err(e)?.string().map_err(e)?;
                    let (by, desc) = match v.rsplit_once(':') {
                        Some((by, "desc")) => (by.to_string(), true),
                        Some((by, "asc")) => (by.to_string(), false),
                        _ => (v, false),
                    };
                    args.query.sort = Some(Sort { by, desc });
                }
                Long("limit") => {
                    args.query.limit = Some(parser.value().map_err(e)?.parse().map_err(e)?)
                }
                Long("offset") => {
                    args.query.offset = parser.value().map_err(e)?.parse().map_err(e)?
                }
                Long("format") => {
                    args.format = match parser.value().map_err(e)?.string().map_err(e)?.as_str() {
                        "table" => Format::Table,
                        "csv" => Format::Csv,
                        "json" => Format::Json,
                        other => {
                            return Err(format!(
                                "--format: expected table, csv or json, found {other:?}"
                            ))
                        }
                    }
                }
                Long("columns") => {
                    args.columns = Some(list(parser.value().map_err(e)?.string().map_err(e)?))
                }
                Long("compare") => {
                    let v = parser.value().map_err(e)?.string().map_err(e)?;
                    args.query.compare = Some(
                        serde_json::from_value(Value::String(v.clone())).map_err(|_| {
                            format!("--compare: expected \"previous\", found {v:?}")
                        })?,
                    );
                }
                Long("period") => {
                    let v = parser.value().map_err(e)?.string().map_err(e)?;
                    args.period = Period::parse(&v).map_err(|e| format!("--{}", e.message()))?;
                }
                Long("days") => args.days = Some(parser.value().map_err(e)?.parse().map_err(e)?),
                Long("registry") => args.registry = Some(parser.value().map_err(e)?.into()),
                Long("credits") => args.credits = Some(parser.value().map_err(e)?.into()),
                Long("idle-timeout") => {
                    args.fetch.idle_timeout = Some(parser.value().map_err(e)?.string().map_err(e)?)
                }
                Long("attributes") => args.attributes = Some(parser.value().map_err(e)?.into()),
                Long("where") => {
                    let v = parser.value().map_err(e)?.string().map_err(e)?;
                    let (name, values) = v.split_once('=').ok_or_else(|| {
                        format!("--where: expected COLUMN=VALUE[,VALUE...], found {v:?}")
                    })?;
                    let kept = f.attributes.entry(name.trim().to_string()).or_default();
                    kept.extend(values.split(',').map(|s| s.trim().to_string()));
                }
                Short('o') | Long("output") => {
                    args.output = Some(parser.value().map_err(e)?.into())
                }
                Long("instance") => {
                    args.fetch.instance = Some(parser.value().map_err(e)?.string().map_err(e)?)
                }
                Long("granularity") => {
                    args.fetch.granularity = Some(parser.value().map_err(e)?.string().map_err(e)?)
                }
                Long("base-url") => {
                    args.fetch.base_url = Some(parser.value().map_err(e)?.string().map_err(e)?)
                }
                Long("month-windows") => args.fetch.month_windows = true,
                Long("max-retries") => {
                    args.fetch.max_retries = Some(parser.value().map_err(e)?.string().map_err(e)?)
                }
                Long("token-file") => {
                    args.fetch.token_file = Some(parser.value().map_err(e)?.into())
                }
                // Refused without reading its value, so the token is not echoed anywhere.
                Long("token") => {
                    return Err(format!(
                        "--token is not accepted: a command's arguments are visible to every \
                         process on the machine. Set {TOKEN_VARIABLE} or use --token-file FILE"
                    ))
                }
                Value(v) if args.command.is_empty() => args.command = v.string().map_err(e)?,
                Value(v) if args.input.is_none() => args.input = Some(v.into()),
                other => return Err(other.unexpected().to_string()),
            }
        }
        match args.command.as_str() {
            "summarize" | "filter" | "growth" | "retention" | "fetch" => Ok(Some(args)),
            "inactive" if args.days.is_some() => Ok(Some(args)),
            "inactive" => Err("inactive: --days N is required (see --help)".into()),
            "" => Err(format!("expected a command: {COMMANDS}\n\n{USAGE}")),
            other => Err(format!(
                "unknown command {other:?}: expected {COMMANDS} (see --help)"
            )),
        }
    }

    fn run() -> Result<(), String> {
        let Some(args) = parse_args()? else {
            return Ok(());
        };
        if args.command == "summarize" && args.output.is_some() {
            return Err("--output is for the filter command; redirect summarize's output".into());
        }
        if let (Some(output), Some(input)) = (&args.output, &args.input) {
            // Same file by device and inode: another spelling, a symlink or a hard link too.
            if input.as_os_str() != "-" && same_file::is_same_file(input, output).unwrap_or(false) {
                return Err(format!(
                    "-o {} names the input file: the rows would overwrite the export they come \
                     from; write them to another file",
                    output.display()
                ));
            }
        }
        if args.registry.is_some() && !matches!(args.command.as_str(), "inactive" | "fetch") {
            return Err("--registry is for the inactive and fetch commands".into());
        }
        if args.credits.is_some() && args.command != "fetch" {
            return Err("--credits is for the fetch command".into());
        }
        if args.command == "fetch" {
            return fetch(&args);
        }
        let mut fetched_registry = None;
        let mut table = if args.fetch.given() {
            if let Some(input) = &args.input {
                return Err(format!(
                    "give either a FILE ({}) or --instance, not both",
                    input.display()
                ));
            }
            let filter = &args.query.filter;
            let options = args
                .fetch
                .check(filter.from.as_deref(), filter.to.as_deref())?;
            // inactive joins the registry: fetched with the export unless --registry names a file.
            let registry = args.command == "inactive" && args.registry.is_none();
            let parts = Parts {
                registry,
                ..Parts::REPORT
            };
            let fetched = crate::fetch::run(&options, parts, None).map_err(|e| e.message)?;
            match fetched.registry {
                Some(Ok((r, _))) => fetched_registry = Some(r),
                Some(Err(e)) => eprintln!(
                    "sg-analytics: the user registry could not be fetched, so users are listed \
                     without it: {}",
                    e.message
                ),
                None => {}
            }
            fetched.report.ok_or("the fetch gave no export")?
        } else {
            read_table(args.input.as_ref())?
        };
        let mut attribute_names = Vec::new();
        if let Some(path) = &args.attributes {
            let bytes =
                std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
            let join = table.join_attributes(&bytes).map_err(|e| e.to_string())?;
            eprintln!(
                "sg-analytics: people file {}: {} of the export's users matched, {} not \
                 (unmapped); attributes {}",
                path.display(),
                join.matched,
                join.unmatched,
                join.attributes.join(", ")
            );
            for w in &join.warnings {
                eprintln!(
                    "sg-analytics: people file line {}: {}",
                    w.line,
                    printable(&w.message)
                );
            }
            attribute_names = join.attributes;
        }
        let stdout = io::stdout();
        match args.command.as_str() {
            "growth" | "retention" | "inactive" => {
                let text = adoption(&table, &args, fetched_registry)?;
                write_stdout(&text)?;
                if args.format == Format::Csv {
                    report_warnings(&table);
                }
                Ok(())
            }
            "filter" => {
                let written = match &args.output {
                    Some(path) => write_atomically(path, |out| {
                        table
                            .write_filtered_csv(&args.query.filter, out)
                            .map_err(|e| e.to_string())
                    })?,
                    None => table
                        .write_filtered_csv(&args.query.filter, BufWriter::new(stdout.lock()))
                        .map_err(|e| e.to_string())?,
                };
                eprintln!("sg-analytics: {written} of {} rows written", table.rows());
                report_warnings(&table);
                Ok(())
            }
            _ => {
                let summary = table.summarize(&args.query).map_err(|e| e.to_string())?;
                let text = match args.format {
                    Format::Json => summary.to_json() + "\n",
                    Format::Csv => summary.to_csv(),
                    Format::Table => {
                        render_table(&summary, args.columns.as_deref(), &attribute_names)
                    }
                };
                write_stdout(&text)?;
                if args.format == Format::Csv {
                    report_warnings(&table);
                }
                Ok(())
            }
        }
    }

    fn write_stdout(text: &str) -> Result<(), String> {
        let mut out = io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .or_else(|e| {
                // A closed pipe (`| head`) is not an error of ours.
                if e.kind() == io::ErrorKind::BrokenPipe {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .map_err(|e| format!("writing the output: {e}"))
    }

    /// The growth, retention or inactive answer in the asked format.
    fn adoption(table: &Table, args: &Args, fetched: Option<Registry>) -> Result<String, String> {
        let period = PeriodQuery {
            period: args.period,
            filter: args.query.filter.clone(),
        };
        let (json, header, rows): (Value, Vec<String>, Vec<Vec<String>>) =
            match args.command.as_str() {
                "growth" => {
                    let growth = table.growth(&period).map_err(|e| e.to_string())?;
                    // The core's writer: the page's download is the same file.
                    if args.format == Format::Csv {
                        return Ok(growth.to_csv());
                    }
                    let header = growth.header().into_iter().map(String::from).collect();
                    let json = serde_json::to_value(&growth).map_err(|e| e.to_string())?;
                    (json, header, growth.cells())
                }
                "retention" => {
                    let retention = table.retention(&period).map_err(|e| e.to_string())?;
                    // The core's writer: the page's download is the same file.
                    if args.format == Format::Csv {
                        return Ok(retention.to_csv());
                    }
                    let rows = retention
                        .cohorts
                        .iter()
                        .map(|c| {
                            let share =
                                |n: u64| format!("{n} ({:.0}%)", 100.0 * n as f64 / c.users as f64);
                            [c.cohort.clone(), c.users.to_string()]
                                .into_iter()
                                .chain(c.active.iter().map(|&n| share(n)))
                                .collect()
                        })
                        .collect();
                    let json = serde_json::to_value(&retention).map_err(|e| e.to_string())?;
                    (json, retention.header(), rows)
                }
                _ => {
                    let registry = args
                        .registry
                        .as_ref()
                        .map(|path| {
                            let bytes = std::fs::read(path)
                                .map_err(|e| format!("reading {}: {e}", path.display()))?;
                            Registry::from_bytes(&bytes).map_err(|e| e.to_string())
                        })
                        .transpose()?
                        .or(fetched);
                    let query = InactiveQuery {
                        days: args.days.unwrap_or(0),
                        filter: args.query.filter.clone(),
                    };
                    let inactive = table
                        .inactive_users(&query, registry.as_ref())
                        .map_err(|e| e.to_string())?;
                    // The core's writer: the page's download is the same file.
                    if args.format == Format::Csv {
                        return Ok(inactive.to_csv());
                    }
                    let header = inactive.header().into_iter().map(String::from).collect();
                    let json = serde_json::to_value(&inactive).map_err(|e| e.to_string())?;
                    (json, header, inactive.cells())
                }
            };
        Ok(match args.format {
            // CSV was written by the core above; JSON and the table remain.
            Format::Json | Format::Csv => json.to_string() + "\n",
            Format::Table => {
                let cells: Vec<Vec<String>> = std::iter::once(header)
                    .chain(rows)
                    .map(|r| r.iter().map(|c| printable(c)).collect())
                    .collect();
                aligned(&cells, 1)
            }
        })
    }

    /// Writes through `write` into a temporary file beside `path`, then renames it over `path`:
    /// an existing file is replaced only by a whole answer, never truncated by a failed one
    /// (DESIGN: "Limits on hostile input"). A failure leaves no temporary file behind.
    fn write_atomically<T>(
        path: &Path,
        write: impl FnOnce(&mut BufWriter<&mut File>) -> Result<T, String>,
    ) -> Result<T, String> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let cannot = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
        let mut temp = tempfile::Builder::new()
            .prefix(".sg-analytics-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| cannot(&e))?;
        let result = {
            let mut out = BufWriter::new(temp.as_file_mut());
            let result = write(&mut out)?;
            out.flush().map_err(|e| cannot(&e))?;
            result
        };
        // The new file keeps the permissions of the one it replaces (a temporary file is 0600).
        if let Ok(meta) = std::fs::metadata(path) {
            let _ = temp.as_file().set_permissions(meta.permissions());
        }
        temp.as_file().sync_all().map_err(|e| cannot(&e))?;
        temp.persist(path).map_err(|e| cannot(&e.error))?;
        Ok(result)
    }

    /// `sg-analytics fetch`: the export as received, to stdout or `-o FILE`.
    fn fetch(args: &Args) -> Result<(), String> {
        if let Some(input) = &args.input {
            return Err(format!(
                "fetch takes no FILE ({}): it downloads the export; -o FILE writes it",
                input.display()
            ));
        }
        if !args.fetch.given() {
            return Err("fetch needs --instance HOST (see --help)".into());
        }
        let filter = &args.query.filter;
        let options = args
            .fetch
            .check(filter.from.as_deref(), filter.to.as_deref())?;
        let parts = Parts {
            registry: args.registry.is_some(),
            credits: args.credits.is_some(),
            ..Parts::REPORT
        };
        let outputs = [(&args.registry, "--registry"), (&args.credits, "--credits")];
        // The export goes through a file, never memory: beside -o FILE and renamed over it once
        // everything came, or an unnamed one copied to stdout.
        let run = |file: File| -> Result<Fetched, String> {
            let fetched = crate::fetch::run(&options, parts, Some(file)).map_err(|e| e.message)?;
            let bodies = [
                fetched.registry.as_ref().map(|r| r.as_ref().map(|r| &r.1)),
                fetched.credits.as_ref().map(|c| c.as_ref().map(|c| &c.1)),
            ];
            // All or nothing: the files are written only when every output asked for came, the
            // export last.
            for ((_, flag), body) in outputs.iter().zip(&bodies) {
                if let Some(Err(e)) = body {
                    return Err(format!("{flag}: {}", e.message));
                }
            }
            for ((path, _), body) in outputs.iter().zip(bodies) {
                if let (Some(path), Some(Ok(body))) = (path, body) {
                    write_atomically(path, |out| out.write_all(body).map_err(|e| e.to_string()))?;
                }
            }
            Ok(fetched)
        };
        let clone = |f: &File| f.try_clone().map_err(|e| format!("the output file: {e}"));
        let fetched = match &args.output {
            Some(path) => write_atomically(path, |out| run(clone(out.get_mut())?))?,
            None => {
                let mut file = tempfile::tempfile()
                    .map_err(|e| format!("cannot create a temporary file: {e}"))?;
                let fetched = run(clone(&file)?)?;
                let copied = file.rewind().and_then(|()| {
                    let mut out = io::stdout().lock();
                    io::copy(&mut file, &mut out).and_then(|_| out.flush())
                });
                match copied {
                    Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                        return Err(format!("writing the output: {e}"))
                    }
                    _ => fetched,
                }
            }
        };
        let table = fetched.report.ok_or("the fetch gave no export")?;
        eprintln!(
            "sg-analytics: fetched {} rows ({}){}",
            table.rows(),
            table.granularity().as_str(),
            args.output
                .as_ref()
                .map_or(String::new(), |p| format!(" into {}", p.display()))
        );
        report_warnings(&table);
        Ok(())
    }

    fn read_table(path: Option<&PathBuf>) -> Result<Table, String> {
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

    fn report_warnings(table: &Table) {
        let info = table.info();
        if info.warnings_total > 0 {
            eprintln!(
                "sg-analytics: {} warning(s), {} row(s) skipped; the first: line {}: {}",
                info.warnings_total,
                info.input.skipped_rows,
                info.warnings[0].line,
                printable(&info.warnings[0].message)
            );
        }
    }

    /// Text from the export as the terminal shows it: control characters (an escape sequence
    /// would recolour, move the cursor or retitle the terminal, a newline would break the
    /// table) are written as escapes, `\u{1b}`.
    fn printable(text: &str) -> String {
        if !text.chars().any(char::is_control) {
            return text.to_string();
        }
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    }

    fn format_value(v: &Value) -> String {
        match v {
            Value::Null => "—".to_string(),
            Value::String(s) => printable(s),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) if n.is_f64() => {
                let x = n.as_f64().unwrap_or(0.0);
                if x.abs() < 1.0 {
                    format!("{x:.4}")
                } else {
                    format!("{x:.2}")
                }
            }
            other => other.to_string(),
        }
    }

    fn aligned(rows: &[Vec<String>], right_from: usize) -> String {
        let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for row in rows {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(c, cell)| {
                    let pad = " ".repeat(widths[c] - cell.chars().count());
                    if c >= right_from {
                        format!("{pad}{cell}")
                    } else {
                        format!("{cell}{pad}")
                    }
                })
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        out
    }

    /// The change from `before` to `now` in percent ("+12%"), or "—" when it has no meaning.
    fn change(now: &Value, before: &Value) -> String {
        match (now.as_f64(), before.as_f64()) {
            (Some(n), Some(b)) if b != 0.0 => format!("{:+.0}%", 100.0 * (n - b) / b),
            _ => "—".to_string(),
        }
    }

    fn render_table(
        summary: &Summary,
        columns: Option<&[String]>,
        table_attributes: &[String],
    ) -> String {
        let json = summary.to_value();
        let input = &json["input"];
        let mut out = format!(
            "{} export: {} rows ({} skipped), {} to {}, {} warning(s)\n",
            input["granularity"].as_str().unwrap_or("?"),
            input["rows"],
            input["skippedRows"],
            input["firstDate"].as_str().unwrap_or("—"),
            input["lastDate"].as_str().unwrap_or("—"),
            json["warningsTotal"]
        );
        if let Some(warnings) = json["warnings"].as_array() {
            for w in warnings.iter().take(10) {
                let column = w["column"]
                    .as_str()
                    .map_or(String::new(), |c| format!(", {}", printable(c)));
                out.push_str(&format!(
                    "  warning: line {}{column}: {}\n",
                    w["line"],
                    printable(w["message"].as_str().unwrap_or(""))
                ));
            }
            let total = json["warningsTotal"].as_u64().unwrap_or(0);
            if total > 10 {
                out.push_str(&format!("  ... and {} more\n", total - 10));
            }
        }
        let approximate: Vec<&str> = json["approximate"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        out.push_str("\nTotals\n");
        let totals = summary.totals();
        let previous = &json["previous"];
        let mut rows: Vec<Vec<String>> = totals
            .iter()
            .map(|(k, v)| {
                let label = if approximate.contains(&k.as_str()) {
                    format!("{k} (approximate)")
                } else {
                    k.clone()
                };
                let mut row = vec![format!("  {}", printable(&label)), format_value(v)];
                if previous.is_object() {
                    let before = &previous["totals"][k];
                    row.push(format_value(before));
                    row.push(change(v, before));
                }
                row
            })
            .collect();
        if previous.is_object() {
            let range = &previous["range"];
            let head = format!(
                "previous {} to {}",
                range["from"].as_str().unwrap_or("?"),
                range["to"].as_str().unwrap_or("?")
            );
            rows.insert(0, vec![String::new(), "now".into(), head, "change".into()]);
        }
        out.push_str(&aligned(&rows, 1));
        let groups = summary.groups();
        if let Some(first) = groups.first() {
            let key_names: Vec<String> = first["key"]
                .as_object()
                .map(|k| k.keys().cloned().collect())
                .unwrap_or_default();
            let metric_names: Vec<String> = match columns {
                Some(c) => c.to_vec(),
                None => TABLE_COLUMNS
                    .iter()
                    .filter(|c| totals.contains_key(**c))
                    .map(|c| c.to_string())
                    .collect(),
            };
            out.push_str(&format!(
                "\nGroups by {} ({} of {})\n",
                key_names.join(", "),
                groups.len(),
                summary.groups_total()
            ));
            let mut rows = vec![key_names
                .iter()
                .chain(&metric_names)
                .map(|n| printable(n))
                .collect()];
            for g in &groups {
                // A people file's attribute is null for the users it has no line for.
                let attribute = |k: &str| table_attributes.iter().any(|a| a == k);
                let keys = key_names.iter().map(|k| match &g["key"][k] {
                    Value::Null if attribute(k) => "(unmapped)".to_string(),
                    v => format_value(v),
                });
                let metrics = metric_names
                    .iter()
                    .map(|m| g.get(m).map_or("?".to_string(), format_value));
                rows.push(keys.chain(metrics).collect());
            }
            out.push_str(&aligned(&rows, key_names.len()));
        }
        out
    }
}
