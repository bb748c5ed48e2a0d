// The credits panel's content, from what `fetchCredits` returned. The API's credits format is not
// documented: the module hands over the JSON as it came (or a CSV answer as objects keyed by its
// header, cells as text) and the list of buckets in it (`buckets`, found by the rule the module's
// cost reads them with: `creditBuckets`); this lays them out defensively. Pure functions: no DOM,
// no state.

import { formatCount } from "./format.js";

const isRecord = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

/** A field name as words: `creditsUsed` and `credits_used` → "Credits used"; a header that is
 * already words (`Credits Used`) stays as written. */
export function creditsLabel(key) {
  const text = String(key).trim();
  if (!text) return "(unnamed)";
  if (/\s/.test(text)) return text;
  const words = text.replace(/[_-]+/g, " ").replace(/([a-z0-9])([A-Z])/g, "$1 $2").trim().toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A number given as a number or as the text of one (a CSV cell). */
function numeric(value) {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return null;
}

function cellText(value) {
  if (value === null || value === undefined || value === "") return "";
  const n = numeric(value);
  if (n !== null) return formatCount(n);
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "yes" : "no";
  return JSON.stringify(value);
}

/**
 * The credits panel's state from the worker's `credits` (`{loaded, data, buckets}` or `{loaded:
 * false, error}`) and the source the export came from:
 * `{state: "table", unit, columns: [{key, label, numeric}], rows: [[text, ...]]}`,
 * `{state: "empty"}` (no buckets in the range), `{state: "unrecognised"}`, `{state: "failed",
 * message}` or `{state: "absent", reason}`. Never throws, whatever the answer holds.
 */
export function creditsTable(credits, { offline = false } = {}) {
  if (offline) return { state: "absent", reason: "offline" };
  if (!credits || (!credits.loaded && !credits.error)) return { state: "absent", reason: "not-fetched" };
  if (!credits.loaded) return { state: "failed", message: String(credits.error) };
  const buckets = Array.isArray(credits.buckets) && credits.buckets.every(isRecord) ? credits.buckets : null;
  if (buckets === null) return { state: "unrecognised" };
  if (buckets.length === 0) return { state: "empty" };
  const keys = [];
  for (const bucket of buckets) for (const key of Object.keys(bucket)) if (!keys.includes(key)) keys.push(key);
  const columns = keys.map((key) => ({ key, label: creditsLabel(key), numeric: buckets.every((b) => b[key] === undefined || b[key] === null || b[key] === "" || numeric(b[key]) !== null) }));
  // The period (a month or date column) leads, so each row reads as "this month: ...".
  const lead = columns.findIndex((c) => !c.numeric && /month|period|date|start/i.test(c.key));
  if (lead > 0) columns.unshift(...columns.splice(lead, 1));
  const rows = buckets.map((bucket) => columns.map((c) => cellText(bucket[c.key])));
  const unit = isRecord(credits.data) && typeof credits.data.unit === "string" ? credits.data.unit : null;
  return { state: "table", unit, columns, rows };
}
