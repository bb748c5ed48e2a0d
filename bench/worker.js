// One benchmark run in a fresh (classic) Web Worker: the page starts a worker per run and
// terminates it afterwards, so that every run starts from an empty heap and a fresh wasm instance
// (wasm linear memory never shrinks, and an ES module, with its instance, is never unloaded).
//
// Message in:  { tool, csvUrl, origin }
// Message out: { ms, summary, readyMs?, wasmBytes?, queries? } or { error }
//
// Only the work itself is timed: for the in-memory tools the CSV is first read into an
// ArrayBuffer (untimed), then each tool turns those bytes into the summary.
/* global Papa */
"use strict";

const COL = {
  user: "Instance user ID",
  active: "Active Sourcegraph User",
  date: "Timestamp Date",
  chat: "Chat Events",
  sugg: "Combined Completion Suggestions",
  acc: "Combined Completion Acceptances",
};
const TRUTHY = new Set(["true", "yes", "y", "t", "1"]);
const CHUNK = 1 << 20; // ReportBuilder.push chunk size

/** The summary every tool must agree on, from plain JS (Papa Parse, naive loop). */
class Agg {
  constructor(header) {
    const names = header.map((h) => h.replace(/^\uFEFF/, "").trim().replace(/\s+/g, " ").toLowerCase());
    const at = (name) => {
      const i = names.indexOf(name.toLowerCase());
      if (i < 0) throw new Error(`column ${name} missing`);
      return i;
    };
    this.iUser = at(COL.user);
    this.iActive = at(COL.active);
    this.iDate = at(COL.date);
    this.iChat = at(COL.chat);
    this.iSugg = at(COL.sugg);
    this.iAcc = at(COL.acc);
    this.width = header.length;
    this.months = new Map();
    this.users = new Set();
    this.days = new Map();
    this.minDate = null;
    this.maxDate = null;
  }
  row(f) {
    if (f.length !== this.width) return; // what sg-analytics skips too
    const user = f[this.iUser];
    const date = f[this.iDate];
    const monthKey = date.slice(0, 7);
    let m = this.months.get(monthKey);
    if (m === undefined) {
      m = { users: new Set(), chat: 0, sugg: 0, acc: 0 };
      this.months.set(monthKey, m);
    }
    m.users.add(user);
    const chat = +f[this.iChat];
    const sugg = +f[this.iSugg];
    const acc = +f[this.iAcc];
    if (chat === chat) m.chat += chat;
    if (sugg === sugg) m.sugg += sugg;
    if (acc === acc) m.acc += acc;
    this.users.add(user);
    if (this.minDate === null || date < this.minDate) this.minDate = date;
    if (this.maxDate === null || date > this.maxDate) this.maxDate = date;
    const a = f[this.iActive];
    if (a === "true" || (a !== "false" && TRUTHY.has(a.trim().toLowerCase()))) {
      let d = this.days.get(date);
      if (d === undefined) {
        d = new Set();
        this.days.set(date, d);
      }
      d.add(user);
    }
  }
  result() {
    const months = [...this.months.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([month, m]) => ({
        month,
        users: m.users.size,
        chat: m.chat,
        sugg: m.sugg,
        acc: m.acc,
        car: m.sugg ? m.acc / m.sugg : null,
      }));
    let active = 0;
    for (const d of this.days.values()) active += d.size;
    const span = (Date.parse(this.maxDate) - Date.parse(this.minDate)) / 86400000 + 1;
    return { months, users: this.users.size, avgDau: this.minDate ? active / span : null };
  }
}

/** sg-analytics' summary in the same shape. */
function fromSg(s) {
  const months = s.groups
    .map((g) => ({
      month: g.key.month,
      users: g.users,
      chat: g[COL.chat] ?? 0,
      sugg: g[COL.sugg] ?? 0,
      acc: g[COL.acc] ?? 0,
      car: g["Combined CAR"] ?? null,
    }))
    .sort((a, b) => (a.month < b.month ? -1 : 1));
  return { months, users: s.totals.users, avgDau: s.totals.avgDau };
}

let sgInstance = 0;
async function loadSg() {
  const t0 = performance.now();
  // A fresh module record per worker anyway; the query string only defeats any cache of ours.
  const mod = await import(`/pkg/sg_analytics.js?w=${Date.now()}-${sgInstance++}`);
  const wasm = await mod.default({ module_or_path: "/pkg/sg_analytics_bg.wasm" });
  return { mod, wasm, readyMs: performance.now() - t0 };
}

async function readBytes(url) {
  const res = await fetch(url, { cache: "no-store" });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

const QUERIES = [
  ["groupBy client", { groupBy: ["client"] }],
  ["groupBy week, filter client", { groupBy: ["week"], filter: { clients: ["vscode.cody"] } }],
  ["top 10 users by hoursSaved", { groupBy: ["user"], sort: { by: "hoursSaved", desc: true }, limit: 10 }],
  ["month x language, from + activeOnly", { groupBy: ["month", "language"], filter: { from: "2025-06-01", activeOnly: true } }],
  ["totals only, filter languages", { filter: { languages: ["go", "rust"] } }],
];

const tools = {
  // sg-analytics, streamed from a fetch Response (the Analytics API path, served locally).
  async "sg-fetch"({ origin }) {
    const { mod, wasm, readyMs } = await loadSg();
    collect?.();
    const t0 = performance.now();
    const report = await mod.fetchReport({
      instanceUrl: "bench.example.com",
      token: "bench-token",
      baseUrl: origin,
      granularity: "by_user_day_client_language",
      maxRetries: 0,
    });
    const s = report.summarize({ groupBy: ["month"] });
    const ms = performance.now() - t0;
    return { ms, readyMs, wasmBytes: wasm.memory.buffer.byteLength, summary: fromSg(s), rows: report.rows };
  },

  // sg-analytics from an in-memory buffer, pushed in 1 MiB chunks (subarrays, no JS copy).
  async "sg-builder"({ csvUrl }) {
    const { mod, wasm, readyMs } = await loadSg();
    const bytes = await readBytes(csvUrl);
    collect?.();
    const t0 = performance.now();
    const b = new mod.ReportBuilder();
    b.expectBytes(bytes.length); // the buffer's size is known: the report reserves its room once
    for (let i = 0; i < bytes.length; i += CHUNK) b.push(bytes.subarray(i, i + CHUNK));
    const report = b.finish();
    const s = report.summarize({ groupBy: ["month"] });
    const ms = performance.now() - t0;
    return { ms, readyMs, wasmBytes: wasm.memory.buffer.byteLength, summary: fromSg(s), rows: report.rows };
  },

  // sg-analytics from an in-memory buffer in one call (copies the whole buffer into wasm memory).
  async "sg-fromCsv"({ csvUrl }) {
    const { mod, wasm, readyMs } = await loadSg();
    const bytes = await readBytes(csvUrl);
    collect?.();
    const t0 = performance.now();
    const report = mod.Report.fromCsv(bytes);
    const s = report.summarize({ groupBy: ["month"] });
    const ms = performance.now() - t0;
    return { ms, readyMs, wasmBytes: wasm.memory.buffer.byteLength, summary: fromSg(s), rows: report.rows };
  },

  // Papa Parse, whole string at once: arrays (no header objects), no dynamic typing, fastMode
  // (Papa turns it on by itself: the input has no quote character).
  async papa({ csvUrl }) {
    const bytes = await readBytes(csvUrl);
    collect?.();
    const t0 = performance.now();
    const text = new TextDecoder().decode(bytes);
    const { data } = Papa.parse(text, { header: false, dynamicTyping: false, skipEmptyLines: true });
    const agg = new Agg(data[0]);
    for (let i = 1; i < data.length; i++) agg.row(data[i]);
    const summary = agg.result();
    return { ms: performance.now() - t0, summary, rows: data.length - 1 };
  },

  // Papa Parse, same settings, in 4 MiB string chunks (bounded memory: rows are dropped per chunk).
  async "papa-chunk"({ csvUrl }) {
    const bytes = await readBytes(csvUrl);
    collect?.();
    const t0 = performance.now();
    const text = new TextDecoder().decode(bytes);
    let agg = null;
    let rows = 0;
    await new Promise((ok, fail) => {
      Papa.parse(text, {
        header: false,
        dynamicTyping: false,
        skipEmptyLines: true,
        chunkSize: 4 << 20,
        chunk(res) {
          let i = 0;
          if (agg === null) agg = new Agg(res.data[i++]);
          for (; i < res.data.length; i++) agg.row(res.data[i]);
          rows += res.data.length;
        },
        complete: ok,
        error: fail,
      });
    });
    const summary = agg.result();
    return { ms: performance.now() - t0, summary, rows: rows - 1 };
  },

  // A naive hand-written loop: decode, find newlines, split on commas, ignore quoting.
  async naive({ csvUrl }) {
    const bytes = await readBytes(csvUrl);
    collect?.();
    const t0 = performance.now();
    const text = new TextDecoder().decode(bytes);
    let pos = text.indexOf("\n");
    const agg = new Agg(text.slice(0, pos).replace(/\r$/, "").split(","));
    pos++;
    let rows = 0;
    while (pos < text.length) {
      let end = text.indexOf("\n", pos);
      if (end < 0) end = text.length;
      if (end > pos) {
        agg.row(text.slice(pos, end).split(","));
        rows++;
      }
      pos = end + 1;
    }
    return { ms: performance.now() - t0, summary: agg.result(), rows };
  },

  // Re-querying a report already built: each query `reps` times; medians in ms.
  async "sg-requery"({ csvUrl, reps = 7 }) {
    const { mod, wasm } = await loadSg();
    const bytes = await readBytes(csvUrl);
    const b = new mod.ReportBuilder();
    for (let i = 0; i < bytes.length; i += CHUNK) b.push(bytes.subarray(i, i + CHUNK));
    const report = b.finish();
    const queries = [];
    for (const [name, q] of QUERIES) {
      const times = [];
      let groups = 0;
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        const s = report.summarize(q);
        times.push(performance.now() - t0);
        groups = s.groups.length;
      }
      queries.push({ name, times, groups });
    }
    return { rows: report.rows, queries, wasmBytes: wasm.memory.buffer.byteLength };
  },

  // Only import + init of the module (a fresh worker: a new module record and instance).
  async "sg-ready"() {
    const { readyMs } = await loadSg();
    return { readyMs };
  },
};

const collect = self.gc;

self.onmessage = async ({ data }) => {
  try {
    if (data.tool.startsWith("papa")) importScripts("/node_modules/papaparse/papaparse.min.js");
    const out = await tools[data.tool](data);
    self.postMessage(out);
  } catch (e) {
    self.postMessage({ error: String(e && e.stack ? e.stack : e) });
  }
};
