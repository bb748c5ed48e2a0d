//! The browser adapter: `#[wasm_bindgen]` exports over the core, and the streaming fetch client.
//!
//! One stateful handle, [`Report`], built once (from bytes, a [`ReportBuilder`] or a fetch) and
//! queried many times. Options and answers cross the boundary as plain JS objects through serde;
//! every export returns `Result<_, JsValue>` whose error is a real JS `Error` carrying the core's
//! message.

mod fetch;
mod fetch_api;

pub use fetch_api::{fetch_credits, fetch_dashboard, fetch_registry, fetch_report, plan_fetch};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::{ErrorKind, Filter, Ingester, Query, QueryCache, Table};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A group key: what `groupBy` takes: a built-in key, or a column of a joined people file
 * (`joinAttributes`). */
export type GroupKey = "user" | "day" | "week" | "month" | "client" | "language" | (string & {});

/** Which rows to keep; every condition given must hold. */
export interface Filter {
  /** First day kept, YYYY-MM-DD, inclusive (month rows: kept when the month overlaps). */
  from?: string;
  /** Last day kept, YYYY-MM-DD, inclusive. */
  to?: string;
  /** Users kept: user ID, e-mail or username, exact, any case. */
  users?: string[];
  /** Users whose ID, e-mail or username contains this text, any case. */
  userSearch?: string;
  /** Clients kept (Client Name). */
  clients?: string[];
  /** Languages kept ("" keeps rows without one). */
  languages?: string[];
  /** Only rows whose Active Sourcegraph User is true. */
  activeOnly?: boolean;
  /** Leave out the users a joined registry (`joinRegistry`) marks as service accounts. Default:
   * left out when a registry is joined; `false` counts them; `true` without a registry is an error. */
  excludeServiceAccounts?: boolean;
  /** Per people-file column (`joinAttributes`), the values kept (any case; "" keeps the unmapped). */
  attributes?: Record<string, string[]>;
}

/** What to summarize and how. */
export interface Query {
  groupBy?: GroupKey[];
  filter?: Filter;
  /** A group key or any metric; nulls sort last. */
  sort?: { by: string; desc?: boolean };
  limit?: number;
  offset?: number;
  /** Minutes saved per use, by column name (or completions, autoEdits, chat, commands, searches, navigation). */
  minutesSaved?: Record<string, number>;
  /** Only these metrics (structural fields or column names); the others are not computed. */
  metrics?: string[];
  /** Whether the summary carries the ingest warnings (default true). */
  includeWarnings?: boolean;
  /** Also the totals over the equally long range just before (the summary's `previous`). */
  compare?: "previous";
  /** The CSV's header: "names" (the summary's keys, default) or "labels" (the headings, with each rate's scale). */
  headers?: "names" | "labels";
  /** The smallest denominator a rate is shown firmly over (default 50): the summary's
   * `smallSample` lists the rates under it. */
  minSample?: number;
}

/** Something the ingest noticed: a skipped row (no column) or a bad cell. */
export interface Warning { line: number; column?: string; message: string; }

/** What went in. */
export interface Input {
  rows: number;
  skippedRows: number;
  granularity: "by_user" | "by_user_month" | "by_user_day" | "by_user_day_client_language";
  firstDate: string | null;
  lastDate: string | null;
  columns: string[];
}

/** How a column's metric aggregates: `count` (summed), `rate` (recomputed from summed parts),
 * `approximate` (a weighted or row mean), `unknown` (a column outside the published table, summed). */
export type MetricKind = "count" | "rate" | "approximate" | "unknown";

/** `Report.info()`: the input with its warnings, and what this export can answer. */
export type Info = Input & {
  warnings: Warning[];
  warningsTotal: number;
  /** The group keys this export can provide, in order. */
  groupKeys: GroupKey[];
  /** The columns of a joined people file (`joinAttributes`): group keys and `filter.attributes`. */
  attributes: string[];
  /** The time keys among them, finest first. */
  timeKeys: ("day" | "week" | "month")[];
  /** Each numeric column's metric; `percent`: a 0–100 value rather than a 0–1 ratio. */
  /** Each numeric column's metric; `label` is its heading, with a rate's scale. */
  metrics: { name: string; kind: MetricKind; percent: boolean; label: string;
    /** A rate's denominator column (ask for it too: each group's `smallSample` marks it under `minSample`). */
    denominator: string | null }[];
  /** The metrics a chart can show per group, in order: hoursSaved, activeUsers and users (with a
   * user column), then each column's metric, rates included (a group's rate is the ratio of its sums). */
  chartMetrics: string[];
  /** The heading of each structural field and key field (`avgDau` → "Average DAU"). */
  labels: Record<string, string>;
  /** Default minutes saved per use, by column name, for the features this export has. */
  defaultMinutes: Record<string, number>;
  /** Filter choices, most rows first (null without the column); `attributes`: per column of a
   * joined people file, the values its users have, most users first, then "" when some users
   * have none ("(unmapped)"; "" in `filter.attributes` keeps them). */
  choices: { clients: string[] | null; languages: string[] | null;
    attributes: { name: string; values: string[] }[] };
};

/** `planFetch(options)`: what a fetch with these options would request, or what is wrong with
 * them. Nothing is sent; the token is not needed and never part of the answer. */
export type FetchPlan =
  | { ok: true; instance: string; baseUrl: string; url: string; curl: string; windows: number }
  | { ok: false; problem: string; field?: FetchOptionName };

/** Metrics: rows, users, activeUsers, avgDau, avgDaysActivePerUser, hoursSaved, then one entry per numeric column of the export, under its own name. Rates are null when their denominator is 0. */
export type Metrics = Record<string, number | null>;

/** One group: its key values, then its metrics; `smallSample` (when the summary has
 * `denominators`): the group's rates whose denominator is under `minSample`. */
export type Group = { key: Record<string, string | boolean | null>; smallSample?: string[] } & Metrics;

/** The one summary shape (the CLI's JSON is the same). */
export interface Summary {
  input: Input;
  /** Absent when the query said `includeWarnings: false`. */
  warnings?: Warning[];
  warningsTotal: number;
  totals: Metrics;
  groups: Group[];
  /** Groups before offset and limit. */
  groupsTotal: number;
  groupBy: GroupKey[];
  /** The metrics each group carries: those that mean something for this grouping (not users,
   * activeUsers or avgDau per user; not avgDaysActivePerUser per day). The totals carry all. */
  groupMetrics: string[];
  /** Metrics that cannot be recomputed exactly from the export. */
  approximate: string[];
  minutesSaved: Record<string, number>;
  /** With `compare: "previous"`: the previous range and the same totals over it. */
  previous?: { range: { from: string; to: string }; totals: Metrics };
  /** The smallest denominator a rate is shown firmly over (the query's `minSample`, default 50). */
  minSample: number;
  /** Each rate among the metrics whose denominator is among them too: the denominator's name
   * (e.g. `"Combined CAR": "Combined Completion Suggestions"`). */
  denominators: Record<string, string>;
  /** The totals' rates whose denominator is under `minSample`. */
  smallSample: string[];
  /** With a joined registry: whether its service accounts were left out (the default) or counted,
   * and how many distinct ones have a row the filter's other conditions keep. */
  serviceAccounts?: { excluded: boolean; users: number };
  /** The filter asked for (only the conditions given). */
  filter: Filter;
  /** The first and last day the figures cover: the filter's dates, else the data's. */
  range?: { from: string; to: string };
  /** The heading of each key field and metric, with a rate's scale (the labelled CSV's header). */
  labels: Record<string, string>;
}

/** What `joinAttributes` did: the attributes it adds (group keys and `filter.attributes`), the
 * column it is keyed by, the report's users it matched and those it did not (their attributes are
 * null, "(unmapped)"), and the lines it ignored (a user listed again: the first 1000 in
 * `warnings`, all counted in `warningsTotal`). */
export interface AttributesJoin {
  attributes: string[];
  key: string;
  matched: number;
  unmatched: number;
  people: number;
  warnings: Warning[];
  warningsTotal: number;
}

/** Adoption answers: a period and a filter (`report.growth`, `report.retention`). */
export interface PeriodQuery { period?: "week" | "month"; filter?: Filter;
  /** The smallest denominator a rate is shown firmly over (default 50). */
  minSample?: number; }

/** Growth accounting per period (every period of the range, empty ones included; `partial`
 * when the range covers only some of the period's days). */
export interface Growth {
  period: "week" | "month";
  minSample: number;
  /** `smallSample`: the quick ratio stands on fewer churned users than `minSample`. */
  periods: { period: string; partial: boolean; activeUsers: number; newUsers: number;
    retainedUsers: number; resurrectedUsers: number; churnedUsers: number;
    quickRatio: number | null; smallSample: boolean }[];
}

/** Retention cohorts: `active[k]` of each first-active cohort are active k periods later;
 * `partialPeriods` lists the periods the range covers only in part. */
export interface Retention {
  period: "week" | "month";
  minSample: number;
  /** `smallSample`: the cohort has fewer users than `minSample`. */
  cohorts: { cohort: string; users: number; active: number[]; smallSample: boolean }[];
  partialPeriods: string[];
}

/** Stickiness per period (day-grain exports): `daysActive[i]` users were active on exactly
 * i + 1 days of the period; `avgDau` over the period's days in the range; DAU/MAU. */
export interface Stickiness {
  period: "week" | "month";
  minSample: number;
  /** `smallSample`: DAU/MAU stands on fewer active users than `minSample`. */
  periods: { period: string; partial: boolean; activeUsers: number; daysActive: number[];
    avgDau: number; dauOverMau: number | null; smallSample: boolean }[];
}

/** The features feature depth looks at (those the export has the columns of). */
export type Feature = "search" | "completions" | "chat" | "autoEdit";

/** Feature depth per period (day-grain exports): users per feature, first-time users per
 * feature, and `breadth[k]`, the active users who used exactly k of `features`. */
export interface Features {
  period: "week" | "month";
  minSample: number;
  features: Feature[];
  /** `smallSample`: the period has fewer active users than `minSample`. */
  periods: { period: string; partial: boolean; activeUsers: number;
    users: Partial<Record<Feature, number>>; newUsers: Partial<Record<Feature, number>>;
    breadth: number[]; smallSample: boolean }[];
}

/** `report.cost(credits, query)`: the usage's filter, minutes saved per use, and a people
 * file's column to split the cost by (where the credits are per user). */
export interface CostQuery { filter?: Filter; minutesSaved?: Record<string, number>; by?: string; }

/** Credits and usage over a month (`key`: `YYYY-MM`), the range (`range`) or a group. */
export interface CostLine { key: string; creditsUsed: number | null; activeUsers: number;
  hoursSaved: number; creditsPerActiveUser: number | null; creditsPerHourSaved: number | null; }

/** Credits set against the usage; `groups` is null unless `by` was asked and the credits are per
 * user; `notes` says, in words, what the figures cannot say. */
export interface Cost { unit: string; months: CostLine[]; range: CostLine;
  groups: CostLine[] | null; notes: string[]; }

/** The users with no active day in the last `days` days of the range (`report.inactiveUsers`). */
export interface InactiveQuery { days: number; filter?: Filter; }

/** Never-active users first, then the longest inactive; with a joined registry, its users who
 * never appear too, and every user's flags. */
export interface Inactive {
  days: number;
  asOf: string | null;
  users: { user: string; email?: string; username?: string; lastActive: string | null;
    serviceAccount?: boolean; siteAdmin?: boolean }[];
}

/** Progress of a fetch: on the first chunk, then at most every 100 ms, after each window, and
 * once at the end. `bytes` may go down when a body cut short is fetched again. */
export interface Progress {
  bytes: number;
  rows: number;
  /** With `monthWindows`: the window being fetched, from 1. */
  window?: number;
  /** With `monthWindows`: how many windows there are. */
  windows?: number;
}

/** The options `planFetch` checks: those of `fetchReport`, the token optional (it is never needed
 * to plan, nor part of the answer). */
export type PlanOptions = Omit<FetchOptions, "token"> & { token?: string };

/** Data as JSON carries it: what `fetchCredits` returns (a JSON answer as it came, or a CSV
 * answer's rows as objects keyed by its header, cells as strings). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What went wrong in a fetch, for programs (the message is for people). `redirected` comes
 * from the CLI only (a browser cannot tell a refused redirect from a network error). */
export type FetchErrorCode =
  | "invalid_options" | "network" | "bad_request" | "unauthorized" | "forbidden" | "not_found"
  | "rate_limited" | "server_error" | "http_error" | "redirected" | "cut_short" | "stalled"
  | "too_large" | "out_of_memory" | "not_csv" | "bad_window" | "invalid_input" | "aborted";

/** The option of `fetchReport` (and `planFetch`) at fault. */
export type FetchOptionName =
  | "instanceUrl" | "token" | "baseUrl" | "granularity" | "dates" | "monthWindows" | "maxRetries"
  | "idleTimeout" | "signal" | "onProgress" | "withRegistry" | "withCredits";

/** How `fetchReport`, `fetchRegistry` and `fetchCredits` reject: an `Error` (named `AbortError`
 * when the signal fired) whose message says what to do; it never contains the token. */
export interface FetchError extends Error {
  code: FetchErrorCode;
  /** The HTTP status, when the API answered with an error. */
  status?: number;
  /** With `invalid_options`: the option at fault, when one is. */
  field?: FetchOptionName;
}

/** What went wrong in any call of the module, for programs: a fetch's code, or `invalid_query` (a
 * query, filter or adoption argument: `field` names the part at fault, e.g. `filter.from`),
 * `invalid_input` (an export or people file that cannot be read), `invalid_argument` (an argument
 * of the wrong type, a finished builder), `not_ready` (a call before `init()` finished), `freed`
 * (a Report, ReportBuilder or Registry used after its `free()`). */
export type ErrorCode = FetchErrorCode | "invalid_query" | "invalid_argument" | "not_ready" | "freed";

/** Every Error the module throws or rejects with carries a code. */
export interface AnalyticsError extends Error {
  code: ErrorCode;
  status?: number;
  field?: string;
}

/** Where and what to fetch. The token goes only into the Authorization header. Unknown keys are
 * an error; `fetchRegistry` and `fetchCredits` take the same object and ignore what they don't use. */
export interface FetchOptions {
  instanceUrl: string;
  token: string;
  granularity?: "by_user" | "by_user_month" | "by_user_day" | "by_user_day_client_language";
  startDate?: string;
  endDate?: string;
  /** Default https://analytics.sourcegraph.com; http:// only for localhost / 127.0.0.1. */
  baseUrl?: string;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** Fetch month by month (needs both dates): meaningful progress, and a failed month is retried alone. */
  monthWindows?: boolean;
  /** Retries per request (per window) of 429 and 5xx answers and of bodies cut short: a whole
   * number from 0 to 10, default 3. Waits back off exponentially with jitter, or as `Retry-After`
   * says (at most 60 s). */
  maxRetries?: number;
  /** Seconds a body may bring less than 16 KiB before it is given up as stalled (and retried):
   * more than 0, at most 3600, default 60. */
  idleTimeout?: number;
}

/** `fetchDashboard`'s options: `fetchReport`'s, and whether to fetch the registry and the
 * credits too (both default true). */
export interface DashboardOptions extends FetchOptions {
  withRegistry?: boolean;
  withCredits?: boolean;
}

/** What `fetchDashboard` gives: the report (with the registry joined when it loaded), and how
 * the registry and the credits went; their failing does not fail the report. */
export interface Dashboard {
  report: Report;
  registry: { loaded: boolean; error?: string; code?: FetchErrorCode; status?: number };
  credits: { loaded: boolean; data?: JsonValue; error?: string; code?: FetchErrorCode; status?: number };
}
"#;

/// The module's allocator: the default one, noting when an allocation fails. A failed
/// allocation that is not handled ends the module with a bare trap; after it, the page asks
/// [`allocation_failed`] to tell running out of memory from a bug.
struct NotingAllocator;

static ALLOCATION_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn noted(p: *mut u8) -> *mut u8 {
    if p.is_null() {
        ALLOCATION_FAILED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    p
}

// SAFETY: every call is passed on unchanged to the system allocator, which upholds the contract.
unsafe impl std::alloc::GlobalAlloc for NotingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        noted(std::alloc::System.alloc(layout))
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        noted(std::alloc::System.alloc_zeroed(layout))
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        std::alloc::System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, size: usize) -> *mut u8 {
        noted(std::alloc::System.realloc(ptr, layout, size))
    }
}

#[global_allocator]
static ALLOCATOR: NotingAllocator = NotingAllocator;

/// Whether an allocation has failed in this instance of the module since it started. After a
/// call ends in a `WebAssembly.RuntimeError` (the module is then unusable), it tells running out
/// of memory (`true`) from a bug; a failure the module handled (an error coded `out_of_memory`)
/// sets it too. The page's worker asks it to choose its message; then it starts a fresh module.
#[wasm_bindgen(js_name = allocationFailed)]
pub fn allocation_failed() -> bool {
    ALLOCATION_FAILED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Routes a panic (a bug) to the console with its message instead of a bare `unreachable` trap.
/// Called by every entry point that makes a handle (not a `start` function, which wasm-bindgen
/// would export as one more name in the API).
pub(crate) fn panic_hook() {
    #[cfg(feature = "console_error_panic_hook")]
    console_error_panic_hook::set_once();
}

#[wasm_bindgen]
extern "C" {
    /// A `Query` object from JS; declared as such for TypeScript, read through serde.
    #[wasm_bindgen(typescript_type = "Query")]
    pub type QueryArg;

    /// A `Filter` object from JS; declared as such for TypeScript, read through serde.
    #[wasm_bindgen(typescript_type = "Filter")]
    pub type FilterArg;

    /// A `PeriodQuery` object from JS.
    #[wasm_bindgen(typescript_type = "PeriodQuery")]
    pub type PeriodQueryArg;

    /// An `InactiveQuery` object from JS.
    #[wasm_bindgen(typescript_type = "InactiveQuery")]
    pub type InactiveQueryArg;
}

/// A JS `Error` with the message and a `code` for programs (`invalid_input`, `invalid_query`,
/// `invalid_argument`, `too_large`, `out_of_memory`), so a page never has to match message text.
fn coded_error(code: &str, message: impl std::fmt::Display) -> JsValue {
    let error = js_sys::Error::new(&message.to_string());
    // Setting a property on a fresh Error cannot fail.
    let _ = js_sys::Reflect::set(&error, &"code".into(), &code.into());
    error.into()
}

/// A JS `Error` for a misuse of the API (a wrong argument type, a finished builder).
pub(crate) fn js_error(message: impl std::fmt::Display) -> JsValue {
    coded_error("invalid_argument", message)
}

/// A JS `Error` for an error of the core, coded by its kind.
pub(crate) fn core_error(e: crate::Error) -> JsValue {
    let code = match e.kind() {
        ErrorKind::Query => "invalid_query",
        ErrorKind::Input | ErrorKind::EmptyInput => "invalid_input",
        ErrorKind::TooLarge => "too_large",
        ErrorKind::OutOfMemory => "out_of_memory",
        ErrorKind::PeopleFile => "people_file",
    };
    coded_error(code, e)
}

/// Plain JS objects (not `Map`s) for every serde map, as the summary shape wants.
pub(crate) fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(js_error)
}

/// A query or filter from a JS object. It goes through JSON rather than serde-wasm-bindgen, which
/// reads only the fields it knows: a misspelled option must be an error, not silently ignored.
fn from_js<T: serde::de::DeserializeOwned + Default>(
    value: Option<impl Into<JsValue>>,
    what: &str,
) -> Result<T, JsValue> {
    let Some(value) = value
        .map(Into::into)
        .filter(|v: &JsValue| !v.is_null() && !v.is_undefined())
    else {
        return Ok(T::default());
    };
    if !value.is_object() || value.is_function() {
        return Err(js_error(format!("the {what} must be an object")));
    }
    let json: String = js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|json| json.as_string())
        .ok_or_else(|| js_error(format!("the {what} cannot be read as JSON")))?;
    // From the bytes: the module then holds one JSON reader, the one `fetchCredits` uses. A
    // wrong field is named (`field`) and told in plain words.
    crate::argument::from_json(json.as_bytes(), what).map_err(|e| {
        let error = coded_error("invalid_query", &e.message);
        if let Some(field) = &e.field {
            let _ = js_sys::Reflect::set(&error, &"field".into(), &field.into());
        }
        error
    })
}

/// The query `inactiveUsers` and `inactiveUsersCsv` cannot do without (it says how many days).
fn inactive_query(query: InactiveQueryArg) -> Result<crate::InactiveQuery, JsValue> {
    let query: JsValue = query.into();
    if query.is_undefined() || query.is_null() {
        return Err(js_error(
            "inactiveUsers takes a query: { days, filter? } (days: a whole number, 1 or more)",
        ));
    }
    from_js(Some(query), "query")
}

/// Runs the ingest and the dashboard's first queries once on a small made-up export (about 1 MB)
/// and throws the result away. The browser first runs WebAssembly with its baseline compiler and
/// moves a function to optimized code only once it has run for a while; called while the page
/// waits for the user, this makes that happen before the real export arrives, so its ingest and
/// its first view do not run on baseline code. Optional; it changes nothing else.
#[wasm_bindgen(js_name = warmUp)]
pub fn warm_up() -> Result<(), JsValue> {
    use std::fmt::Write;
    panic_hook();
    const HEADER: &str = "Instance user ID,User Email,Username,Active Sourcegraph User,\
        Client Name,Timestamp Date,Language,Searches,Code Navigation Events,Code Insight Views,\
        Chat Events,Command Events,Combined Completion Suggestions,\
        Combined Completion Acceptances,Total Accepted Char Count,Combined CAR,Weighted CAR,\
        Total Characters Written by Cody,Total Characters Written,\
        Percentage of Code Written by Cody,Auto-edit suggested events,Auto-edit accepted events,\
        Auto-edit acceptance rate,Lines changed by chats and commands,\
        Lines changed by completions and auto-edits\n";
    const CLIENTS: [&str; 3] = ["vscode.cody", "jetbrains.cody", "server.web"];
    const LANGUAGES: [&str; 3] = ["go", "rust", ""];
    let mut csv = String::with_capacity(1 << 20);
    csv.push_str(HEADER);
    for day in 0..84u32 {
        let date = format!("2025-{:02}-{:02}", 1 + day / 28, 1 + day % 28);
        for user in 0..48u32 {
            for row in 0..2 {
                let n = day * 31 + user * 7 + row;
                let (sugg, acc) = (n % 40, n % 13);
                let _ = writeln!(
                    csv,
                    "{id},u{user}@example.com,u{user},{active},{client},{date},{language},{},{},0,\
                     {},{},{sugg},{acc},{},{car},{car},{},{},{:.4},{},{},,{},{}",
                    n % 5,
                    n % 9,
                    n % 7,
                    n % 3,
                    acc * 40,
                    acc * 40,
                    1000 + n % 4000,
                    f64::from(acc * 40) / f64::from(1000 + n % 4000) * 100.0,
                    n % 6,
                    n % 2,
                    n % 50,
                    n % 17,
                    id = 1000 + user,
                    active = (n % 4 != 0),
                    client = CLIENTS[(n % 3) as usize],
                    language = LANGUAGES[(n % 3) as usize],
                    car = if sugg == 0 {
                        String::new()
                    } else {
                        format!("{:.4}", f64::from(acc) / f64::from(sugg))
                    },
                );
            }
        }
    }
    let mut builder = ReportBuilder::new();
    builder.expect_bytes(csv.len() as f64)?;
    // Pieces of uneven sizes, as a file's stream or a fetch body gives them.
    for piece in csv.as_bytes().chunks(300_007) {
        builder.push(piece)?;
    }
    let report = builder.finish()?;
    report.info()?;
    // The page's first view (its table with the cards' previous range, the time chart, the bar
    // charts), then the same with a filter.
    for filter in [r#"{}"#, r#"{"activeOnly": true, "from": "2025-02-01"}"#] {
        let chart = |key: &str, metric: &str, limit: u32| {
            format!(
                r#"{{"groupBy": ["{key}"], "filter": {filter}, "minutesSaved": {{}},
                    "metrics": ["{metric}"], "includeWarnings": false,
                    "sort": {{"by": "{metric}", "desc": true}}, "limit": {limit}}}"#
            )
        };
        let queries = format!(
            r#"[{{"groupBy": ["user"], "filter": {filter}, "minutesSaved": {{}},
                 "sort": {{"by": "hoursSaved", "desc": true}}, "limit": 25, "offset": 0,
                 "includeWarnings": false, "compare": "previous"}},
                {{"groupBy": ["week"], "filter": {filter}, "minutesSaved": {{}},
                  "metrics": ["activeUsers"], "includeWarnings": false}},
                {}, {}, {}]"#,
            chart("client", "hoursSaved", 12),
            chart("language", "hoursSaved", 12),
            chart("user", "hoursSaved", 10),
        );
        let queries = js_sys::JSON::parse(&queries)?;
        report.summarize_many(queries)?;
    }
    Ok(())
}

/// Builds a report from chunks pushed as they arrive (a file's stream, a fetch body).
#[wasm_bindgen]
pub struct ReportBuilder {
    ingester: Option<Ingester>,
}

#[wasm_bindgen]
impl ReportBuilder {
    /// A builder waiting for the first chunk.
    #[wasm_bindgen(constructor)]
    pub fn new() -> ReportBuilder {
        panic_hook();
        ReportBuilder {
            ingester: Some(Ingester::new()),
        }
    }

    /// Says how many bytes the whole input has (a file's size), so the report reserves its room
    /// once instead of growing by doubling: less copying and a smaller wasm memory. Optional.
    #[wasm_bindgen(js_name = expectBytes)]
    pub fn expect_bytes(&mut self, total: f64) -> Result<(), JsValue> {
        if !(total.is_finite() && total >= 0.0) {
            return Err(js_error("expectBytes takes a size in bytes"));
        }
        let ingester = self.ingester_mut()?;
        ingester.expect_bytes(total as u64);
        // A size that cannot fit is refused now, before anything is read.
        ingester.check_expected_size().map_err(core_error)
    }

    /// The memory the report may take, in bytes (table and room for queries), or `null` for no
    /// limit of its own. Default: 3 GiB of the 4 GiB a WebAssembly module can address. Reading
    /// stops with an error coded `too_large` as soon as the export will not fit (see
    /// `expectBytes`); set it lower to keep a tab's memory smaller.
    #[wasm_bindgen(getter, js_name = memoryBudget)]
    pub fn memory_budget(&self) -> Option<f64> {
        self.ingester
            .as_ref()
            .and_then(Ingester::memory_budget)
            .map(|b| b as f64)
    }

    /// Sets the memory budget (see the getter); before the first `push`.
    #[wasm_bindgen(setter, js_name = memoryBudget)]
    pub fn set_memory_budget(&mut self, bytes: Option<f64>) -> Result<(), JsValue> {
        let budget = match bytes {
            None => None,
            Some(b) if b.is_finite() && b >= 0.0 => Some(b as u64),
            Some(_) => return Err(js_error("memoryBudget takes a size in bytes, or null")),
        };
        self.ingester_mut()?.set_memory_budget(budget);
        Ok(())
    }

    /// Feeds the next chunk (any size; a record may span chunks). Throws when the input cannot
    /// be an Analytics export (its header names none of the export's columns).
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), JsValue> {
        self.ingester_mut()?.push(chunk).map_err(core_error)
    }

    /// Data rows read so far.
    #[wasm_bindgen(getter)]
    pub fn rows(&self) -> usize {
        self.ingester.as_ref().map_or(0, Ingester::rows)
    }

    /// Bytes pushed so far.
    #[wasm_bindgen(getter)]
    pub fn bytes(&self) -> f64 {
        self.ingester.as_ref().map_or(0.0, |i| i.bytes() as f64)
    }

    /// Ends the input and returns the report; the builder cannot be used again.
    pub fn finish(&mut self) -> Result<Report, JsValue> {
        let ingester = self
            .ingester
            .take()
            .ok_or_else(|| js_error("this ReportBuilder is already finished"))?;
        ingester.finish().map(Report::from).map_err(core_error)
    }

    fn ingester_mut(&mut self) -> Result<&mut Ingester, JsValue> {
        self.ingester
            .as_mut()
            .ok_or_else(|| js_error("this ReportBuilder is already finished"))
    }
}

impl Default for ReportBuilder {
    fn default() -> Self {
        ReportBuilder::new()
    }
}

/// A parsed export, queried as often as needed. It keeps the work of the last filter (its rows,
/// groups, totals and table order) for the next queries, one filter at a time.
#[wasm_bindgen]
pub struct Report {
    table: Table,
    /// Interior mutability keeps the queries `&self` for JS; each call borrows it alone.
    cache: std::cell::RefCell<QueryCache>,
    /// The joined user registry: its users who never appear are inactive too.
    registry: Option<crate::Registry>,
}

impl From<Table> for Report {
    fn from(table: Table) -> Report {
        let cache = QueryCache::with_rollups(&table);
        Report {
            table,
            cache: std::cell::RefCell::new(cache),
            registry: None,
        }
    }
}

impl Report {
    fn summary(&self, query: Option<QueryArg>) -> Result<crate::Summary, JsValue> {
        let query: Query = from_js(query, "query")?;
        self.cache
            .borrow_mut()
            .summarize(&self.table, &query)
            .map_err(core_error)
    }
}

#[wasm_bindgen]
impl Report {
    /// Parses a whole export held in memory (bytes or text).
    #[wasm_bindgen(js_name = fromCsv)]
    pub fn from_csv(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] data: JsValue,
    ) -> Result<Report, JsValue> {
        panic_hook();
        let table = if let Some(text) = data.as_string() {
            Table::from_bytes(text.as_bytes())
        } else if data.is_instance_of::<js_sys::Uint8Array>() {
            // A megabyte at a time: the whole input is never copied into wasm memory, which would
            // keep that memory for good (wasm memory does not shrink).
            let array = js_sys::Uint8Array::from(data);
            let mut ingester = Ingester::new();
            ingester.expect_bytes(u64::from(array.length()));
            let mut chunk = vec![0u8; 1 << 20];
            let mut at = 0u32;
            while at < array.length() {
                let end = array.length().min(at + (1 << 20));
                let part = &mut chunk[..(end - at) as usize];
                array.subarray(at, end).copy_to(part);
                ingester.push(part).map_err(core_error)?;
                at = end;
            }
            ingester.finish()
        } else {
            return Err(js_error("Report.fromCsv takes a Uint8Array or a string"));
        };
        table.map(Report::from).map_err(core_error)
    }

    /// What the ingest found: rows, skipped rows, granularity, dates, columns and warnings.
    #[wasm_bindgen(unchecked_return_type = "Info")]
    pub fn info(&self) -> Result<JsValue, JsValue> {
        to_js(&self.table.info())
    }

    /// Totals and, with `groupBy`, one entry per group (the summary shape).
    #[wasm_bindgen(unchecked_return_type = "Summary")]
    pub fn summarize(&self, query: Option<QueryArg>) -> Result<JsValue, JsValue> {
        to_js(&self.summary(query)?)
    }

    /// Several summaries in one call, sharing the filtering, the grouping and the totals between
    /// the queries that have them in common (the table, the charts and the cards of one view).
    #[wasm_bindgen(js_name = summarizeMany, unchecked_return_type = "Summary[]")]
    pub fn summarize_many(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Query[]")] queries: JsValue,
    ) -> Result<JsValue, JsValue> {
        if !js_sys::Array::is_array(&queries) {
            return Err(js_error("summarizeMany takes an array of queries"));
        }
        let queries: Vec<Query> = from_js(Some(queries), "queries")?;
        to_js(
            &self
                .cache
                .borrow_mut()
                .summarize_many(&self.table, &queries)
                .map_err(core_error)?,
        )
    }

    /// The grouped result (or one totals row) as CSV, formula-guarded.
    #[wasm_bindgen(js_name = toCsv)]
    pub fn to_csv(&self, query: Option<QueryArg>) -> Result<String, JsValue> {
        Ok(self.summary(query)?.to_csv())
    }

    /// The summary as pretty-printed JSON.
    #[wasm_bindgen(js_name = toJson)]
    pub fn to_json(&self, query: Option<QueryArg>) -> Result<String, JsValue> {
        Ok(self.summary(query)?.to_json())
    }

    /// The original rows that pass the filter, as CSV in their original columns, every cell as
    /// it was read (formula-guarded, quoted where CSV needs it).
    #[wasm_bindgen(js_name = filteredCsv)]
    pub fn filtered_csv(&self, filter: Option<FilterArg>) -> Result<String, JsValue> {
        let filter: Filter = from_js(filter, "filter")?;
        self.table.filtered_csv(&filter).map_err(core_error)
    }

    /// Joins a user registry (service accounts, site admins); returns how many of the report's
    /// users it knows.
    #[wasm_bindgen(js_name = joinRegistry)]
    pub fn join_registry(&mut self, registry: &UserRegistry) -> usize {
        // The roll-ups are built again with the service accounts as a dimension of their own,
        // so that leaving them out stays a view the roll-ups answer.
        self.cache.borrow_mut().clear();
        self.registry = Some(registry.inner.clone());
        let known = self.table.join_registry(&registry.inner);
        *self.cache.borrow_mut() = QueryCache::with_rollups(&self.table);
        known
    }

    /// Joins a people file (CSV keyed by `Instance user ID`, `User Email` or `Username`): its
    /// other columns become group keys and `filter.attributes`; it never leaves the page. Replaces
    /// an earlier one.
    #[wasm_bindgen(js_name = joinAttributes, unchecked_return_type = "AttributesJoin")]
    pub fn join_attributes(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] data: JsValue,
    ) -> Result<JsValue, JsValue> {
        let bytes = match data.as_string() {
            Some(text) => text.into_bytes(),
            None if data.is_instance_of::<js_sys::Uint8Array>() => {
                js_sys::Uint8Array::from(data).to_vec()
            }
            None => return Err(js_error("joinAttributes takes a Uint8Array or a string")),
        };
        self.cache.borrow_mut().clear_answers();
        to_js(&self.table.join_attributes(&bytes).map_err(core_error)?)
    }

    /// Growth accounting per week or month: active, new, retained, resurrected and churned users,
    /// and the quick ratio.
    #[wasm_bindgen(unchecked_return_type = "Growth")]
    pub fn growth(&self, query: Option<PeriodQueryArg>) -> Result<JsValue, JsValue> {
        let query: crate::PeriodQuery = from_js(query, "query")?;
        to_js(&self.table.growth(&query).map_err(core_error)?)
    }

    /// Retention cohorts per week or month.
    #[wasm_bindgen(unchecked_return_type = "Retention")]
    pub fn retention(&self, query: Option<PeriodQueryArg>) -> Result<JsValue, JsValue> {
        let query: crate::PeriodQuery = from_js(query, "query")?;
        to_js(&self.table.retention(&query).map_err(core_error)?)
    }

    /// Stickiness per week or month (day-grain exports): the days-active histogram, average DAU
    /// and DAU/MAU.
    #[wasm_bindgen(unchecked_return_type = "Stickiness")]
    pub fn stickiness(&self, query: Option<PeriodQueryArg>) -> Result<JsValue, JsValue> {
        let query: crate::PeriodQuery = from_js(query, "query")?;
        to_js(&self.table.stickiness(&query).map_err(core_error)?)
    }

    /// Feature depth per week or month (day-grain exports): users and first-time users per
    /// feature, and how many features each active user uses.
    #[wasm_bindgen(unchecked_return_type = "Features")]
    pub fn features(&self, query: Option<PeriodQueryArg>) -> Result<JsValue, JsValue> {
        let query: crate::PeriodQuery = from_js(query, "query")?;
        to_js(&self.table.features(&query).map_err(core_error)?)
    }

    /// Credits set against the usage: per month and for the range, credits per active user and
    /// per hour saved (and per value of `query.by`, a people file's column, where the credits
    /// are per user). `credits` is what `fetchCredits` returned.
    #[wasm_bindgen(unchecked_return_type = "Cost")]
    pub fn cost(
        &self,
        #[wasm_bindgen(unchecked_param_type = "unknown")] credits: JsValue,
        #[wasm_bindgen(unchecked_param_type = "CostQuery | undefined")] query: JsValue,
    ) -> Result<JsValue, JsValue> {
        let credits: serde_json::Value = from_js(Some(credits), "credits")?;
        let credits = crate::Credits::from_value(&credits).map_err(core_error)?;
        let query: crate::CostQuery = from_js((!query.is_undefined()).then_some(query), "query")?;
        to_js(&self.table.cost(&credits, &query).map_err(core_error)?)
    }

    /// The same periods as `stickiness`, as CSV: the columns of `sg-analytics stickiness
    /// --format csv` (`period,partial,activeUsers,avgDau,dauOverMau,days1,days2,…`).
    #[wasm_bindgen(js_name = stickinessCsv)]
    pub fn stickiness_csv(&self, query: Option<PeriodQueryArg>) -> Result<String, JsValue> {
        let query: crate::PeriodQuery = from_js(query, "query")?;
        Ok(self.table.stickiness(&query).map_err(core_error)?.to_csv())
    }

    /// The same periods as `features`, as CSV: the columns of `sg-analytics features --format
    /// csv` (`period,partial,activeUsers`, `<feature> users`, `<feature> new users`,
    /// `breadth0`, …).
    #[wasm_bindgen(js_name = featuresCsv)]
    pub fn features_csv(&self, query: Option<PeriodQueryArg>) -> Result<String, JsValue> {
        let query: crate::PeriodQuery = from_js(query, "query")?;
        Ok(self.table.features(&query).map_err(core_error)?.to_csv())
    }

    /// The same periods as `growth`, as CSV: the columns of `sg-analytics growth --format csv`
    /// (`period,activeUsers,newUsers,retainedUsers,resurrectedUsers,churnedUsers,quickRatio,
    /// partial`; the quick ratio to two decimals, blank when no one churned), formula-guarded.
    #[wasm_bindgen(js_name = growthCsv)]
    pub fn growth_csv(&self, query: Option<PeriodQueryArg>) -> Result<String, JsValue> {
        let query: crate::PeriodQuery = from_js(query, "query")?;
        Ok(self.table.growth(&query).map_err(core_error)?.to_csv())
    }

    /// The same cohorts as `retention`, as CSV: the columns of `sg-analytics retention --format
    /// csv` (`cohort,users,+0,+1,…`, counts; a younger cohort's row ends in blank cells),
    /// formula-guarded.
    #[wasm_bindgen(js_name = retentionCsv)]
    pub fn retention_csv(&self, query: Option<PeriodQueryArg>) -> Result<String, JsValue> {
        let query: crate::PeriodQuery = from_js(query, "query")?;
        Ok(self.table.retention(&query).map_err(core_error)?.to_csv())
    }

    /// The users with no active day in the last `days` days of the range.
    #[wasm_bindgen(js_name = inactiveUsers, unchecked_return_type = "Inactive")]
    pub fn inactive_users(&self, query: InactiveQueryArg) -> Result<JsValue, JsValue> {
        let query = inactive_query(query)?;
        let inactive = self
            .table
            .inactive_users(&query, self.registry.as_ref())
            .map_err(core_error)?;
        to_js(&inactive)
    }

    /// The same users as `inactiveUsers`, as CSV: the columns of `sg-analytics inactive --format
    /// csv` (`user,email,username,lastActive`, and `serviceAccount,siteAdmin` with a joined
    /// registry; `never` for no active day), formula-guarded.
    #[wasm_bindgen(js_name = inactiveUsersCsv)]
    pub fn inactive_users_csv(&self, query: InactiveQueryArg) -> Result<String, JsValue> {
        let query = inactive_query(query)?;
        let inactive = self
            .table
            .inactive_users(&query, self.registry.as_ref())
            .map_err(core_error)?;
        Ok(inactive.to_csv())
    }

    /// Data rows.
    #[wasm_bindgen(getter)]
    pub fn rows(&self) -> usize {
        self.table.rows()
    }
}

/// The user registry: which users are service accounts or site admins.
#[wasm_bindgen(js_name = Registry)]
pub struct UserRegistry {
    pub(crate) inner: crate::Registry,
}

#[wasm_bindgen(js_class = Registry)]
impl UserRegistry {
    /// Parses the registry CSV (`Instance user ID`, `Service Account`, `Site Admin`).
    #[wasm_bindgen(js_name = fromCsv)]
    pub fn from_csv(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] data: JsValue,
    ) -> Result<UserRegistry, JsValue> {
        panic_hook();
        let bytes = match data.as_string() {
            Some(text) => text.into_bytes(),
            None if data.is_instance_of::<js_sys::Uint8Array>() => {
                js_sys::Uint8Array::from(data).to_vec()
            }
            None => return Err(js_error("Registry.fromCsv takes a Uint8Array or a string")),
        };
        crate::Registry::from_bytes(&bytes)
            .map(|inner| UserRegistry { inner })
            .map_err(core_error)
    }

    /// Users listed.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.inner.len()
    }

    /// Users who are service accounts.
    #[wasm_bindgen(getter, js_name = serviceAccounts)]
    pub fn service_accounts(&self) -> usize {
        self.inner.service_accounts()
    }
}
