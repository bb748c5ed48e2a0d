//! The TypeScript declarations of the module's arguments and answers, which wasm-bindgen writes
//! into `pkg/sg_analytics.d.ts` beside the declarations it makes of the exports.

use wasm_bindgen::prelude::*;

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
  /** The metrics each group carries (a table's columns; a grouped CSV's): of these, those that
   * mean something for the grouping (the summary's `columnChoices`); when none does, the
   * default columns that do (`info().defaultColumns`). Default: every one that means something. */
  columns?: string[];
  /** Whether the summary carries the ingest warnings (default true). */
  includeWarnings?: boolean;
  /** Also the totals over the equally long range just before (the summary's `previous`), or over
   * the last two periods the range covers whole (its `lastPeriods`). */
  compare?: "previous" | "lastPeriods";
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
  /** Every metric a grouped table can show as a column, in the summary's order. */
  tableColumns: string[];
  /** The columns a grouped table shows by default (a query's `columns`), in order. */
  defaultColumns: string[];
  /** The heading of each structural field and key field (`avgDau` → "Average DAU"). */
  labels: Record<string, string>;
  /** The headline numbers a page shows first, in order: the metric (a key of the summary's
   * totals), its short heading and what it is in a few words. */
  cards: { metric: string; label: string; note: string }[];
  /** The minimum a rate's denominator needs to be shown firmly when a query sets no `minSample`
   * (50): a page's starting value for its own setting. */
  defaultMinSample: number;
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
   * activeUsers or avgDau per user; not avgDaysActivePerUser per day) that the query's `columns`
   * chose (all of them by default). The totals carry all. */
  groupMetrics: string[];
  /** The metrics that mean something for each group of this grouping (a table's column choices). */
  columnChoices: string[];
  /** Metrics that cannot be recomputed exactly from the export. */
  approximate: string[];
  minutesSaved: Record<string, number>;
  /** With `compare: "previous"`: the previous range and the same totals over it. */
  previous?: { range: { from: string; to: string }; totals: Metrics };
  /** With `compare: "lastPeriods"`: the same totals over the last two months (else weeks) the
   * range covers whole, the last complete one (`latest`) and the one before; absent when the
   * range holds fewer than two. */
  lastPeriods?: { period: "week" | "month";
    before: { period: string; range: { from: string; to: string }; totals: Metrics };
    latest: { period: string; range: { from: string; to: string }; totals: Metrics } };
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
  /** The latest period the range covers whole with someone active (whose `daysActive` the page
   * and the report show as a histogram); null when there is none. */
  latestComplete: string | null;
}

/** The features feature depth looks at (those the export has the columns of). */
export type Feature = "search" | "completions" | "chat" | "autoEdit";

/** Feature depth per period (day-grain exports): users per feature, first-time users per
 * feature, and `breadth[k]`, the active users who used exactly k of `features`. */
export interface Features {
  period: "week" | "month";
  minSample: number;
  features: Feature[];
  /** Each feature's heading (`autoEdit` → "Auto-edit"). */
  labels: Partial<Record<Feature, string>>;
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
  /** `buckets`: the list of buckets in `data`, as `creditBuckets` finds it (null: none). */
  credits: { loaded: boolean; data?: JsonValue; buckets?: Record<string, JsonValue>[] | null;
    error?: string; code?: FetchErrorCode; status?: number };
}
"#;
