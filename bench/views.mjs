#!/usr/bin/env node
// View-change benchmark: how long the dashboard takes to settle after each control is used, on a
// large export opened offline, in headless Chromium; and the query engine's own figures in wasm
// (the same queries as the criterion benchmark `cargo bench --bench ingest -- query`).
//
//   node bench/views.mjs [--users N] [--days D] [--reps N] [--csv FILE] [--no-build] [--port P]
//                        [--files-port P] [--idle-ms MS] [--profile]
//
// Builds pkg/ (cargo xtask build), generates the export into bench/data/ when missing, serves the
// page with `cargo xtask serve` (the product's own server, CSP headers included) on 127.0.0.1,
// opens the export through the file picker, then uses each control in turn. A view change is
// timed from the input event (a capturing listener stamps it) to the last DOM change it causes
// (a MutationObserver stamps every change; the page is settled after 500 ms without one). Charts
// are drawn without animation (reduced motion), in the same task as their text alternative, so
// the last change includes them. Each change is also timed to the frame drawn after its last DOM
// change (a timer set from the next animation frame's callback runs once that frame's style,
// layout and paint are done): what the browser still does before the user sees it. Prints a
// table and writes bench/results/views.{md,json}. CHROMIUM_ARGS adds switches to Chromium's
// command line (space-separated), for experiments: `--disable-features=DeferRendererTasksAfterInput`
// shows what Chromium's holding of the page's tasks until the frame after a click costs.
import { spawn } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { BENCH, ROOT, exportFile, exportLabel, flag, opt, run } from "./prepare.mjs";

const USERS = Number(opt("--users", 4000));
const DAYS = Number(opt("--days", 180));
const REPS = Number(opt("--reps", 3));
const NO_BUILD = flag("--no-build");
const PORT = Number(opt("--port", 8097));
// The second server's port (the module and the export for the queries in wasm); 0: any free one.
const FILES_PORT = Number(opt("--files-port", 0));
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const PROFILE = flag("--profile");
// How long the page sits idle before the file is chosen (a user takes that long to pick one).
const IDLE_MS = Number(opt("--idle-ms", 1000));

const log = (...a) => console.error("views:", ...a);

if (!NO_BUILD) {
  log("building pkg/ (cargo xtask build)");
  run("cargo", ["xtask", "build"]);
}
const CSV = exportFile(USERS, DAYS, log);
const MB = statSync(CSV).size / 1e6;

// ---- the product's server ----------------------------------------------------------------------
const server = spawn("cargo", ["xtask", "serve", "--no-build", "--port", String(PORT)], { cwd: ROOT, stdio: "ignore" });
const BASE = `http://127.0.0.1:${PORT}`;
async function waitForServer() {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(BASE + "/")).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the server did not start");
}

// Playwright from the project's own dev dependencies (npm ci at the root installs it).
const require = createRequire(join(ROOT, "package.json"));
const { chromium } = require("playwright-core");

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** In the page: stamp input events and DOM changes. */
function instrument() {
  window.__bench = { armed: false, t0: null, last: 0, frame: 0 };
  const stamp = () => {
    const b = window.__bench;
    if (b.armed && b.t0 === null) b.t0 = performance.now();
  };
  for (const type of ["pointerdown", "mousedown", "click", "input", "change", "keydown"]) {
    window.addEventListener(type, stamp, { capture: true });
  }
  // The dashboard renders inside its element's shadow root, which an observer of the document does
  // not see: observe every root.
  const observer = new MutationObserver(() => {
    const b = window.__bench;
    const last = (b.last = performance.now());
    requestAnimationFrame(() =>
      setTimeout(() => {
        if (b.last === last) b.frame = performance.now();
      }),
    );
  });
  const roots = [document.documentElement, ...[...document.querySelectorAll("*")].map((e) => e.shadowRoot).filter(Boolean)];
  for (const root of roots) observer.observe(root, { subtree: true, childList: true, attributes: true, characterData: true });
}

/** Uses a control and returns the milliseconds from its input event to the last DOM change. */
async function timed(page, action) {
  await page.evaluate(() => {
    performance.clearMeasures();
    Object.assign(window.__bench, { armed: true, t0: null, last: 0, frame: 0 });
  });
  await action();
  const result = await page.waitForFunction(
    () => {
      const b = window.__bench;
      return b.t0 !== null && b.last > b.t0 && b.frame > b.last && performance.now() - b.last > 500 ? b.last - b.t0 : null;
    },
    null,
    { polling: 50, timeout: 60_000 },
  );
  const split = await page.evaluate(() => {
    window.__bench.armed = false;
    // The page's own measures: the worker round trip and the drawing after it.
    const sum = (name) => performance.getEntriesByName(name).reduce((a, e) => a + e.duration, 0);
    const b = window.__bench;
    return { query: sum("sg-analytics:query"), render: sum("sg-analytics:render"), frame: b.frame - b.t0 };
  });
  return { total: await result.jsonValue(), ...split };
}

/** Opens the client filter's list (not timed: it only shows the checkboxes). */
async function openClients(page) {
  const details = page.locator('details[data-filter="clients"]');
  if (!(await details.evaluate((d) => d.open))) await details.locator("summary").click();
}

const CHANGES = [
  ['tick "Active only"', (p) => p.getByLabel("Active only").check()],
  ['untick "Active only"', (p) => p.getByLabel("Active only").uncheck()],
  ["group by week", (p) => p.getByLabel("Group by").selectOption("week")],
  ["group by user", (p) => p.getByLabel("Group by").selectOption("user")],
  ['"Next →" on the table', (p) => p.getByRole("button", { name: "Next →" }).click()],
  ["sort by Chat Events", (p) => p.getByRole("button", { name: /^Chat Events/ }).click()],
  ["sort by Chat Events again (reverse)", (p) => p.getByRole("button", { name: /^Chat Events/ }).click()],
  ["filter one client", (p) => p.locator('details[data-filter="clients"] input[type="checkbox"]').first().check(), openClients],
  ["all clients again", (p) => p.locator('details[data-filter="clients"] input[type="checkbox"]').first().uncheck()],
  // A range that cuts the export's weeks and months, and the whole range again.
  ['range "Last 90 days"', (p) => p.getByLabel("Range").selectOption("last90")],
  ['range "All dates" again', (p) => p.getByLabel("Range").selectOption("all")],
];

// The criterion benchmark's queries (benches/ingest.rs), and the page's queries for one view.
const QUERIES = {
  by_month_date_filter: { groupBy: ["month"], filter: { from: "2025-02-01", to: "2025-05-31" } },
  totals: {},
  top_10_users_by_hours_saved: { groupBy: ["user"], sort: { by: "hoursSaved", desc: true }, limit: 10 },
  by_client_language: { groupBy: ["client", "language"] },
};
function pageView(active) {
  const filter = { activeOnly: active, from: "2025-01-06" };
  const chart = (key, metric, limit) => ({ groupBy: [key], filter, metrics: [metric], includeWarnings: false, ...(limit ? { sort: { by: metric, desc: true }, limit } : {}) });
  return [
    { groupBy: ["user"], filter, sort: { by: "hoursSaved", desc: true }, limit: 25, offset: 0, includeWarnings: false },
    chart("week", "activeUsers"),
    chart("client", "hoursSaved", 12),
    chart("language", "hoursSaved", 12),
    chart("user", "hoursSaved", 10),
  ];
}

/** In the page: the queries' medians (ms) in the module, run on the main thread. */
async function wasmQueries(page, reps) {
  return page.evaluate(
    async ({ queries, views, reps }) => {
      const m = await import("/pkg/sg_analytics.js");
      await m.default({ module_or_path: "/pkg/sg_analytics_bg.wasm" });
      const bytes = new Uint8Array(await (await fetch("/data.csv")).arrayBuffer());
      const report = m.Report.fromCsv(bytes);
      const rows = report.info().rows;
      const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const out = { rows };
      // The report keeps the last filter's work; a query with another filter (keeping no rows)
      // before each timed one makes every timed query start from nothing, as in criterion.
      const flush = () => report.summarize({ filter: { to: "1971-01-01" }, metrics: ["rows"] });
      for (const [name, query] of Object.entries(queries)) {
        report.summarize(query); // warm-up
        const times = [];
        for (let i = 0; i < reps; i++) {
          flush();
          const t = performance.now();
          report.summarize(query);
          times.push(performance.now() - t);
        }
        out[name] = median(times);
      }
      // A view change: the filter alternates, so the cache never holds the asked one.
      const times = [];
      for (let i = 0; i < reps + 1; i++) {
        const t = performance.now();
        report.summarizeMany(views[i % 2]);
        if (i > 0) times.push(performance.now() - t);
      }
      out.page_view_summarize_many = median(times);
      report.free();
      return out;
    },
    { queries: QUERIES, views: [pageView(true), pageView(false)], reps },
  );
}

/** Prints where the main thread spends its time during a filter change (`--profile`). */
async function profile(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
  await cdp.send("Profiler.start");
  await timed(page, () => page.getByLabel("Active only").check());
  await timed(page, () => page.getByLabel("Active only").uncheck());
  const { profile } = await cdp.send("Profiler.stop");
  const self = new Map();
  const dt = profile.timeDeltas;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  profile.samples.forEach((id, i) => {
    const f = byId.get(id).callFrame;
    const key = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
  });
  for (const [key, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${ms.toFixed(1).padStart(8)} ms  ${key}`);

  // The renderer's own work (style, layout, paint) during the same two changes.
  const events = [];
  cdp.on("Tracing.dataCollected", ({ value }) => events.push(...value));
  const done = new Promise((resolve) => cdp.once("Tracing.tracingComplete", resolve));
  await cdp.send("Tracing.start", { categories: "devtools.timeline", transferMode: "ReportEvents" });
  await timed(page, () => page.getByLabel("Active only").check());
  await timed(page, () => page.getByLabel("Active only").uncheck());
  await cdp.send("Tracing.end");
  await done;
  const total = new Map();
  for (const e of events) if (e.ph === "X" && e.dur) total.set(e.name, (total.get(e.name) ?? 0) + e.dur / 1000);
  for (const [name, ms] of [...total].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${ms.toFixed(1).padStart(8)} ms  [trace] ${name}`);
}

let browser;
try {
  await waitForServer();
  log(`serving on ${BASE}; ${MB.toFixed(1)} MB export ${CSV}`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", ...(process.env.CHROMIUM_ARGS ?? "").split(" ").filter(Boolean)] });
  const context = await browser.newContext({ reducedMotion: "reduce", viewport: { width: 1280, height: 900 }, locale: "en-US" });
  const page = await context.newPage();
  await page.goto(BASE + "/");
  // The page as a user finds it when they have picked a file: loaded, its worker started, idle.
  await page.waitForTimeout(IDLE_MS);
  const input = page.getByLabel("Open a CSV export");
  await input.evaluate((el) => {
    window.__open = {};
    el.addEventListener("change", () => (window.__open.change = performance.now()), { capture: true });
    window.addEventListener("sg-analytics-loaded", () => (window.__open.loaded = performance.now()));
  });
  const opened = Date.now();
  await input.setInputFiles(CSV);
  await page.locator(".status").filter({ hasText: "Loaded" }).waitFor({ timeout: 120_000 });
  const openedS = (Date.now() - opened) / 1000;
  // The same open as the page sees it: from the file input's change event to the dashboard
  // drawn (the page's `sg-analytics-loaded` event), split by the page's own measures.
  const open = await page.evaluate(() => {
    const last = (name) => performance.getEntriesByName(name).at(-1)?.duration ?? null;
    const { change, loaded } = window.__open;
    return { fromChange: loaded - change, load: last("sg-analytics:load"), query: last("sg-analytics:query"), render: last("sg-analytics:render") };
  });
  open.other = open.fromChange - open.load - open.query - open.render;
  const openLine = `from the file input's change event to the dashboard drawn: ${open.fromChange.toFixed(0)} ms = reading and ingest in the worker ${open.load.toFixed(0)} + the first view's queries (worker round trip) ${open.query.toFixed(0)} + drawing ${open.render.toFixed(0)} + the rest ${open.other.toFixed(0)}`;
  log(`opened in ${openedS.toFixed(1)} s (Playwright: setting the file input to "Loaded" seen); ${openLine}`);
  await page.evaluate(instrument);

  const times = Object.fromEntries(CHANGES.map(([name]) => [name, []]));
  const parts = Object.fromEntries(CHANGES.map(([name]) => [name, { query: [], render: [], frame: [] }]));
  for (let rep = 0; rep < REPS; rep++) {
    for (const [name, action, prepare] of CHANGES) {
      if (prepare) await prepare(page);
      const { total, query, render, frame } = await timed(page, () => action(page));
      times[name].push(total);
      parts[name].query.push(query);
      parts[name].render.push(render);
      parts[name].frame.push(frame);
      log(`${name}: ${total.toFixed(0)} ms (worker round trip ${query.toFixed(0)}, drawing ${render.toFixed(0)}; frame drawn at ${frame.toFixed(0)})`);
    }
  }
  if (PROFILE) await profile(page);
  const all = Object.values(times).flat();
  const frames = Object.values(parts).flatMap((p) => p.frame);
  await page.close();
  // The queries in wasm read the whole export into one ArrayBuffer for Report.fromCsv, which
  // holds at most 2 GiB: a larger export is timed in the page only.
  let wasm = null;
  if (MB * 1e6 < 2 ** 31) {
    log("timing the engine's queries in wasm (a fresh page, so the dashboard's worker is gone)");
    // The browser benchmark's own server (bench/server.mjs): the module and the export on one
    // origin, the export streamed from disk (Playwright's route would send it through the
    // DevTools protocol, which a 100 MB body does not fit).
    const { startServer } = await import("./server.mjs");
    const files = await startServer({ csvPath: CSV, port: FILES_PORT });
    const queryPage = await context.newPage();
    await queryPage.goto(files.url + "/");
    wasm = await wasmQueries(queryPage, 9).finally(() => files.close());
  } else {
    log("not timing the engine's queries in wasm: the export is over the 2 GiB of one ArrayBuffer");
  }

  const version = await browser.version();
  const lines = [
    `${MB.toFixed(1)} MB export (${wasm ? `${wasm.rows.toLocaleString("en-US")} rows, ` : ""}${exportLabel(USERS, DAYS)}, finest granularity) opened offline; headless Chromium ${version}; ${REPS} rounds.`,
    "",
    `Opened in ${openedS.toFixed(1)} s from setting the file input to "Loaded" seen by Playwright (the page idle for ${IDLE_MS} ms before); ${openLine}.`,
    "",
    "| view change | median ms | max ms | of which worker round trip | drawing | to the frame drawn: median | max |",
    "|---|--:|--:|--:|--:|--:|--:|",
    ...Object.entries(times).map(([name, xs]) => `| ${name} | ${median(xs).toFixed(0)} | ${Math.max(...xs).toFixed(0)} | ${median(parts[name].query).toFixed(0)} | ${median(parts[name].render).toFixed(0)} | ${median(parts[name].frame).toFixed(0)} | ${Math.max(...parts[name].frame).toFixed(0)} |`),
    `| **every change** | **${median(all).toFixed(0)}** | **${Math.max(...all).toFixed(0)}** | | | **${median(frames).toFixed(0)}** | **${Math.max(...frames).toFixed(0)}** |`,
    ...(wasm
      ? [
          "",
          "| query in wasm (main thread, median of 9) | ms |",
          "|---|--:|",
          ...Object.keys(QUERIES).map((name) => `| ${name} | ${wasm[name].toFixed(1)} |`),
          `| page_view_summarize_many (5 queries, new filter) | ${wasm.page_view_summarize_many.toFixed(1)} |`,
        ]
      : []),
  ];
  const table = lines.join("\n");
  console.log(table);
  mkdirSync(join(BENCH, "results"), { recursive: true });
  writeFileSync(join(BENCH, "results", "views.md"), table + "\n");
  writeFileSync(join(BENCH, "results", "views.json"), JSON.stringify({ csvMB: MB, users: USERS, days: DAYS, reps: REPS, chromium: version, openedS, idleMs: IDLE_MS, open, times, parts, wasm }, null, 2) + "\n");
} finally {
  await browser?.close();
  server.kill();
}
