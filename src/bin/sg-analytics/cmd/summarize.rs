//! `sg-analytics summarize`: totals and grouped metrics.

use std::collections::BTreeMap;

use lexopt::Parser;
use sg_analytics::{Query, Sort, Summary, SummaryStream};

use crate::args::{self, Accepts, Format};
use crate::cmd::{self, Opened};
use crate::input::{self, report_first_warning};
use crate::output::write_text;
use crate::render::{aligned, cell, change, printable};

const USAGE: &str = concat!(
    "\
sg-analytics summarize: totals and grouped metrics of an export

USAGE:
    sg-analytics summarize [FILE|-] [OPTIONS]
    sg-analytics summarize --instance HOST [OPTIONS]

Prints the input (granularity, rows, dates, the first warnings), the totals over the kept rows and,
with --by, one line per group. A FILE or stdin is read in chunks and aggregated as it is read:
memory holds the groups and the distinct users (and their active days), not the rows, whatever
the export's size. With --instance, --attributes or --compare the whole table is kept (see FILE
below).

",
    input_help!(),
    "
OPTIONS:
    --by KEY,...          group by user, day, week, month, client, language (in that order of
                          nesting), or a people file's column
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
    --compare lastPeriods also the totals over the last two months (else weeks) the range covers
                          whole, the last complete one and the one before, with the change
    --min-sample N        a rate over a denominator under N (completion suggestions, characters
                          written, users) is a small sample: marked * in the table, listed in
                          the JSON's smallSample and the CSV's last column (default 50)
    --threads N           threads that parse the export (default: one per core; 1: all on one
                          thread); the answer is the same whatever N
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
    exit_help!(),
);

const ACCEPTS: Accepts = Accepts {
    input: true,
    filters: true,
};

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

/// Parses the options after `summarize` and prints the answer.
pub fn run(mut parser: Parser) -> Result<(), String> {
    let mut query = Query::default();
    let mut format = Format::Table;
    let mut columns = None;
    let mut threads = input::default_threads();
    let own = |name: &str, parser: &mut Parser| {
        match name {
            "by" => query.group_by.extend(args::list(&args::string(parser)?)),
            "minutes" => query.minutes_saved.extend(minutes(&args::string(parser)?)?),
            "sort" => {
                let v = args::string(parser)?;
                let (by, desc) = match v.rsplit_once(':') {
                    Some((by, "desc")) => (by.to_string(), true),
                    Some((by, "asc")) => (by.to_string(), false),
                    _ => (v, false),
                };
                query.sort = Some(Sort { by, desc });
            }
            "limit" => query.limit = Some(args::number(parser)?),
            "offset" => query.offset = args::number(parser)?,
            "format" => format = Format::parse(parser)?,
            "min-sample" => query.min_sample = Some(args::number(parser)?),
            "columns" => columns = Some(args::list(&args::string(parser)?)),
            "threads" => threads = args::number(parser)?,
            "compare" => {
                let v = args::string(parser)?;
                query.compare = Some(
                    serde_json::from_value(serde_json::Value::String(v.clone())).map_err(|_| {
                        format!("--compare: expected \"previous\" or \"lastPeriods\", found {v:?}")
                    })?,
                );
            }
            _ => return Ok(false),
        }
        Ok(true)
    };
    let Some(common) = cmd::options(&mut parser, USAGE, ACCEPTS, own)? else {
        return Ok(());
    };
    query.filter = common.filter.clone();
    // Read in chunks and aggregated as it comes (memory: the groups and the distinct users),
    // unless the question needs the whole table (`cmd::reads_in_chunks`, or a comparison).
    if !cmd::reads_in_chunks(&common) || !query.streams() {
        let opened = Opened::of(&common)?;
        let summary = opened.table.summarize(&query).map_err(|e| e.to_string())?;
        let text = text(&summary, format, columns.as_deref(), &opened.attributes);
        return opened.write_noting(format, &text, summary.service_accounts());
    }
    let destination = cmd::destination(&common)?;
    let mut stream = SummaryStream::new(&query);
    let (last, end) = input::chunks(common.input.as_deref(), threads, |chunk| stream.add(chunk))?;
    let summary = stream.finish(last, end).map_err(|e| e.to_string())?;
    write_text(
        &destination,
        &text(&summary, format, columns.as_deref(), &[]),
    )?;
    if format == Format::Csv {
        let input = summary.input();
        report_first_warning(
            summary.warnings(),
            summary.warnings_total(),
            input.skipped_rows,
        );
    }
    Ok(())
}

/// The summary in `format`.
fn text(
    summary: &Summary,
    format: Format,
    columns: Option<&[String]>,
    attributes: &[String],
) -> String {
    match format {
        Format::Json => summary.to_json() + "\n",
        Format::Csv => summary.to_csv(),
        Format::Table => render(summary, columns, attributes),
    }
}

/// The summary as text: the input, the first warnings, the totals (beside the previous range's)
/// and the groups.
fn render(summary: &Summary, columns: Option<&[String]>, attributes: &[String]) -> String {
    let input = summary.input();
    let mut out = format!(
        "{} export: {} rows ({} skipped), {} to {}, {} warning(s)\n",
        input.granularity.as_str(),
        input.rows,
        input.skipped_rows,
        input.first_date.as_deref().unwrap_or("—"),
        input.last_date.as_deref().unwrap_or("—"),
        summary.warnings_total()
    );
    for w in summary.warnings().iter().take(10) {
        let column = w
            .column
            .as_deref()
            .map_or(String::new(), |c| format!(", {}", printable(c)));
        out.push_str(&format!(
            "  warning: line {}{column}: {}\n",
            w.line,
            printable(&w.message)
        ));
    }
    if summary.warnings_total() > 10 {
        out.push_str(&format!(
            "  ... and {} more\n",
            summary.warnings_total() - 10
        ));
    }
    out.push_str("\nTotals\n");
    let names = summary.metrics();
    let previous = summary.previous();
    let last = summary.last_periods();
    let small = summary.small_sample(summary.total_values());
    let mut rows: Vec<Vec<String>> = names
        .iter()
        .zip(summary.total_values())
        .enumerate()
        .map(|(i, (name, value))| {
            let label = if summary.approximate().contains(name) {
                format!("{name} (approximate)")
            } else {
                name.clone()
            };
            let mut row = vec![
                format!("  {}", printable(&label)),
                mark(cell(value), small.contains(&name.as_str())),
            ];
            if let Some(before) = previous.and_then(|p| p.totals.get(i)) {
                row.push(cell(before));
                row.push(change(value, before));
            }
            if let Some(last) = last {
                let (before, latest) =
                    (&last.before.totals.totals[i], &last.latest.totals.totals[i]);
                row.extend([cell(before), cell(latest), change(latest, before)]);
            }
            row
        })
        .collect();
    if let Some(previous) = previous {
        let head = format!("previous {} to {}", previous.from, previous.to);
        rows.insert(0, vec![String::new(), "now".into(), head, "change".into()]);
    }
    if let Some(last) = last {
        let (before, latest) = (&last.before.period, &last.latest.period);
        rows.insert(
            0,
            vec![
                String::new(),
                "now".into(),
                before.clone(),
                latest.clone(),
                format!("change {latest} vs {before}"),
            ],
        );
    }
    out.push_str(&aligned(&rows, 1));
    let groups = summary.group_values();
    if groups.is_empty() {
        if !small.is_empty() {
            out.push_str(&small_sample_note(summary));
        }
        return out;
    }
    let key_names = summary.key_names();
    let shown: Vec<(usize, &String)> = match columns {
        Some(columns) => columns
            .iter()
            .map(|c| (names.iter().position(|n| n == c).unwrap_or(usize::MAX), c))
            .collect(),
        // Those that mean something for this grouping (no users per user).
        None => TABLE_COLUMNS
            .iter()
            .filter_map(|c| names.iter().enumerate().find(|(_, n)| n == c))
            .filter(|&(i, _)| summary.is_group_metric(i))
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
        .chain(shown.iter().map(|(_, name)| *name))
        .map(|n| printable(n))
        .collect()];
    for g in groups {
        // A people file's attribute is null for the users it has no line for.
        let keys = key_names
            .iter()
            .zip(&g.key)
            .map(|(name, value)| match value {
                sg_analytics::Cell::Null if attributes.contains(name) => "(unmapped)".to_string(),
                value => cell(value),
            });
        let small = summary.group_small_sample(&g.values);
        let metrics = shown.iter().map(|&(i, name)| {
            let value = g.values.get(i).map_or("?".to_string(), cell);
            mark(value, small.contains(&name.as_str()))
        });
        rows.push(keys.chain(metrics).collect());
    }
    out.push_str(&aligned(&rows, key_names.len()));
    out.push_str(&small_sample_note(summary));
    out
}

/// `--minutes F=N,...`: minutes saved per use, by feature.
pub fn minutes(value: &str) -> Result<BTreeMap<String, f64>, String> {
    let mut out = BTreeMap::new();
    for pair in args::list(value) {
        let (name, minutes) = pair
            .split_once('=')
            .ok_or_else(|| format!("--minutes: expected FEATURE=MINUTES, found {pair:?}"))?;
        let minutes: f64 = minutes
            .trim()
            .parse()
            .map_err(|_| format!("--minutes: {minutes:?} is not a number of minutes"))?;
        out.insert(name.trim().to_string(), minutes);
    }
    Ok(out)
}

/// A value marked `*` when it is a small sample.
fn mark(value: String, small: bool) -> String {
    if small {
        value + "*"
    } else {
        value
    }
}

/// What `*` means, when the summary's rates have denominators.
fn small_sample_note(summary: &Summary) -> String {
    let denominators = summary.denominators();
    if denominators.is_empty() {
        return String::new();
    }
    let each: Vec<String> = denominators
        .iter()
        .map(|(rate, d)| format!("{} over {}", printable(rate), printable(d)))
        .collect();
    format!(
        "\n* small sample: the rate's denominator is under {} ({})\n",
        summary.min_sample(),
        each.join("; ")
    )
}
