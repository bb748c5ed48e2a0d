#!/usr/bin/env node
// Browser benchmark: sg-analytics against Papa Parse, DuckDB-wasm and a naive JS loop, in one
// headless Chromium session, with the native CLI timed between the browser rounds.
//
//   node bench/run.mjs [--reps N] [--users N] [--days D] [--csv FILE] [--no-build]
//
// Installs bench/'s npm dependencies (npm ci) when missing, builds pkg/ and the native CLI,
// generates the export into bench/data/ when missing, serves everything on 127.0.0.1, runs the
// tools round-robin (one warm-up round, then N measured rounds, the order rotated every round),
// checks that every tool computed the same summary, prints the table and writes it to
// bench/results/latest.{md,json}. Exits non-zero if any tool disagrees.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, openSync, readSync, closeSync } from "node:fs";
import { createRequire } from "node:module";
import { gzipSync } from "node:zlib";
import { loadavg } from "node:os";
import { join } from "node:path";
import { BENCH, ROOT, exportFile, exportLabel, flag, opt, run } from "./prepare.mjs";

// ---- options ---------------------------------------------------------------------------------
const REPS = Number(opt("--reps", 5));
const USERS = Number(opt("--users", 3000));
const DAYS = Number(opt("--days", 365));
const NO_BUILD = flag("--no-build");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

const log = (...a) => console.error("bench:", ...a);

// ---- prepare ---------------------------------------------------------------------------------
if (!existsSync(join(BENCH, "node_modules", ".package-lock.json"))) {
  log("installing bench dependencies (npm ci --prefix bench)");
  run("npm", ["ci", "--prefix", BENCH, "--no-audit", "--no-fund"]);
}
if (!NO_BUILD) {
  log("building pkg/ (cargo xtask build) and the native CLI");
  run("cargo", ["xtask", "build"]);
  run("cargo", ["build", "--release", "--quiet", "--bin", "sg-analytics", "--example", "csv_baseline"]);
}
const CLI = join(ROOT, "target", "release", "sg-analytics");
const CSV_LOOP = join(ROOT, "target", "release", "examples", "csv_baseline");
const CSV = exportFile(USERS, DAYS, log);
const CSV_BYTES = statSync(CSV).size;
const MB = CSV_BYTES / 1e6;

/** Whether the file has any quote character (the naive loop ignores quoting). */
function hasQuotes(path) {
  const fd = openSync(path, "r");
  const buf = Buffer.alloc(1 << 22);
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return false;
      if (buf.subarray(0, n).includes(34)) return true;
    }
  } finally {
    closeSync(fd);
  }
}
const QUOTES = hasQuotes(CSV);
const WASM = join(ROOT, "pkg", "sg_analytics_bg.wasm");
const wasmRaw = statSync(WASM).size;
const wasmGz = gzipSync(readFileSync(WASM), { level: 9 }).length;

// ---- native ----------------------------------------------------------------------------------
const HAVE_TIME = existsSync("/usr/bin/time");
function nativeRun() {
  const args = ["summarize", CSV, "--by", "month", "--format", "json"];
  const t0 = process.hrtime.bigint();
  const r = HAVE_TIME
    ? spawnSync("/usr/bin/time", ["-f", "%M", CLI, ...args], { maxBuffer: 1 << 26 })
    : spawnSync(CLI, args, { maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`native CLI failed: ${r.stderr}`);
  const s = JSON.parse(r.stdout.toString());
  const maxRssKb = HAVE_TIME ? Number(r.stderr.toString().trim().split("\n").pop()) : null;
  const months = s.groups
    .map((g) => ({
      month: g.key.month,
      users: g.users,
      chat: g["Chat Events"] ?? 0,
      sugg: g["Combined Completion Suggestions"] ?? 0,
      acc: g["Combined Completion Acceptances"] ?? 0,
      car: g["Combined CAR"] ?? null,
    }))
    .sort((a, b) => (a.month < b.month ? -1 : 1));
  return { ms, peakRss: maxRssKb ? maxRssKb * 1024 : null, rows: s.input.rows, summary: { months, users: s.totals.users, avgDau: s.totals.avgDau } };
}

/** The native csv-crate loop (examples/csv_baseline.rs): ByteRecord + ahash, same summary; it
 * reads the file first and times only parsing and aggregating, in process. */
function csvLoopRun() {
  const r = spawnSync(CSV_LOOP, [CSV], { maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`csv_baseline failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.toString());
  return { ms: out.ms, rows: out.rows, summary: out.summary };
}

// ---- renderer memory (peak RSS of Chromium's renderer processes, reset per run) ----------------
function descendants(rootPid) {
  const kids = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(d));
    } catch {}
  }
  const out = [];
  const stack = [rootPid];
  while (stack.length) {
    const p = stack.pop();
    for (const k of kids.get(p) ?? []) {
      out.push(k);
      stack.push(k);
    }
  }
  return out;
}
function renderers(browserPid) {
  return descendants(browserPid).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, "utf8").includes("--type=renderer");
    } catch {
      return false;
    }
  });
}
function statusKb(pid, field) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
let canResetPeak = true;
function resetPeak(pids) {
  let base = 0;
  for (const p of pids) {
    try {
      writeFileSync(`/proc/${p}/clear_refs`, "5");
    } catch {
      canResetPeak = false;
    }
    base += statusKb(p, "VmRSS");
  }
  return base * 1024;
}
const peakOf = (pids) => pids.reduce((s, p) => s + statusKb(p, "VmHWM"), 0) * 1024;

// ---- browser ---------------------------------------------------------------------------------
const { startServer } = await import("./server.mjs");
const require = createRequire(join(BENCH, "package.json"));
const { chromium } = require("playwright-core");

const server = await startServer({ csvPath: CSV });
log(`serving on ${server.url}; ${MB.toFixed(1)} MB export ${CSV}`);
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-precise-memory-info", "--js-flags=--expose-gc",
  ],
});
// Playwright starts Chromium as a child of this process: its renderers are our descendants.
const browserPid = process.pid;

const TOOLS = ["sg-fetch", "fetch-only", "sg-builder", "sg-fromCsv", "papa", "papa-defaults", "duckdb", "js-fast", "naive"];
const results = Object.fromEntries([...TOOLS, "native", "csv-loop"].map((t) => [t, []]));
let readyCold = null;
const readyWarm = [];
let requery = null;
let exitCode = 0;
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => log("page error:", e.message));
  page.on("console", (m) => m.type() === "error" && log("console:", m.text()));
  // Refuse every request to any host but ours.
  await page.route("**/*", (route) => {
    const u = new URL(route.request().url());
    return u.hostname === "127.0.0.1" ? route.continue() : route.abort();
  });
  await page.goto(server.url + "/");
  await page.waitForFunction(() => window.benchReady === true, null, { timeout: 60_000 });
  const runTool = async (tool, extra) => {
    const pids = renderers(browserPid);
    await page.evaluate(() => globalThis.gc?.());
    const base = resetPeak(pids);
    const r = await page.evaluate(([t, e]) => window.bench.run(t, e), [tool, extra]);
    r.peakRssDelta = pids.length && canResetPeak ? peakOf(pids) - base : null;
    return r;
  };

  // Module ready (import + init), in fresh workers: the first is cold (fetch + compile).
  for (let i = 0; i < 1 + REPS; i++) {
    const { readyMs } = await runTool("sg-ready");
    if (i === 0) readyCold = readyMs;
    else readyWarm.push(readyMs);
  }

  nativeRun(); // warm the page cache and the binary
  for (let round = 0; round <= REPS; round++) {
    const k = round % TOOLS.length;
    const order = [...TOOLS.slice(k), ...TOOLS.slice(0, k)];
    log(`round ${round === 0 ? "warm-up" : `${round}/${REPS}`}: ${order.join(", ")} + native`);
    for (const tool of order) {
      const r = await runTool(tool);
      if (round > 0) results[tool].push(r);
    }
    const n = nativeRun();
    const c = csvLoopRun();
    if (round > 0) {
      results.native.push(n);
      results["csv-loop"].push(c);
    }
  }
  requery = await runTool("sg-requery", { reps: 7 });
  await page.close();
} finally {
  await browser.close();
  await server.close();
}

// ---- agreement -------------------------------------------------------------------------------
function diff(a, b) {
  const bad = [];
  const close = (x, y) => (x === null || y === null ? x === y : Math.abs(x - y) <= 1e-9);
  if (a.users !== b.users) bad.push(`users ${a.users} vs ${b.users}`);
  if (!close(a.avgDau, b.avgDau)) bad.push(`avgDau ${a.avgDau} vs ${b.avgDau}`);
  if (a.months.length !== b.months.length) bad.push(`${a.months.length} vs ${b.months.length} months`);
  a.months.forEach((m, i) => {
    const n = b.months[i];
    if (!n) return;
    for (const k of ["month", "users", "chat", "sugg", "acc"]) if (m[k] !== n[k]) bad.push(`${m.month} ${k} ${m[k]} vs ${n[k]}`);
    if (!close(m.car, n.car)) bad.push(`${m.month} car ${m.car} vs ${n.car}`);
  });
  return bad;
}
const reference = results.native[0].summary;
const agreement = {};
for (const [tool, rs] of Object.entries(results)) {
  if (tool === "fetch-only") {
    agreement[tool] = rs.every((r) => r.bytes === CSV_BYTES) ? "ok" : ["bytes differ"];
    if (agreement[tool] !== "ok") exitCode = 1;
    continue;
  }
  const bad = rs.flatMap((r) => diff(r.summary, reference));
  agreement[tool] = bad.length ? bad.slice(0, 5) : "ok";
  if (bad.length) exitCode = 1;
}

// ---- table -----------------------------------------------------------------------------------
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : null;
};
const fmtMB = (b) => (b == null ? "—" : `${Math.max(0, b / 1048576).toFixed(0)} MiB`);
const LABEL = {
  "sg-fetch": "sg-analytics, fetchReport (streamed Response)",
  "fetch-only": "(floor) the same fetch stream read and dropped, no parsing",
  "sg-builder": "sg-analytics, ReportBuilder (in-memory, 1 MiB pushes)",
  "sg-fromCsv": "sg-analytics, Report.fromCsv(Uint8Array)",
  papa: "Papa Parse 5.7.1, arrays, fastMode, delimiter \",\", newline \"\\n\", 1 MiB chunks + JS",
  "papa-defaults": "(weaker) Papa Parse, whole string, its defaults + JS",
  duckdb: "DuckDB-wasm 1.32 (eh), typed read_csv → table + SQL",
  "js-fast": "quote-ignoring JS loop: bytes, indexOf to skip fields, numbers inline, no per-row allocation",
  naive: "(weaker) naive JS: slice + split(\",\") per row + JS",
  native: "native CLI `summarize --by month --format json` (process, file read, JSON out)",
  "csv-loop": "native Rust csv `ByteRecord` loop + ahash, in process (examples/csv_baseline.rs)",
};
const med = Object.fromEntries(Object.entries(results).map(([t, rs]) => [t, median(rs.map((r) => r.ms))]));
const sgBest = Math.min(med["sg-builder"], med["sg-fromCsv"]);
// Each peer at its best: the faster of its configurations.
const papaBest = Math.min(med.papa, med["papa-defaults"]);
const jsBest = Math.min(med["js-fast"], med.naive);
// The same ratios from each tool's fastest round: on a shared machine a round slowed by other work
// moves a median; the fastest rounds are the least disturbed.
const mins = Object.fromEntries(Object.entries(results).map(([t, rs]) => [t, Math.min(...rs.map((r) => r.ms))]));
const sgMin = Math.min(mins["sg-builder"], mins["sg-fromCsv"]);
const fromMins = {
  papa: Math.min(mins.papa, mins["papa-defaults"]) / sgMin,
  duckdb: mins.duckdb / sgMin,
  js: Math.min(mins["js-fast"], mins.naive) / sgMin,
  csv: mins["csv-loop"] / sgMin,
  fetch: sgMin / mins["sg-fetch"],
};
const rows = Object.keys(results).map((t) => {
  const rs = results[t];
  const wasm = rs.some((r) => r.wasmBytes) ? median(rs.map((r) => r.wasmBytes)) : null;
  const peak = rs.some((r) => r.peakRssDelta != null || r.peakRss) ? median(rs.map((r) => r.peakRssDelta ?? r.peakRss)) : null;
  return {
    tool: t,
    label: LABEL[t],
    medianMs: med[t],
    minMs: Math.min(...rs.map((r) => r.ms)),
    mbps: MB / (med[t] / 1000),
    vsSg: med[t] / sgBest,
    wasmBytes: wasm,
    peak,
    agree: agreement[t] === "ok" ? "yes" : "NO",
  };
});
const rowsCount = results.native[0].rows;
const lines = [];
lines.push(`Export: ${MB.toFixed(1)} MB (${CSV_BYTES} bytes), ${rowsCount} rows, by_user_day_client_language, ${exportLabel(USERS, DAYS)}; quote characters in the file: ${QUOTES ? "YES (the naive loop may disagree)" : "none"}.`);
lines.push(`Chromium ${browser.version?.() ?? ""}, ${REPS} measured rounds after a warm-up, tools round-robin (order rotated per round), native CLI and native csv loop run between rounds. Load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(", ")} (2 cores).`);
lines.push("");
lines.push("| tool (ingest + per-month summary) | median ms | min ms | MB/s | time ÷ best sg-analytics in-memory | wasm memory after | peak RSS Δ | agrees |");
lines.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: |");
for (const r of rows)
  lines.push(`| ${r.label} | ${r.medianMs.toFixed(0)} | ${r.minMs.toFixed(0)} | ${r.mbps.toFixed(0)} | ${r.vsSg.toFixed(2)}× | ${r.wasmBytes ? fmtMB(r.wasmBytes) : "—"} | ${fmtMB(r.peak)} | ${r.agree} |`);
lines.push("");
lines.push("Peak RSS Δ (browser rows): peak RSS of Chromium's renderer process during the run (reset through /proc/PID/clear_refs before it) minus its RSS at the start. It includes the input held in memory (the whole file, for the in-memory tools), and it is a lower bound: pages that the allocator kept resident from earlier runs are reused without raising RSS (hence near-0 figures). Native row: the CLI's max RSS. wasm memory: `memory.buffer.byteLength` of the sg-analytics instance after ingest + summary.");
lines.push("");
const rq = requery.queries.map((x) => ({ name: x.name, ms: median(x.times), groups: x.groups }));
const rqMax = Math.max(...rq.map((x) => x.ms));
lines.push(`Re-query (sg-analytics summarize over the ${requery.rows}-row report, median of 7): ${rq.map((x) => `${x.name} ${x.ms.toFixed(1)} ms`).join("; ")}. DuckDB-wasm group-by-client re-query: ${median(results.duckdb.flatMap((r) => r.requeryMs)).toFixed(1)} ms.`);
lines.push(`Module ready (import + init, fresh worker): cold ${readyCold.toFixed(1)} ms, warm median ${median(readyWarm).toFixed(1)} ms; DuckDB-wasm instantiate: median ${median(results.duckdb.map((r) => r.readyMs)).toFixed(0)} ms.`);
lines.push(`The fetch stream alone (read and dropped): median ${med["fetch-only"].toFixed(0)} ms, ${(MB / (med["fetch-only"] / 1000)).toFixed(0)} MB/s, ${median(results["fetch-only"].map((r) => r.chunks))} chunks; fetchReport takes ${(med["sg-fetch"] / med["fetch-only"]).toFixed(2)}× that.`);
lines.push(`.wasm: ${(wasmRaw / 1024).toFixed(0)} KiB, gzip -9 ${(wasmGz / 1024).toFixed(1)} KiB (${wasmGz} bytes).`);
lines.push("");

// ---- targets ---------------------------------------------------------------------------------
const sgWasmAfter = median(results["sg-builder"].map((r) => r.wasmBytes));
const sgFetchWasm = median(results["sg-fetch"].map((r) => r.wasmBytes));
const sgFromWasm = median(results["sg-fromCsv"].map((r) => r.wasmBytes));
const targets = [
  [`sg-analytics (in-memory) ≥ 2.5× Papa Parse (its fastest configuration)`, papaBest / sgBest, (x) => x >= 2.5, (x) => `${x.toFixed(2)}× (fastest rounds: ${fromMins.papa.toFixed(2)}×)`],
  [`sg-analytics ≥ 2× DuckDB-wasm typed read_csv`, med.duckdb / sgBest, (x) => x >= 2, (x) => `${x.toFixed(2)}× (fastest rounds: ${fromMins.duckdb.toFixed(2)}×)`],
  [`sg-analytics ≥ 1.25× the quote-ignoring JS loop (its fastest)`, jsBest / sgBest, (x) => x >= 1.25, (x) => `${x.toFixed(2)}× (fastest rounds: ${fromMins.js.toFixed(2)}×)`],
  [`sg-analytics (in-memory) ≥ 0.8× the native csv-crate loop, same run`, med["csv-loop"] / sgBest, (x) => x >= 0.8, (x) => `${x.toFixed(2)}× (fastest rounds: ${fromMins.csv.toFixed(2)}×; csv loop ${(MB / (med["csv-loop"] / 1000)).toFixed(0)} MB/s)`],
  [`sg-analytics fetchReport ≥ 0.85× the in-memory figure`, sgBest / med["sg-fetch"], (x) => x >= 0.85, (x) => `${x.toFixed(2)}× (fastest rounds: ${fromMins.fetch.toFixed(2)}×)`],
  [`module ready (import + init) < 50 ms (cold)`, readyCold, (x) => x < 50, (x) => `${x.toFixed(1)} ms`],
  [`wasm memory after ingest ≤ 0.5× CSV (ReportBuilder)`, sgWasmAfter / CSV_BYTES, (x) => x <= 0.5, (x) => `${x.toFixed(2)}× (${fmtMB(sgWasmAfter)})`],
  [`wasm memory after ingest ≤ 0.5× CSV (fetchReport)`, sgFetchWasm / CSV_BYTES, (x) => x <= 0.5, (x) => `${x.toFixed(2)}× (${fmtMB(sgFetchWasm)})`],
  [`wasm memory after ingest ≤ 0.5× CSV (Report.fromCsv)`, sgFromWasm / CSV_BYTES, (x) => x <= 0.5, (x) => `${x.toFixed(2)}× (${fmtMB(sgFromWasm)})`],
  [`re-query ≤ 50 ms (slowest of ${rq.length} queries)`, rqMax, (x) => x <= 50, (x) => `${x.toFixed(1)} ms`],
  [`.wasm ≤ 250 KB gzipped`, wasmGz / 1000, (x) => x <= 250, (x) => `${x.toFixed(0)} KB`],
];
lines.push("| target | measured (medians) | met |");
lines.push("| --- | ---: | :---: |");
for (const [name, v, ok, f] of targets) lines.push(`| ${name} | ${f(v)} | ${ok(v) ? "yes" : "**no**"} |`);
if (exitCode) {
  lines.push("");
  lines.push("DISAGREEMENT: " + JSON.stringify(agreement, null, 1));
}
const md = lines.join("\n") + "\n";
process.stdout.write(md);
mkdirSync(join(BENCH, "results"), { recursive: true });
writeFileSync(join(BENCH, "results", "latest.md"), md);
writeFileSync(
  join(BENCH, "results", "latest.json"),
  JSON.stringify({ csv: CSV, bytes: CSV_BYTES, rows: rowsCount, quotes: QUOTES, reps: REPS, results, requery, readyCold, readyWarm, wasmRaw, wasmGz, agreement }, null, 1),
);
process.exit(exitCode);
