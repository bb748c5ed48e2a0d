// The dashboard's view state: defaults, the queries a view asks, and its round trip through the URL
// hash. What an export can answer (group keys, time keys, default minutes) comes from the module's
// info(), never from a copy here. Pure functions: no DOM, no storage, no worker.

export const PAGE_SIZES = [10, 25, 50, 100];

/** The dashboard's two views: usage (cards, charts, table) and adoption (growth, retention, idle). */
export const TABS = ["usage", "adoption"];

/** The Adoption view's periods (`week` needs a day-grain export: info().timeKeys says). */
export const PERIODS = ["month", "week"];

/** The inactive-users picker: no active day in the last N days. */
export const IDLE_DAYS = [7, 14, 30, 60, 90];

/** The view a fresh dashboard shows. */
export function defaultView() {
  return {
    groupBy: ["user"],
    from: "",
    to: "",
    userSearch: "",
    clients: [],
    languages: [],
    /** Per people-file column, the values kept ("" keeps the unmapped): `filter.attributes`. */
    attributes: {},
    activeOnly: false,
    /** Count the service accounts a joined registry marks (the module leaves them out by default). */
    includeServiceAccounts: false,
    sort: { by: "hoursSaved", desc: true },
    /** The grouped table's columns as chosen; null: the module's default set (info().defaultColumns). */
    columns: null,
    page: 0,
    pageSize: 25,
    metric: "hoursSaved",
    timeKey: "week",
    /** The people-file column the "by column" chart groups by ("" until a file is joined). */
    chartBy: "",
    minutes: {},
    tab: "usage",
    period: "month",
    idleDays: 30,
    /** The smallest denominator a rate is shown firmly over; null: the module's default
     * (info().defaultMinSample), so the page keeps no copy of it. */
    minSample: null,
  };
}

/**
 * A copy of `view` with everything this export cannot answer dropped, so no query fails on it.
 * `info` is the module's `info()`: its `groupKeys` and `timeKeys` decide, not a copy of the rule.
 */
export function fitView(view, { groupKeys = [], timeKeys = [], attributes = [], tableColumns = [] } = {}) {
  const next = { ...view, sort: { ...view.sort }, minutes: { ...view.minutes }, attributes: { ...view.attributes } };
  // A filter on a people-file column stays while no file has that column (a shared link names it;
  // the page says it waits for the file); filterOf applies only the columns info() lists.
  if (attributes.length && !attributes.includes(next.chartBy)) next.chartBy = attributes[0];
  next.groupBy = unique(view.groupBy.filter((key) => groupKeys.includes(key)));
  if (next.groupBy.length === 0 && groupKeys.length) next.groupBy = [groupKeys.includes("user") ? "user" : groupKeys[0]];
  if (!groupKeys.includes("client")) next.clients = [];
  if (!groupKeys.includes("language")) next.languages = [];
  // Sorting by a key the grouping no longer has would be an error: fall back to the default order.
  if (groupKeys.includes(next.sort.by) && !next.groupBy.includes(next.sort.by)) next.sort = defaultView().sort;
  // A month-grain export has one day per month: weeks would be misleading, and the core refuses them.
  if (!PERIODS.includes(next.period) || (next.period === "week" && !timeKeys.includes("week"))) next.period = "month";
  // Chosen columns this export lacks go; none left is the default set.
  if (next.columns) next.columns = next.columns.filter((name) => tableColumns.includes(name));
  if (!next.columns?.length) next.columns = null;
  if (!timeKeys.includes(next.timeKey)) next.timeKey = timeKeys.includes("week") ? "week" : (timeKeys[timeKeys.length - 1] ?? "month");
  return next;
}

/**
 * The Filter the view asks for (only the parts that are set). `context.attributes` are the
 * columns of the joined people file (info().attributes): filters on other columns wait;
 * `context.range` is the range fetched (`{from, to}`), the dates of a view without its own.
 */
export function filterOf(view, { registryLoaded = false, attributes = [], range = {} } = {}) {
  const filter = {};
  // Without dates of its own, a view is about the range fetched (`context.range`), so that every
  // figure (average DAU, periods, the previous range) covers the range the page states.
  if (view.from || range.from) filter.from = view.from || range.from;
  if (view.to || range.to) filter.to = view.to || range.to;
  if (view.userSearch.trim()) filter.userSearch = view.userSearch.trim();
  if (view.clients.length) filter.clients = [...view.clients];
  if (view.languages.length) filter.languages = [...view.languages];
  for (const [name, values] of Object.entries(view.attributes ?? {})) {
    if (!attributes.includes(name) || !values.length) continue;
    filter.attributes = { ...filter.attributes, [name]: [...values] };
  }
  if (view.activeOnly) filter.activeOnly = true;
  // Left out is the module's default once a registry is joined: only counting them is asked.
  if (view.includeServiceAccounts && registryLoaded) filter.excludeServiceAccounts = false;
  return filter;
}

/**
 * The view's people-file filters fitted to a file just joined: of each column's chosen values, the
 * ones the file's users have (`choices`: info().choices.attributes, "" for the unmapped) stay; the
 * others, and whole columns the file lacks, are dropped, since they would keep no user and empty
 * the view. `dropped` lists them (`{name, values, column}`; `column` false when the file has no
 * such column) so the page can say what went.
 */
export function fitAttributesToFile(view, choices = []) {
  const offered = new Map(choices.map(({ name, values }) => [name, new Set(values)]));
  const attributes = {};
  const dropped = [];
  for (const [name, values] of Object.entries(view.attributes ?? {})) {
    const has = offered.get(name);
    const kept = has ? values.filter((value) => has.has(value)) : [];
    const gone = values.filter((value) => !kept.includes(value));
    if (kept.length) attributes[name] = kept;
    if (gone.length) dropped.push({ name, values: gone, column: Boolean(has) });
  }
  return { view: { ...view, attributes }, dropped };
}

/** The people-file columns the view filters on that no joined file has (they wait for one). */
export function pendingAttributes(view, { attributes = [] } = {}) {
  return Object.entries(view.attributes ?? {})
    .filter(([name, values]) => values.length && !attributes.includes(name))
    .map(([name]) => name);
}

/** Minutes saved per feature: the export's defaults (`info.defaultMinutes`) with the view's overrides. */
export function minutesOf(view, info) {
  return { ...(info?.defaultMinutes ?? {}), ...view.minutes };
}

/** The minutes the view changed from the defaults (what a query needs to send). */
function minutesAsked(view) {
  return { ...view.minutes };
}

/** The view's small-sample minimum as a query part: nothing while it is the module's default. */
function sampleAsked(view) {
  return view.minSample === null ? {} : { minSample: view.minSample };
}

/**
 * The query for one page of the grouped table; its totals feed the cards, and with dates
 * (`context.hasDates`) the totals of the equally long range before, for the cards' change.
 */
export function tableQuery(view, context) {
  return {
    ...groupedQuery(view, context),
    limit: view.pageSize,
    offset: view.page * view.pageSize,
    includeWarnings: false,
    ...(context.hasDates ? { compare: "previous" } : {}),
  };
}

/**
 * The whole grouped result, for downloads: the table's columns, as chosen or by default
 * (`context.defaultColumns`, info()'s).
 */
export function groupedQuery(view, context) {
  const columns = view.columns ?? context.defaultColumns;
  return {
    groupBy: [...view.groupBy],
    ...(columns?.length ? { columns: [...columns] } : {}),
    filter: filterOf(view, context),
    sort: { by: view.sort.by, desc: view.sort.desc },
    minutesSaved: minutesAsked(view),
    ...sampleAsked(view),
  };
}

/**
 * The query behind a chart: one key, the view's filter, one metric (with a rate's `denominator`,
 * `info().metrics[].denominator`, so each group's `smallSample` can mark it), optionally the top few.
 */
export function chartQuery(view, context, key, { metric, denominator, sortBy, limit } = {}) {
  const metrics = denominator && denominator !== metric ? [metric, denominator] : [metric];
  const query = { groupBy: [key], filter: filterOf(view, context), minutesSaved: minutesAsked(view), metrics, includeWarnings: false, ...sampleAsked(view) };
  if (sortBy) query.sort = { by: sortBy, desc: true };
  if (limit) query.limit = limit;
  return query;
}

/**
 * The cards' comparison when the range before the view's is outside the data: the view's totals
 * over the last two periods its range covers whole (`compare: "lastPeriods"`, the module's rule).
 */
export function lastPeriodsQuery(view, context) {
  return { groupBy: [], filter: filterOf(view, context), minutesSaved: minutesAsked(view), includeWarnings: false, compare: "lastPeriods", ...sampleAsked(view) };
}

/** The Adoption view's growth and retention query (`report.growth`, `report.retention`). */
export function periodQuery(view, context) {
  return { period: view.period, filter: filterOf(view, context), ...sampleAsked(view) };
}

/** The Adoption view's inactive-users query (`report.inactiveUsers`). */
export function inactiveQuery(view, context) {
  return { days: view.idleDays, filter: filterOf(view, context) };
}

/**
 * The range a view is about, as every label and file name states it: the filter's dates where set,
 * else the range fetched (`source.range`, the fetch's startDate/endDate), else the data's first and
 * last dates (`info`). Either end may be "" (an export without dates fetched with no range).
 */
export function shownRange(view, source = {}, info = {}) {
  const fetched = source.range ?? {};
  return {
    from: view.from || fetched.from || info.firstDate || "",
    to: view.to || fetched.to || info.lastDate || "",
  };
}

/** The date range presets of the filter bar: name and label. */
export const DATE_PRESETS = [
  ["all", "All dates"],
  ["last30", "Last 30 days"],
  ["last90", "Last 90 days"],
  ["month", "Last complete month"],
  ["quarter", "Last complete quarter"],
];

const DAY_MS = 86_400_000;
const dayOf = (date) => Date.parse(`${date}T00:00:00Z`);
const dateOf = (ms) => new Date(ms).toISOString().slice(0, 10);

/**
 * The filter dates of a preset, counted back from the data's last date (`info.lastDate`, the
 * export's "today"): the last 30 or 90 days up to it, or the last calendar month or quarter that
 * it completes (the one before when it ends mid-period). `null` for an unknown preset or no dates.
 */
export function presetRange(preset, { lastDate } = {}) {
  if (preset === "all") return { from: "", to: "" };
  if (!lastDate || !/^\d{4}-\d{2}-\d{2}$/.test(lastDate)) return null;
  const last = dayOf(lastDate);
  const days = { last30: 30, last90: 90 }[preset];
  if (days) return { from: dateOf(last - (days - 1) * DAY_MS), to: lastDate };
  const months = { month: 1, quarter: 3 }[preset];
  if (!months) return null;
  // The period holding the day after the data ends starts where the last complete one ends.
  const next = new Date(last + DAY_MS);
  const startMonth = Math.floor(next.getUTCMonth() / months) * months;
  const end = Date.UTC(next.getUTCFullYear(), startMonth, 1) - DAY_MS;
  const endDate = new Date(end);
  const from = Date.UTC(endDate.getUTCFullYear(), endDate.getUTCMonth() - months + 1, 1);
  return { from: dateOf(from), to: dateOf(end) };
}

/** The preset the view's dates are (`"custom"` when none is). */
export function presetOf(view, info = {}) {
  for (const [name] of DATE_PRESETS) {
    const range = presetRange(name, info);
    if (range && range.from === view.from && range.to === view.to) return name;
  }
  return "custom";
}

/**
 * The view's filters in words (`["dates 2025-05-01 to 2025-05-31", "Team Search or (unmapped)"]`),
 * for the sentence that explains an empty view and for what a download records. Only the
 * people-file columns a joined file has (`context.attributes`) apply.
 */
export function filterPhrases(view, { attributes = [] } = {}) {
  const either = (values, none) => values.map((value) => value || none).join(" or ");
  const out = [];
  if (view.from && view.to) out.push(`dates ${view.from} to ${view.to}`);
  else if (view.from) out.push(`dates from ${view.from}`);
  else if (view.to) out.push(`dates until ${view.to}`);
  if (view.userSearch.trim()) out.push(`users matching “${view.userSearch.trim()}”`);
  if (view.clients.length) out.push(`client ${either(view.clients, "(none)")}`);
  if (view.languages.length) out.push(`language ${either(view.languages, "(none)")}`);
  for (const [name, values] of Object.entries(view.attributes ?? {})) {
    if (attributes.includes(name) && values.length) out.push(`${name} ${either(values, "(unmapped)")}`);
  }
  if (view.activeOnly) out.push("active users only");
  return out;
}

/**
 * Why a view keeps no row, in a sentence with the way out: the export is empty, the dates fall
 * outside the data (`info.firstDate`..`info.lastDate`), or the filters keep no one.
 */
export function emptyExplanation(view, info = {}, context = {}) {
  const { rows = 0, firstDate, lastDate } = info;
  if (rows === 0) return "This export has no rows: Sourcegraph Analytics recorded no usage for this instance and range. Fetch a longer range, or check the instance.";
  if (firstDate && lastDate && ((view.from && view.from > lastDate) || (view.to && view.to < firstDate))) {
    return `No usage between ${view.from || firstDate} and ${view.to || lastDate}: this export has data from ${firstDate} to ${lastDate}. Pick dates inside it, or fetch that range.`;
  }
  const phrases = filterPhrases(view, context);
  if (phrases.length === 0) return "Every user in this export is a service account, which the dashboard leaves out: include them above the cards.";
  return `None of this export’s ${rows.toLocaleString("en-US")} rows match ${phrases.join(", ")}. Remove a filter, or press “Reset view”.`;
}

// --- The URL hash ---------------------------------------------------------------------------------
// Short, readable parameters so a shared link says what it shows. The token is never part of it.

/** Encodes the view (and the non-secret source settings) as a hash, without the leading `#`. */
export function encodeHash(view, source = {}) {
  const d = defaultView();
  const p = new URLSearchParams();
  if (source.instanceUrl) p.set("instance", source.instanceUrl);
  if (source.granularity) p.set("granularity", source.granularity);
  if (source.startDate) p.set("start", source.startDate);
  if (source.endDate) p.set("end", source.endDate);
  if (view.groupBy.join() !== d.groupBy.join()) p.set("group", view.groupBy.join(","));
  if (view.from) p.set("from", view.from);
  if (view.to) p.set("to", view.to);
  if (view.userSearch) p.set("user", view.userSearch);
  for (const client of view.clients) p.append("client", client);
  for (const language of view.languages) p.append("language", language);
  for (const [name, values] of Object.entries(view.attributes ?? {})) for (const value of values) p.append(`attr.${name}`, value);
  if (view.activeOnly) p.set("active", "1");
  if (view.includeServiceAccounts) p.set("service", "1");
  if (view.sort.by !== d.sort.by || view.sort.desc !== d.sort.desc) p.set("sort", `${view.sort.desc ? "-" : ""}${view.sort.by}`);
  for (const column of view.columns ?? []) p.append("col", column);
  if (view.page) p.set("page", String(view.page + 1));
  if (view.pageSize !== d.pageSize) p.set("size", String(view.pageSize));
  if (view.metric !== d.metric) p.set("metric", view.metric);
  if (view.timeKey !== d.timeKey) p.set("time", view.timeKey);
  if (view.chartBy) p.set("chartby", view.chartBy);
  for (const [feature, minutes] of Object.entries(view.minutes)) p.set(`min.${feature}`, String(minutes));
  if (view.tab !== d.tab) p.set("view", view.tab);
  if (view.period !== d.period) p.set("period", view.period);
  if (view.idleDays !== d.idleDays) p.set("idle", String(view.idleDays));
  if (view.minSample !== null) p.set("small", String(view.minSample));
  return p.toString();
}

/** Decodes a hash (with or without `#`) into `{view, source}`; anything malformed falls back to defaults. */
export function decodeHash(hash) {
  const p = new URLSearchParams(String(hash ?? "").replace(/^#/, ""));
  const view = defaultView();
  const source = {};
  const date = (value) => (/^\d{4}-\d{2}-\d{2}$/.test(value ?? "") ? value : "");
  if (p.get("instance")) source.instanceUrl = p.get("instance");
  // Any granularity-shaped word: whether the API offers it is the module's say (planFetch).
  if (/^[a-z_]{1,40}$/.test(p.get("granularity") ?? "")) source.granularity = p.get("granularity");
  if (date(p.get("start"))) source.startDate = p.get("start");
  if (date(p.get("end"))) source.endDate = p.get("end");
  if (p.has("group")) {
    // Any word may name a key here; whether the export offers it is info().groupKeys's say (fitView).
    const keys = unique(p.get("group").split(",").filter((key) => /^[a-z]{1,20}$/.test(key)));
    if (keys.length) view.groupBy = keys.slice(0, 2);
  }
  view.from = date(p.get("from"));
  view.to = date(p.get("to"));
  view.userSearch = (p.get("user") ?? "").slice(0, 200);
  view.clients = unique(p.getAll("client"));
  view.languages = unique(p.getAll("language"));
  view.activeOnly = p.get("active") === "1";
  view.includeServiceAccounts = p.get("service") === "1";
  const sort = p.get("sort");
  if (sort && sort.replace(/^-/, "")) view.sort = { by: sort.replace(/^-/, ""), desc: sort.startsWith("-") };
  // Any names; which this export has is info().tableColumns's say (fitView).
  const columns = unique(p.getAll("col").map((name) => name.slice(0, 200)).filter(Boolean)).slice(0, 200);
  if (columns.length) view.columns = columns;
  const page = Number.parseInt(p.get("page") ?? "", 10);
  if (page > 0) view.page = page - 1;
  const size = Number.parseInt(p.get("size") ?? "", 10);
  if (PAGE_SIZES.includes(size)) view.pageSize = size;
  if (p.get("metric")) view.metric = p.get("metric");
  if (/^[a-z]{1,20}$/.test(p.get("time") ?? "")) view.timeKey = p.get("time"); // fitView checks it against info().timeKeys
  // People-file columns: any name; whether a joined file has it is info().attributes's say.
  view.chartBy = (p.get("chartby") ?? "").slice(0, 200);
  if (TABS.includes(p.get("view"))) view.tab = p.get("view");
  if (PERIODS.includes(p.get("period"))) view.period = p.get("period"); // fitView checks week against the export
  const idle = Number(p.get("idle"));
  if (IDLE_DAYS.includes(idle)) view.idleDays = idle;
  view.minSample = minSampleOf(p.get("small"));
  for (const [name, value] of p) {
    const minutes = Number(value);
    if (name.startsWith("min.") && name.length > 4 && Number.isFinite(minutes) && minutes >= 0) view.minutes[name.slice(4)] = minutes;
    const column = name.slice(5);
    if (name.startsWith("attr.") && column && column.length <= 200 && column !== "__proto__" && !Object.hasOwn(view.attributes, column) && Object.keys(view.attributes).length < 20) {
      view.attributes[column] = unique(p.getAll(name)).slice(0, 1000);
    }
  }
  return { view, source };
}

/** A small-sample minimum as typed or linked: a whole number from 0 to 1,000,000,000, else null. */
export function minSampleOf(text) {
  const value = Number(String(text ?? "").trim());
  return /^\s*\d+\s*$/.test(String(text ?? "")) && value <= 1e9 ? value : null;
}

function unique(values) {
  return [...new Set(values.filter((value) => value !== null && value !== undefined))];
}
