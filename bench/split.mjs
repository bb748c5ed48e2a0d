#!/usr/bin/env node
// Reading split across Web Workers, in headless Chromium: how much faster N workers read one
// export than one does. The export (in memory, untimed) is cut at line ends into N parts, each
// with the header; each part goes to its own worker (bench/split-worker.js: its own module
// instance); once every worker holds its part and its module is ready, all are told to go, and
// the time until the last has pushed every chunk is the reading's wall time. The parts' tables
// are not merged into one, so this is an upper bound of what a split read could give the page
// (a merge adds a pass over the columns and the dictionaries' codes, and the roll-ups are built
// once on the whole). The rows read by the parts are checked against the one-worker read.
//
//   node bench/split.mjs [--parts 1,2,4] [--reps N] [--users N] [--days D] [--csv FILE] [--no-build]
//
// Not part of `cargo xtask test`.
import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { join } from "node:path";
import { BENCH, ROOT, exportFile, exportLabel, flag, opt, run } from "./prepare.mjs";

const PARTS = String(opt("--parts", "1,2,4")).split(",").map(Number);
const REPS = Number(opt("--reps", 5));
const USERS = Number(opt("--users", 3000));
const DAYS = Number(opt("--days", 365));
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const log = (...a) => console.error("split:", ...a);

if (!existsSync(join(BENCH, "node_modules", ".package-lock.json"))) run("npm", ["ci", "--prefix", BENCH, "--no-audit", "--no-fund"]);
if (!flag("--no-build")) run("cargo", ["xtask", "build"]);
const CSV = exportFile(USERS, DAYS, log);
const MB = statSync(CSV).size / 1e6;

const { startServer } = await import("./server.mjs");
const require = createRequire(join(BENCH, "package.json"));
const { chromium } = require("playwright-core");
const server = await startServer({ csvPath: CSV });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

/** One split read in the page (run there by page.evaluate): `parts` workers, the wall time of
 * their reading. */
const splitRead = async (parts) => {
  const bytes = new Uint8Array(await (await fetch("/data.csv", { cache: "no-store" })).arrayBuffer());
  const header = bytes.indexOf(10) + 1;
  const cuts = [header];
  for (let k = 1; k < parts; k++) {
    let at = Math.max(cuts[k - 1], header + Math.floor(((bytes.length - header) * k) / parts));
    while (at < bytes.length && bytes[at - 1] !== 10) at++;
    cuts.push(at);
  }
  cuts.push(bytes.length);
  const pieces = [];
  for (let k = 0; k < parts; k++) {
    const piece = new Uint8Array(header + cuts[k + 1] - cuts[k]);
    piece.set(bytes.subarray(0, header));
    piece.set(bytes.subarray(cuts[k], cuts[k + 1]), header);
    pieces.push(piece.buffer);
  }
  // Each worker's messages in order, each taken once.
  const workers = pieces.map(() => {
    const w = new Worker("/bench/split-worker.js");
    const inbox = [];
    const waiting = [];
    w.onmessage = ({ data }) => (waiting.length ? waiting.shift()(data) : inbox.push(data));
    w.next = () =>
      new Promise((ok) => (inbox.length ? ok(inbox.shift()) : waiting.push(ok))).then((data) => {
        if (data.error) throw new Error(data.error);
        return data;
      });
    return w;
  });
  try {
    await Promise.all(workers.map((w, k) => (w.postMessage({ part: pieces[k] }, [pieces[k]]), w.next())));
    const t0 = performance.now();
    const reads = await Promise.all(workers.map((w) => (w.postMessage({ go: true }), w.next())));
    const wall = performance.now() - t0;
    const finished = await Promise.all(workers.map((w) => w.next()));
    return { wall, reads: reads.map((r) => r.readMs), rows: finished.reduce((a, f) => a + f.rows, 0), finish: Math.max(...finished.map((f) => f.finishMs)) };
  } finally {
    for (const w of workers) w.terminate();
  }
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = Object.fromEntries(PARTS.map((n) => [n, []]));
const finishes = Object.fromEntries(PARTS.map((n) => [n, []]));
let rows = null;
let exitCode = 0;
try {
  const page = await browser.newPage();
  await page.route("**/*", (route) => (new URL(route.request().url()).hostname === "127.0.0.1" ? route.continue() : route.abort()));
  await page.goto(server.url + "/bench/index.html");
  // One warm-up round, then REPS rounds, the order of the part counts rotated every round.
  for (let round = 0; round <= REPS; round++) {
    const order = [...PARTS.slice(round % PARTS.length), ...PARTS.slice(0, round % PARTS.length)];
    for (const n of order) {
      const r = await page.evaluate(splitRead, n);
      rows ??= r.rows;
      if (r.rows !== rows) {
        log(`${n} parts read ${r.rows} rows, not ${rows}`);
        exitCode = 1;
      }
      log(`round ${round}, ${n} part(s): reading ${r.wall.toFixed(0)} ms (each part ${r.reads.map((x) => x.toFixed(0)).join(", ")}), finishing ${r.finish.toFixed(0)} ms`);
      if (round > 0) {
        times[n].push(r.wall);
        finishes[n].push(r.finish);
      }
    }
  }
} finally {
  await browser.close();
  server.close();
}

const one = median(times[PARTS[0]]);
const lines = [
  `Reading ${exportLabel(USERS, DAYS)} (${MB.toFixed(1)} MB, ${rows} rows) split across Web Workers in headless Chromium ${browser.version?.() ?? ""}; medians of ${REPS} rounds after a warm-up; load average at the end ${loadavg().map((x) => x.toFixed(1)).join(", ")} (${(await import("node:os")).cpus().length} cores).`,
  "",
  `| workers | reading, wall ms | MB/s | vs ${PARTS[0]} worker${PARTS[0] === 1 ? "" : "s"} | finishing the parts (table sealed, roll-ups), slowest ms |`,
  "|--:|--:|--:|--:|--:|",
  ...PARTS.map((n) => `| ${n} | ${median(times[n]).toFixed(0)} | ${(MB / (median(times[n]) / 1000)).toFixed(0)} | ${(one / median(times[n])).toFixed(2)}× | ${median(finishes[n]).toFixed(0)} |`),
];
console.log(lines.join("\n"));
process.exit(exitCode);
