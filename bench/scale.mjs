// How the page fares as exports grow: for each size, generates the export (finest granularity,
// one year) into bench/data/ when missing, opens it through the page's file picker in headless
// Chromium, and records what the user gets: the dashboard (time from choosing the file, rows,
// the page's own split of that time, the worker round trip of each view change, and the memory of
// the browser's processes once the dashboard is drawn: the resident set of every process under the
// browser, the tab, its worker and the module's memory included) or the page's error panel (its
// kind, the time it took to appear, and its message). Results go to
// bench/results/scale.{md,json}, and a log-log plot of how the costs grow with the rows to
// bench/results/scale.svg.
//
//   node bench/scale.mjs [--users 3500,35000,80000] [--days 365] [--no-build] [--keep]
//
// A size's export is deleted after its run unless --keep (the largest take gigabytes of disk).
// Not part of `cargo xtask test`.

import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "@playwright/test";
import { BENCH, ROOT, exportFile, flag, opt, run } from "./prepare.mjs";

const USERS = String(opt("--users", "3500,35000,80000")).split(",").map(Number);
const DAYS = Number(opt("--days", 365));
const PORT = Number(opt("--port", 8098));
const KEEP = flag("--keep");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const BASE = `http://127.0.0.1:${PORT}`;
const log = (...a) => console.error("scale:", ...a);

if (!flag("--no-build")) run("cargo", ["xtask", "build"]);
const server = spawn("cargo", ["xtask", "serve", "--no-build", "--port", String(PORT)], { cwd: ROOT, stdio: "ignore" });

async function waitForServer() {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(BASE + "/")).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the server did not start");
}

/** Waits for a new `sg-analytics:query` measure after `action`: the worker round trip, in ms. */
async function roundTrip(page, action) {
  const before = await page.evaluate(() => performance.getEntriesByName("sg-analytics:query").length);
  await action();
  await page.waitForFunction((n) => performance.getEntriesByName("sg-analytics:query").length > n, before, { timeout: 120_000 });
  return page.evaluate(() => performance.getEntriesByName("sg-analytics:query").at(-1).duration);
}

/** Opens the client filter's list (only shows the checkboxes). */
async function openClients(page) {
  const details = page.locator('details[data-filter="clients"]');
  if (!(await details.evaluate((d) => d.open))) await details.locator("summary").click();
}

const CHANGES = [
  ['tick "Active only"', (p) => p.getByLabel("Active only").check()],
  ['untick "Active only"', (p) => p.getByLabel("Active only").uncheck()],
  ["group by week", (p) => p.getByLabel("Group by").selectOption("week")],
  ["group by user", (p) => p.getByLabel("Group by").selectOption("user")],
  ['"Next →"', (p) => p.getByRole("button", { name: "Next →" }).click()],
  ["filter one client", async (p) => {
    await openClients(p);
    await p.locator('details[data-filter="clients"] input[type="checkbox"]').first().check();
  }],
  ["all clients again", (p) => p.locator('details[data-filter="clients"] input[type="checkbox"]').first().uncheck()],
  // A range that cuts the export's weeks and months, and the whole range again.
  ['range "Last 90 days"', (p) => p.getByLabel("Range").selectOption("last90")],
  ['range "All dates" again', (p) => p.getByLabel("Range").selectOption("all")],
];

/** Resident memory (bytes) of every process under `root` but `root` itself and the subtrees of
 * `skip` (Linux /proc): here, the browser's processes under this script, not the server's. */
function treeRss(root, skip = []) {
  const children = new Map();
  const rss = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(fields[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
      rss.set(Number(name), Number(fields[21]) * 4096);
    } catch {}
  }
  let total = 0;
  const stack = [...(children.get(root) ?? [])].filter((pid) => !skip.includes(pid));
  while (stack.length) {
    const pid = stack.pop();
    total += rss.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

const results = [];
let browser;
try {
  await waitForServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  for (const users of USERS) {
    const csv = exportFile(users, DAYS, log);
    const bytes = statSync(csv).size;
    const context = await browser.newContext({ reducedMotion: "reduce", locale: "en-US" });
    const page = await context.newPage();
    await page.goto(BASE + "/");
    await page.waitForTimeout(1000);
    const started = Date.now();
    await page.getByLabel("Open a CSV export").setInputFiles(csv);
    const loaded = page.locator(".status").filter({ hasText: "Loaded" });
    const panel = page.locator(".error-panel");
    await Promise.race([loaded.waitFor({ timeout: 900_000 }), panel.waitFor({ timeout: 900_000 })]);
    const seconds = (Date.now() - started) / 1000;
    const row = { users, days: DAYS, bytes, seconds };
    if (await panel.isVisible()) {
      row.panel = await panel.getAttribute("data-kind");
      row.message = await page.locator(".error-message").textContent();
      log(`${users} users, ${(bytes / 1e9).toFixed(2)} GB: panel ${row.panel} after ${seconds.toFixed(1)} s: ${row.message}`);
    } else {
      row.status = await page.locator(".status").textContent();
      row.rows = Number((row.status.match(/([\d,]+) rows/)?.[1] ?? "0").replaceAll(",", ""));
      // The page's own measures: reading and ingest in the worker, the first view, its drawing.
      row.load = await page.evaluate(() => {
        const last = (name) => performance.getEntriesByName(name).at(-1)?.duration ?? null;
        return { ingest: last("sg-analytics:load"), query: last("sg-analytics:query"), render: last("sg-analytics:render") };
      });
      row.memory = treeRss(process.pid, [server.pid]);
      row.changes = {};
      for (const [name, action] of CHANGES) {
        try {
          row.changes[name] = await roundTrip(page, () => action(page));
        } catch (e) {
          row.changes[name] = null;
          log(`${name}: ${e.message.split("\n")[0]}`);
        }
      }
      log(`${users} users, ${(bytes / 1e9).toFixed(2)} GB: dashboard after ${seconds.toFixed(1)} s (${row.status}); worker round trips ${JSON.stringify(row.changes)}`);
    }
    results.push(row);
    await context.close();
    if (!KEEP) unlinkSync(csv);
  }
} finally {
  await browser?.close();
  server.kill();
}

const out = join(BENCH, "results");
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "scale.json"), JSON.stringify(results, null, 2));
const md = [
  "| export | CSV | rows | outcome | seconds from choosing the file | browser memory | worker round trip per view change (ms) |",
  "| --- | ---: | ---: | --- | ---: | ---: | --- |",
  ...results.map((r) => {
    const changes = r.changes ? Object.entries(r.changes).map(([k, v]) => `${k} ${v === null ? "—" : v.toFixed(0)}`).join("; ") : "";
    const memory = r.memory ? `${(r.memory / 1e9).toFixed(2)} GB` : "";
    return `| ${r.users} users × ${r.days} days | ${(r.bytes / 1e9).toFixed(2)} GB | ${r.rows ? r.rows.toLocaleString("en-US") : ""} | ${r.panel ? `panel \`${r.panel}\`` : "dashboard"} | ${r.seconds.toFixed(1)} | ${memory} | ${changes || r.message} |`;
  }),
].join("\n");
writeFileSync(join(out, "scale.md"), md + "\n");
writeFileSync(join(out, "scale.svg"), plot(results.filter((r) => r.changes && r.rows)));
console.log(md);

/** A small log-log plot: seconds to the dashboard and the slowest view change, by rows. */
function plot(rows) {
  const W = 480, H = 260, L = 56, R = 16, T = 16, B = 40;
  if (!rows.length) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"/>\n`;
  const xs = rows.map((r) => r.rows);
  const series = [
    { name: "file → dashboard (s)", color: "#1f77b4", values: rows.map((r) => r.seconds) },
    { name: "slowest view change, worker round trip (s)", color: "#d62728", values: rows.map((r) => Math.max(...Object.values(r.changes).filter((v) => v !== null)) / 1000) },
  ];
  const ys = series.flatMap((s) => s.values);
  const lx = (x) => Math.log10(x), ly = (y) => Math.log10(Math.max(y, 1e-3));
  const [x0, x1] = [Math.floor(lx(Math.min(...xs))), Math.ceil(lx(Math.max(...xs)))];
  const [y0, y1] = [Math.floor(ly(Math.min(...ys))), Math.ceil(ly(Math.max(...ys)))];
  const px = (x) => L + ((lx(x) - x0) / Math.max(x1 - x0, 1)) * (W - L - R);
  const py = (y) => H - B - ((ly(y) - y0) / Math.max(y1 - y0, 1)) * (H - T - B);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  for (let e = x0; e <= x1; e++) parts.push(`<line x1="${px(10 ** e)}" y1="${T}" x2="${px(10 ** e)}" y2="${H - B}" stroke="#ddd"/><text x="${px(10 ** e)}" y="${H - B + 14}" text-anchor="middle">10^${e}</text>`);
  for (let e = y0; e <= y1; e++) parts.push(`<line x1="${L}" y1="${py(10 ** e)}" x2="${W - R}" y2="${py(10 ** e)}" stroke="#ddd"/><text x="${L - 4}" y="${py(10 ** e) + 4}" text-anchor="end">${e >= 0 ? 10 ** e : (10 ** e).toFixed(-e)} s</text>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">rows (log scale)</text>`);
  series.forEach((s, i) => {
    const pts = xs.map((x, j) => [px(x).toFixed(1), py(s.values[j]).toFixed(1)]);
    parts.push(`<polyline points="${pts.map((p) => p.join(",")).join(" ")}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const [cx, cy] of pts) parts.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${s.color}"/>`);
    parts.push(`<text x="${L + 8}" y="${T + 12 + 14 * i}" fill="${s.color}">${s.name}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
