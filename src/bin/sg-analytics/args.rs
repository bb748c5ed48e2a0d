//! The options several commands share (the input, the filters, the fetch, `-o`), parsed with
//! lexopt, and the help text that documents them, written once and included in each command's
//! usage.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use lexopt::prelude::*;
use lexopt::Parser;
use sg_analytics::Filter;

use crate::fetch_args::{FetchArgs, TOKEN_VARIABLE};

/// What FILE is and what reading it costs.
macro_rules! input_help {
    () => {
        "\
FILE is an export from /api/reports/by-user-client-date (any granularity); `-` or no FILE reads
stdin. The file is read in chunks into a columnar table (about 43 bytes a row at the finest
granularity, a third of the file), so a 500 MB export needs about 160 MB of memory.
"
    };
}

/// The filters every answering command takes.
macro_rules! filters_help {
    () => {
        "\
FILTERS:
    --from DATE           first day kept, YYYY-MM-DD (month rows: kept when the month overlaps)
    --to DATE             last day kept, YYYY-MM-DD
    --user S              keep this user (ID, e-mail or username; exact, any case); repeatable
    --user-search TEXT    keep users whose ID, e-mail or username contains TEXT
    --client C            keep this client (Client Name); repeatable
    --language L          keep this language; repeatable
    --active-only         keep rows whose Active Sourcegraph User is true
    --attributes FILE     a people file: a CSV keyed by Instance user ID, User Email or Username
                          whose other columns (Team, Department, ...) become group keys (--by
                          Team) and filters; users without a line are (unmapped). It is read
                          whole: memory about its size.
    --where COL=V[,V...]  keep users whose people-file column COL is one of the values (any
                          case; an empty value keeps the unmapped); repeatable
    --registry FILE       a user registry CSV (Instance user ID, Service Account, Site Admin):
                          the users it marks as service accounts are left out of every figure,
                          and the output says how many; read whole (memory about its size).
                          With --instance, the registry is fetched with the export instead
    --include-service-accounts
                          count the registry's service accounts like any user
"
    };
}

/// The options of a fetch, for `fetch` and for every command instead of a FILE.
macro_rules! fetch_help {
    () => {
        "\
FETCH OPTIONS (instead of a FILE):
    --instance HOST       your Sourcegraph instance (https://host/... is reduced to the host)
    --granularity G       by_user, by_user_month, by_user_day or by_user_day_client_language
                          (the default, the finest)
    --from D, --to D      the range to fetch, YYYY-MM-DD, inclusive (also the filter's range)
    --base-url URL        the API (default https://analytics.sourcegraph.com); https:// only,
                          http:// only for localhost and 127.0.0.1
    --month-windows       one request per calendar month of --from..--to (each window checked,
                          a failed one retried alone; a window is held in memory until checked)
    --max-retries N       retries per request of 429, 5xx, cut or stalled bodies and windows
                          outside their dates (default 3, at most 10), waiting what Retry-After
                          asks (at most 60 s) or backing off
    --idle-timeout SECS   a body that brings less than 16 KiB in SECS seconds (default 60, at most
                          3600) has stalled: it is given up and retried, never waited on for ever
    --token-file FILE     read the token from FILE (- for stdin); else from the environment
                          variable SG_ANALYTICS_TOKEN. Never give the token as an argument: every
                          process on the machine can read another's arguments.
The fetch follows no redirect (the token must not go elsewhere); an HTML page or a body cut short
is an error, never a partial export. Bodies are bounded after decompression: the export 64 GiB, a
window 512 MiB, the registry 64 MiB, the credits 16 MiB. An API on localhost or 127.0.0.1 is never
reached through HTTP_PROXY or ALL_PROXY.
"
    };
}

/// `-o`, for every command.
macro_rules! output_help {
    () => {
        "    -o, --output FILE     write to FILE instead of stdout, through a temporary file beside FILE
                          renamed over it once complete: a failed or interrupted run leaves FILE
                          as it was and no temporary file. An existing FILE keeps its mode, a new
                          one is readable by you only (0600); a symbolic link keeps pointing to
                          the file it names. - or /dev/stdout is stdout; a FIFO, a device or a
                          directory is refused (redirect with > instead)
"
    };
}

/// Who counts as active, for growth, retention, stickiness, features and inactive.
macro_rules! active_help {
    () => {
        "\
A user is active on a day when a kept row of theirs that day has a true Active Sourcegraph User
(without that column: any kept row). The range is --from/--to, else the kept rows' first and last
dates. An export without the dates an answer needs is an error that says which export to fetch.
"
    };
}

/// The options of the answers per period (growth, retention, stickiness, features).
macro_rules! period_help {
    () => {
        "    --period P            week (Monday start; day-grain exports) or month (default)
    --format FMT          table (default), csv or json
    --min-sample N        a rate over fewer than N (churned users, a cohort's users, active
                          users) is flagged smallSample (default 50)
"
    };
}

/// The end of an answering command's usage: `-o`, the filters, the fetch, who is active, the exit
/// status.
macro_rules! answer_help {
    () => {
        concat!(
            output_help!(),
            "\n",
            filters_help!(),
            "\n",
            fetch_help!(),
            "\n",
            active_help!(),
            "\n",
            exit_help!(),
        )
    };
}

/// The exit status.
macro_rules! exit_help {
    () => {
        "Exit status: 0 on success, 2 on a usage or input error (with a message on stderr).\n"
    };
}

/// One command-line argument, owned, so that it can be handed on with the parser.
pub enum Flag {
    /// `-c`.
    Short(char),
    /// `--name`.
    Long(String),
    /// A positional argument.
    Value(OsString),
}

impl Flag {
    /// The argument lexopt gave, owned.
    pub fn from_arg(arg: lexopt::Arg<'_>) -> Flag {
        match arg {
            Short(c) => Flag::Short(c),
            Long(name) => Flag::Long(name.to_string()),
            Value(v) => Flag::Value(v),
        }
    }

    fn unexpected(&self) -> String {
        match self {
            Flag::Long(name) if name == "out-dir" => {
                "--out-dir is for the convert and fetch commands".into()
            }
            Flag::Value(v) => format!("unexpected argument {v:?} (see --help)"),
            flag => format!("invalid option '{flag}' (see --help)"),
        }
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Flag::Short(c) => write!(f, "-{c}"),
            Flag::Long(name) => write!(f, "--{name}"),
            Flag::Value(v) => write!(f, "{}", v.to_string_lossy()),
        }
    }
}

/// Which of the shared options a command takes besides `-o` and the fetch options.
#[derive(Clone, Copy)]
pub struct Accepts {
    /// A FILE (`-` for stdin).
    pub input: bool,
    /// The filters and `--attributes`.
    pub filters: bool,
}

/// The shared options as given.
#[derive(Default)]
pub struct Common {
    /// FILE; `None` (or `-`) is stdin.
    pub input: Option<PathBuf>,
    /// `-o FILE`; `None` is stdout.
    pub output: Option<PathBuf>,
    /// The filters (`--from` and `--to` are also a fetch's range).
    pub filter: Filter,
    /// `--attributes FILE`.
    pub attributes: Option<PathBuf>,
    /// `--registry FILE`.
    pub registry: Option<PathBuf>,
    /// The fetch options.
    pub fetch: FetchArgs,
}

/// The option's value as text.
pub fn string(parser: &mut Parser) -> Result<String, String> {
    parser
        .value()
        .and_then(|v| v.string())
        .map_err(|e| e.to_string())
}

/// The option's value as a path (any bytes).
pub fn path(parser: &mut Parser) -> Result<PathBuf, String> {
    parser.value().map(PathBuf::from).map_err(|e| e.to_string())
}

/// The option's value parsed as a number.
pub fn number<T>(parser: &mut Parser) -> Result<T, String>
where
    T: FromStr,
    T::Err: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
{
    parser
        .value()
        .and_then(|v| v.parse())
        .map_err(|e| e.to_string())
}

/// A comma-separated list, trimmed, without empty items.
pub fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// `--format table|csv|json`.
#[derive(Clone, Copy, PartialEq)]
pub enum Format {
    /// Aligned for reading.
    Table,
    /// The core's CSV writer.
    Csv,
    /// The documented JSON shape.
    Json,
}

impl Format {
    /// The option's value.
    pub fn parse(parser: &mut Parser) -> Result<Format, String> {
        match string(parser)?.as_str() {
            "table" => Ok(Format::Table),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            "parquet" => Err("--format parquet is for the convert and fetch commands".into()),
            other => Err(format!(
                "--format: expected table, csv or json, found {other:?}"
            )),
        }
    }
}

impl Common {
    /// Takes `flag` if it is a shared option this command `accepts` (`-o` and the fetch options
    /// always), else says it is unexpected.
    pub fn take(
        &mut self,
        flag: Flag,
        parser: &mut Parser,
        accepts: Accepts,
    ) -> Result<(), String> {
        let taken = match &flag {
            Flag::Value(v) if accepts.input && self.input.is_none() => {
                self.input = Some(v.into());
                true
            }
            Flag::Value(_) => false,
            Flag::Short('o') => {
                self.output = Some(path(parser)?);
                true
            }
            Flag::Short(_) => false,
            Flag::Long(name) => match name.as_str() {
                "output" => {
                    self.output = Some(path(parser)?);
                    true
                }
                name => {
                    (accepts.filters && self.filter_option(name, parser)?)
                        || self.fetch_option(name, parser)?
                }
            },
        };
        if taken {
            Ok(())
        } else {
            Err(flag.unexpected())
        }
    }

    /// `--from` and `--to` are a fetch's range, so `fetch` takes them with the fetch options.
    fn filter_option(&mut self, name: &str, parser: &mut Parser) -> Result<bool, String> {
        let f = &mut self.filter;
        match name {
            "user" => f.users.push(string(parser)?),
            "user-search" => f.user_search = Some(string(parser)?),
            "client" => f.clients.push(string(parser)?),
            "language" => f.languages.push(string(parser)?),
            "active-only" => f.active_only = true,
            "attributes" => self.attributes = Some(path(parser)?),
            "registry" => self.registry = Some(path(parser)?),
            // Left out is the core's default with a registry; only counting them is said.
            "include-service-accounts" => f.exclude_service_accounts = Some(false),
            "where" => {
                let v = string(parser)?;
                let (name, values) = v.split_once('=').ok_or_else(|| {
                    format!("--where: expected COLUMN=VALUE[,VALUE...], found {v:?}")
                })?;
                let kept = f.attributes.entry(name.trim().to_string()).or_default();
                kept.extend(values.split(',').map(|s| s.trim().to_string()));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn fetch_option(&mut self, name: &str, parser: &mut Parser) -> Result<bool, String> {
        let (f, fetch) = (&mut self.filter, &mut self.fetch);
        match name {
            "from" => f.from = Some(string(parser)?),
            "to" => f.to = Some(string(parser)?),
            "instance" => fetch.instance = Some(string(parser)?),
            "granularity" => fetch.granularity = Some(string(parser)?),
            "base-url" => fetch.base_url = Some(string(parser)?),
            "month-windows" => fetch.month_windows = true,
            "max-retries" => fetch.max_retries = Some(string(parser)?),
            "idle-timeout" => fetch.idle_timeout = Some(string(parser)?),
            "token-file" => fetch.token_file = Some(path(parser)?),
            // Refused without reading its value, so the token is not echoed anywhere.
            "token" => {
                return Err(format!(
                    "--token is not accepted: a command's arguments are visible to every \
                     process on the machine. Set {TOKEN_VARIABLE} or use --token-file FILE"
                ))
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
