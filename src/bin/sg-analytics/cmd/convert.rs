//! `sg-analytics convert`: the export as Parquet, one file or month partitions.

use lexopt::Parser;
use sg_analytics::Filter;

use crate::args::{self, Accepts};
use crate::cmd;
use crate::convert::Target;
use crate::input::{self, report_first_warning};

const USAGE: &str = concat!(
    "\
sg-analytics convert: the export as Parquet, for DuckDB, Spark and BigQuery

USAGE:
    sg-analytics convert [FILE|-] -o OUT.parquet
    sg-analytics convert [FILE|-] --out-dir DIR

Columns keep the export's names, typed: Timestamp Date/Month DATE, Active Sourcegraph User
BOOLEAN, counts INT64 (a count's cell that is not a whole number is an error that says where),
rates and percentages DOUBLE, text STRING (an empty Language is NULL), columns the export's
layout does not know by all their cells; empty cells NULL; the granularity is in the file's
key-value metadata (sg_analytics.granularity). Each file is written beside its target and
renamed over it. The sql/ folder of the project holds the metrics as SQL over these files. Every
row is written: convert takes no filter (filter first: sg-analytics filter FILE [filters] |
sg-analytics convert - -o OUT). Memory: the rows are written as they are read, 2^20 rows at a
time, never the whole export; an export with columns the layout does not know is read twice
(from stdin, through a temporary copy beside the output).

",
    input_help!(),
    "
OPTIONS:
    -o, --output FILE     one Parquet file (a FIFO, a device or a directory is refused)
    --out-dir DIR         Hive-style month partitions: DIR/month=YYYY-MM/part-0.parquet (rows
                          without a date in month=__HIVE_DEFAULT_PARTITION__); partitions of
                          other months already in DIR are left as they are
    --format parquet      the only format (the default)
    --threads N           threads reading and parsing the input (default: one per core)

",
    exit_help!(),
);

const ACCEPTS: Accepts = Accepts {
    input: true,
    // Parsed to say that convert takes none.
    filters: true,
};

/// Parses the options after `convert` and writes the Parquet.
pub fn run(mut parser: Parser) -> Result<(), String> {
    let mut out_dir = None;
    let mut threads = input::default_threads();
    let own = |name: &str, parser: &mut Parser| {
        match name {
            "out-dir" => out_dir = Some(args::path(parser)?),
            "threads" => threads = args::number(parser)?,
            "format" => {
                let format = args::string(parser)?;
                if format != "parquet" {
                    return Err(format!(
                        "--format: convert writes parquet only, found {format:?}"
                    ));
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    };
    let Some(common) = cmd::options(&mut parser, USAGE, ACCEPTS, own)? else {
        return Ok(());
    };
    if common.filter != Filter::default() {
        return Err(
            "convert writes every row of the export and takes no filter; filter first: \
                    sg-analytics filter FILE [filters] | sg-analytics convert - -o OUT"
                .into(),
        );
    }
    if common.fetch.given() {
        return Err("convert reads a FILE (or - for stdin); fetch it first with -o".into());
    }
    if common.attributes.is_some() {
        return Err(
            "convert writes the export's own columns; --attributes is for the answers \
                    (summarize, growth, ...)"
                .into(),
        );
    }
    let destination = cmd::destination(&common)?;
    let target = match (common.output.is_some(), destination.path(), &out_dir) {
        (true, Some(file), None) => Target::File(file),
        (true, None, None) => {
            return Err("convert writes a Parquet file, not stdout: give -o OUT.parquet".into())
        }
        (false, _, Some(dir)) => Target::Dir(dir),
        _ => return Err("convert needs one of -o OUT.parquet or --out-dir DIR".into()),
    };
    let (done, end) = crate::convert::convert(common.input.as_deref(), threads, target)?;
    eprintln!("sg-analytics: {done}");
    report_first_warning(end.warnings(), end.warnings_total(), end.skipped_rows());
    Ok(())
}
