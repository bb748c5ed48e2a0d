// Number, date and file-name formatting. Pure functions: no DOM, no state.

/** What the page shows for a value that has no meaning (a rate whose denominator is 0). */
export const NONE = "—";

const LOCALE = undefined; // the browser's

const integer = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const compact = new Intl.NumberFormat(LOCALE, { notation: "compact", maximumFractionDigits: 1 });

/** True for a finite number; null, undefined, NaN and strings are not. */
export function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

/** A count: `12,345`; non-integers get one decimal. */
export function formatCount(value) {
  if (!isNumber(value)) return NONE;
  return Number.isInteger(value) ? integer.format(value) : oneDecimal.format(value);
}

/** A large count, shortened for a card or an axis: `12.3K`. */
export function formatCompact(value) {
  if (!isNumber(value)) return NONE;
  return Math.abs(value) < 10000 ? formatCount(value) : compact.format(value);
}

/** A ratio in 0..1 as a percentage: `27.0%`. */
export function formatRatio(value) {
  return isNumber(value) ? `${oneDecimal.format(value * 100)}%` : NONE;
}

/** A value that is already a percentage (0..100): `14.8%`. */
export function formatPercent(value) {
  return isNumber(value) ? `${oneDecimal.format(value)}%` : NONE;
}

/** A mean with one decimal: `12.5`. */
export function formatDecimal(value) {
  return isNumber(value) ? oneDecimal.format(value) : NONE;
}

/** Bytes as megabytes with one decimal: `12.3 MB`. */
export function formatBytes(bytes) {
  if (!isNumber(bytes)) return NONE;
  const mb = bytes / (1024 * 1024);
  return `${mb < 10 ? mb.toFixed(1) : integer.format(mb)} MB`;
}

/** Structural metric keys of the summary, with how to show their values (their headings are the
 * module's: `info().labels`). */
const STRUCTURAL = {
  rows: { format: formatCount },
  users: { format: formatCount },
  activeUsers: { format: formatCount },
  avgDau: { format: formatDecimal },
  avgDaysActivePerUser: { format: formatDecimal },
  hoursSaved: { format: formatDecimal },
};

/**
 * How a column's metric is shown, from the module's `info().metrics` entry for it (`{kind,
 * percent}`; absent for structural keys): the page keeps no rule of its own about which columns are
 * rates.
 */
export function isRate(meta) {
  return meta?.kind === "rate" || meta?.kind === "approximate";
}

/**
 * A metric's heading on screen: the module's (`labels`: `info().labels`) for a structural key;
 * a column keeps its name (its values show their scale, `27.0%`), marked when approximate.
 */
export function metricLabel(key, meta, labels = {}) {
  if (Object.hasOwn(labels, key) && !meta) return labels[key];
  return meta?.kind === "approximate" ? `${key} (approx.)` : key;
}

/** Formats one metric value by its key and kind; null and non-numbers show as "—". */
export function formatMetric(key, value, meta) {
  if (STRUCTURAL[key]) return STRUCTURAL[key].format(value);
  if (!isRate(meta)) return formatCount(value);
  // A percentage is already 0..100; other rates are ratios.
  return meta.percent ? formatPercent(value) : formatRatio(value);
}

/** A heading for a group key: the module's (`labels`: `info().labels`); a people-file column keeps its name. */
export function keyLabel(key, labels = {}) {
  return Object.hasOwn(labels, key) ? labels[key] : key;
}

/** A group key's value as shown: blank values say so rather than vanish. */
/** The name a user goes by on the page: the username, else the e-mail, else the user ID. */
export function userName({ username, email, user }) {
  return username || email || user;
}

export function formatKeyValue(key, value) {
  if (value === null || value === undefined || value === "") return key === "language" ? "(no language)" : "(blank)";
  return String(value);
}

/** Reduces a piece of text to something safe and short inside a file name. */
export function slug(text) {
  return String(text ?? "")
    .trim()
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/\.csv$/i, "")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "")
    .slice(0, 60);
}

/**
 * A descriptive download name:
 * `sg-analytics_<source>_<granularity>_<from>_to_<to>[_<filters>]_<what>.<ext>`, where `filters`
 * are the view's other filters in words (`client vscode.cody`, `Team Search`). Parts that are
 * unknown are left out, so the name never says "undefined".
 */
export function downloadName({ source, granularity, from, to, filters = [], what, ext }) {
  const range = from || to ? `${from || "start"}_to_${to || "end"}` : "all-dates";
  const parts = ["sg-analytics", slug(source) || "export", slug(granularity), range, slug(filters.join(" ")), slug(what)].filter(Boolean);
  return `${parts.join("_")}.${ext}`;
}

/** `2025-03-01 → 2025-04-14`, or a single end where only one is known. */
export function formatRange(from, to) {
  if (from && to) return from === to ? from : `${from} → ${to}`;
  if (from) return `from ${from}`;
  if (to) return `until ${to}`;
  return "all dates";
}

/** A readable granularity: its label among `granularities` (the module's, `[{name, label}]`). */
export function granularityLabel(granularity, granularities = []) {
  return granularities.find((g) => g.name === granularity)?.label ?? String(granularity ?? "unknown granularity");
}
