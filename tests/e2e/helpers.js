// Shared helpers of the end-to-end tests: drive the page like a person, and compute what it should
// show independently, from the API's own CSV parsed here with a few lines of code.

import { expect } from "@playwright/test";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** axe-core's engine (a dev dependency), injected into a page by `axeViolations`. */
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/**
 * The accessibility violations axe-core finds in the page as it is now (shadow roots included),
 * each as `{id, impact, help, nodes}`; `[]` when there are none. Injected through the test
 * driver, so the page's Content-Security-Policy stays as it ships.
 */
export async function axeViolations(page) {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const result = await globalThis.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
  });
}

export const DEMO_TOKEN = "sgdemo-local-token";
export const INSTANCE = "demo.sourcegraph.local";
export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");

/** A mock base URL with options (`users=12;days=30;fault=...`) and a unique id so fault counters start at 0. */
export function mockBase(baseURL, opts = "") {
  const id = `id=${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  return `${baseURL}/_mock/${[opts, id].filter(Boolean).join(";")}`;
}

/** A small CSV parser (quotes, doubled quotes, CRLF) — independent of the module under test. */
export function parseCsv(text) {
  const records = [];
  let record = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else if (c !== "\r") field += c;
  }
  if (field || record.length) {
    record.push(field);
    records.push(record);
  }
  const [header, ...rows] = records.filter((r) => r.length > 1 || r[0] !== "");
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h.replace(/^\uFEFF/, "").trim(), r[i]])));
}

/** The export as the mock serves it, fetched with the page's request context. */
export async function fetchExportRows(request, base, { granularity = "by_user_day_client_language", startDate, endDate } = {}) {
  const params = new URLSearchParams({ instanceURL: INSTANCE, granularity });
  if (startDate) params.set("startDate", startDate);
  if (endDate) params.set("endDate", endDate);
  const response = await request.get(`${base}/api/reports/by-user-client-date?${params}`, { headers: { Authorization: `Bearer ${DEMO_TOKEN}` } });
  expect(response.ok()).toBeTruthy();
  return parseCsv(await response.text());
}

export async function fetchRegistryRows(request, base) {
  const response = await request.get(`${base}/api/reports/user-registry?instanceURL=${INSTANCE}`, { headers: { Authorization: `Bearer ${DEMO_TOKEN}` } });
  expect(response.ok()).toBeTruthy();
  return parseCsv(await response.text());
}

/** The registry's service accounts, by Instance user ID. */
export function serviceAccountIds(registry) {
  return new Set(registry.filter((r) => truthy(r["Service Account"])).map((r) => r["Instance user ID"]));
}

/** `rows` (export or registry rows) without the users `registry` marks as service accounts. */
export function withoutServiceAccounts(rows, registry) {
  const bots = serviceAccountIds(registry);
  return rows.filter((r) => !bots.has(r["Instance user ID"]));
}

/**
 * What the page counts after a fetch, which joins the registry: the export's rows and the
 * registry's users, both without the service accounts (left out by default).
 */
export async function fetchCounted(request, base, options) {
  const [rows, registry] = await Promise.all([fetchExportRows(request, base, options), fetchRegistryRows(request, base)]);
  return { rows: withoutServiceAccounts(rows, registry), registry: withoutServiceAccounts(registry, registry), all: rows, bots: serviceAccountIds(registry) };
}

/** The export's rows the page counts after a fetch (see fetchCounted). */
export async function fetchCountedRows(request, base, options) {
  return (await fetchCounted(request, base, options)).rows;
}

const truthy = (v) => /^(true|yes|y|t|1)$/i.test(String(v ?? "").trim());
const num = (v) => (v === undefined || v === "" ? 0 : Number(v));

/** The headline numbers, computed from rows by the metric rules in docs/numbers.md. */
export function expectedTotals(rows) {
  const users = new Set(rows.map((r) => r["Instance user ID"]));
  const active = new Set(rows.filter((r) => truthy(r["Active Sourcegraph User"])).map((r) => r["Instance user ID"]));
  const sum = (column) => rows.reduce((total, r) => total + num(r[column]), 0);
  const ratio = (a, b) => (sum(b) === 0 ? null : sum(a) / sum(b));
  // Day-grain numbers: every calendar day of the data's range counts, days without rows as 0.
  let avgDau = null;
  let avgDaysActivePerUser = null;
  if (rows.length && "Timestamp Date" in rows[0]) {
    const dates = rows.map((r) => r["Timestamp Date"]).sort();
    const span = (Date.parse(dates.at(-1)) - Date.parse(dates[0])) / 86_400_000 + 1;
    const activeUserDays = new Set(rows.filter((r) => truthy(r["Active Sourcegraph User"])).map((r) => `${r["Timestamp Date"]}|${r["Instance user ID"]}`));
    const userDays = new Set(rows.map((r) => `${r["Timestamp Date"]}|${r["Instance user ID"]}`));
    avgDau = activeUserDays.size / span;
    avgDaysActivePerUser = userDays.size / users.size;
  }
  return {
    users: users.size,
    activeUsers: active.size,
    avgDau,
    avgDaysActivePerUser,
    chatEvents: sum("Chat Events"),
    car: ratio("Combined Completion Acceptances", "Combined Completion Suggestions"),
    percentByCody: ratio("Total Characters Written by Cody", "Total Characters Written") * 100,
    autoEditRate: ratio("Auto-edit accepted events", "Auto-edit suggested events"),
    hoursSaved:
      (sum("Combined Completion Acceptances") * 2 +
        sum("Auto-edit accepted events") * 2 +
        sum("Chat Events") * 5 +
        sum("Command Events") * 5 +
        sum("Searches") * 5 +
        sum("Code Navigation Events") * 1) /
      60,
  };
}

/** A number as the page shows one-decimal values (en-US), to compare text with text. */
export function oneDecimal(value, suffix = "") {
  return new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(value) + suffix;
}

/** The text a card shows. */
export async function cardText(page, metric) {
  return (await page.locator(`.card[data-metric="${metric}"] .card-value`).textContent()).trim();
}

/** The number a card shows, or null for "—". */
export async function cardNumber(page, metric) {
  const text = (await page.locator(`.card[data-metric="${metric}"] .card-value`).textContent()).trim();
  if (text === "—") return null;
  return Number(text.replace(/[,%\s]/g, ""));
}

/** Fills the connect form and loads; leaves the page showing the dashboard. */
export async function connect(page, { base, token = DEMO_TOKEN, granularity, startDate, endDate, remember = false, monthWindows = false, expectLoaded = true } = {}) {
  await page.getByLabel("Instance URL").fill(INSTANCE);
  await page.getByLabel("Access token").fill(token);
  if (granularity) await page.getByLabel("Granularity").selectOption(granularity);
  if (startDate) await page.getByLabel("Start date", { exact: true }).fill(startDate);
  if (endDate) await page.getByLabel("End date", { exact: true }).fill(endDate);
  if (remember) await page.getByLabel(/Remember the token/).check();
  if (base) {
    if ((await page.locator("details.advanced").getAttribute("open")) === null) await page.locator("details.advanced > summary").click();
    await page.getByLabel("API base URL").fill(base);
    if (monthWindows) await page.getByLabel(/Fetch month by month/).check();
  }
  await page.getByRole("button", { name: "Load usage" }).click();
  if (expectLoaded) await waitForDashboard(page);
}

export async function waitForDashboard(page) {
  await expect(page.locator(".dashboard")).toBeVisible();
  await expect(page.locator(".status")).toContainText("Loaded");
  await expect(page.locator(".progress")).toBeHidden();
}

/** Fails the test on CSP violations and uncaught errors the page reports. */
export function watchConsole(page) {
  const problems = [];
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(`csp: ${message.text()}`);
  });
  return problems;
}

/** Rows of the grouped table as arrays of cell texts. */
export async function tableRows(page) {
  return page.locator("table.grid:not(.compact) tbody tr").evaluateAll((rows) => rows.map((row) => [...row.cells].map((cell) => cell.textContent.trim())));
}

/**
 * After the page fetched a by_user_day export from `base`: the cards show the export's users and
 * the time chart is drawn; then a file opened offline is shown too; and the console saw none of
 * the `problems` `watchConsole` collects.
 */
export async function expectFetchedThenOffline(page, base, problems) {
  const rows = await fetchCountedRows(page.request, base, { granularity: "by_user_day" });
  expect(await cardNumber(page, "users")).toBe(expectedTotals(rows).users);
  await expect(page.locator('[data-chart="time"] canvas')).toBeVisible();

  await page.getByLabel("Open a CSV export").setInputFiles(path.join(FIXTURES, "by_user_day.csv"));
  await expect(page.locator(".source-title")).toHaveText("by_user_day.csv (offline)");
  await waitForDashboard(page);
  expect(problems).toEqual([]);
}

// --- Adoption answers, by the definitions in docs/numbers.md ("Adoption answers"), from parsed rows ---

const DAY_MS = 86_400_000;
const dayNumber = (date) => Date.parse(`${date}T00:00:00Z`) / DAY_MS;
const dateOf = (day) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** The period key of a date: `YYYY-MM` for month, the Monday's `YYYY-MM-DD` for week. */
export function periodKey(date, period) {
  if (period === "month") return date.slice(0, 7);
  const day = dayNumber(date);
  const weekday = (new Date(day * DAY_MS).getUTCDay() + 6) % 7; // Monday 0
  return dateOf(day - weekday);
}

/** Every period key from the one holding `first` to the one holding `last`, empty ones included. */
function periodsBetween(first, last, period) {
  const keys = [];
  for (let day = dayNumber(first); day <= dayNumber(last); day++) {
    const key = periodKey(dateOf(day), period);
    if (keys.at(-1) !== key) keys.push(key);
  }
  return keys;
}

/** The days of the period `key`: 7 for a week, the month's days for a month. */
function periodLength(key, period) {
  if (period === "week") return 7;
  const [y, m] = key.split("-").map(Number);
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Whether `first`..`last` leaves out some of the days of the period `key`. */
function isPartial(key, period, first, last) {
  let inRange = 0;
  for (let day = dayNumber(first); day <= dayNumber(last); day++) if (periodKey(dateOf(day), period) === key) inRange++;
  return inRange < periodLength(key, period);
}

/**
 * Growth, retention and inactive users of day-grain `rows` (already filtered by the view), over
 * the range `from`..`to` (default: the rows' first and last dates). `registry` rows add their users
 * to the inactive candidates.
 */
export function adoptionReference(rows, { period = "month", days = 30, from, to, registry = [] } = {}) {
  const dates = rows.map((r) => r["Timestamp Date"]).sort();
  const first = from ?? dates[0];
  const last = to ?? dates.at(-1);
  const isActive = (r) => !("Active Sourcegraph User" in r) || truthy(r["Active Sourcegraph User"]);
  const keys = periodsBetween(first, last, period);
  const activeIn = new Map(keys.map((key) => [key, new Set()]));
  const lastActive = new Map();
  for (const r of rows) {
    if (!isActive(r)) continue;
    const user = r["Instance user ID"];
    activeIn.get(periodKey(r["Timestamp Date"], period)).add(user);
    if (!(lastActive.get(user) >= r["Timestamp Date"])) lastActive.set(user, r["Timestamp Date"]);
  }
  const sets = keys.map((key) => activeIn.get(key));
  const growth = keys.map((key, p) => {
    const now = sets[p];
    const before = p > 0 ? sets[p - 1] : new Set();
    const earlier = new Set(sets.slice(0, Math.max(0, p - 1)).flatMap((s) => [...s]));
    const count = (fn) => [...now].filter(fn).length;
    const newUsers = count((u) => !before.has(u) && !earlier.has(u));
    const resurrectedUsers = count((u) => !before.has(u) && earlier.has(u));
    const churnedUsers = [...before].filter((u) => !now.has(u)).length;
    return {
      period: key,
      partial: isPartial(key, period, first, last),
      activeUsers: now.size,
      newUsers,
      retainedUsers: count((u) => before.has(u)),
      resurrectedUsers,
      churnedUsers,
      quickRatio: churnedUsers === 0 ? null : (newUsers + resurrectedUsers) / churnedUsers,
    };
  });
  const cohortOf = new Map();
  sets.forEach((set, p) => set.forEach((u) => cohortOf.has(u) || cohortOf.set(u, p)));
  const retention = [];
  keys.forEach((key, c) => {
    const members = [...cohortOf].filter(([, p]) => p === c).map(([u]) => u);
    if (members.length === 0) return;
    retention.push({ cohort: key, users: members.length, active: keys.slice(c).map((_, k) => members.filter((u) => sets[c + k].has(u)).length) });
  });
  const since = dateOf(dayNumber(last) - days + 1);
  const candidates = new Set([...rows.map((r) => r["Instance user ID"]), ...registry.map((r) => r["Instance user ID"])]);
  const inactive = [...candidates]
    .filter((u) => !(lastActive.get(u) >= since))
    .map((u) => ({ user: u, lastActive: lastActive.get(u) ?? null }))
    .sort((a, b) => (a.lastActive === b.lastActive ? (a.user < b.user ? -1 : a.user > b.user ? 1 : 0) : a.lastActive === null ? -1 : b.lastActive === null ? 1 : a.lastActive < b.lastActive ? -1 : 1));
  return { growth, retention, inactive, asOf: last };
}

/** The inactive list's rows in `adoptionTables(page).inactive` as [user ID, last active]. */
export const inactiveRows = (tables) => tables.inactive.filter((row) => row.length === 4).map((row) => [row[2], row[3]]);

/**
 * The Adoption view's tables as cell texts: growth rows, retention rows, inactive rows. A growth
 * or retention cell's text is its own, without the tags that mark it (baseline, partial, small
 * sample).
 */
export async function adoptionTables(page) {
  const cells = (selector) => page.locator(selector).evaluateAll((rows) => rows.map((row) => [...row.cells].map((cell) => cell.textContent.trim())));
  return {
    growth: await page.locator("table.growth-table tbody tr").evaluateAll((rows) => rows.map((row) => [...row.cells].map((cell) => (cell.firstChild ?? cell).textContent.trim()))),
    retention: await page.locator("table.retention-table tbody tr").evaluateAll((rows) =>
      rows.map((row) => [...row.cells].map((cell) => (cell.classList.contains("heat") ? [cell.querySelector(".heat-count").textContent, cell.querySelector(".heat-share").textContent] : (cell.firstChild ?? cell).textContent.trim()))),
    ),
    inactive: await cells("table.inactive-table tbody tr"),
  };
}

/** What the Adoption view's tables should say, as cell texts (en-US), from `adoptionReference`. */
export function expectedAdoptionTables(reference, { shown = 500 } = {}) {
  const count = (n) => new Intl.NumberFormat("en-US").format(n);
  const share = (n, d) => oneDecimal((n / d) * 100, "%");
  return {
    growth: reference.growth.map((g) => [g.period, count(g.activeUsers), count(g.newUsers), count(g.resurrectedUsers), count(g.retainedUsers), count(g.churnedUsers), g.quickRatio === null ? "—" : g.quickRatio.toFixed(2)]),
    retention: reference.retention.map((c) => [c.cohort, count(c.users), ...c.active.map((n) => [count(n), share(n, c.users)])]),
    inactive: reference.inactive.slice(0, shown).map((u) => [u.user, u.lastActive ?? "never"]),
  };
}
