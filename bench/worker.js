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

/** Days since 1970-01-01 of the YYYY-MM-DD at `p` in `b` (NaN if it is not one). */
function dayAt(b, p) {
  let y = 0;
  for (let k = 0; k < 4; k++) y = y * 10 + (b[p + k] - 48);
  const m = (b[p + 5] - 48) * 10 + (b[p + 6] - 48);
  const d = (b[p + 8] - 48) * 10 + (b[p + 9] - 48);
  if (b[p + 4] !== 45 || b[p + 7] !== 45) return NaN;
  return Date.UTC(y, m - 1, d) / 86400000;
}

/** A non-negative decimal from b[p..e) ("", digits, digits.digits); NaN when it is not one. */
function numAt(b, p, e) {
  let n = 0;
  let i = p;
  for (; i < e; i++) {
    const c = b[i] - 48;
    if (c < 0 || c > 9) break;
    n = n * 10 + c;
  }
  if (i === e) return n;
  if (b[i] !== 46) return NaN;
  let scale = 1;
  for (i++; i < e; i++) {
    const c = b[i] - 48;
    if (c < 0 || c > 9) return NaN;
    n = n * 10 + c;
    scale *= 10;
  }
  return n / scale;
}

/** Whether b[p..e) equals the bytes of the same length at q. */
function sameBytes(b, p, e, q, qe) {
  if (e - p !== qe - q) return false;
  for (let k = 0; k < e - p; k++) if (b[p + k] !== b[q + k]) return false;
  return true;
}

/** The hand-written, quote-ignoring loop over the bytes (see tools["js-fast"]). */
function fastLoop(b) {
  const len = b.length;
  let lineEnd = b.indexOf(10);
  if (lineEnd < 0) lineEnd = len;
  const headEnd = lineEnd > 0 && b[lineEnd - 1] === 13 ? lineEnd - 1 : lineEnd;
  const header = new TextDecoder().decode(b.subarray(0, headEnd)).split(",");
  const probe = new Agg(header); // column positions, matched as the other tools match them
  const width = header.length;
  // Which field index plays which part: 0 none, 1 user, 2 active, 3 date, 4 chat, 5 sugg, 6 acc.
  const role = new Uint8Array(width);
  role[probe.iUser] = 1;
  role[probe.iActive] = 2;
  role[probe.iDate] = 3;
  role[probe.iChat] = 4;
  role[probe.iSugg] = 5;
  role[probe.iAcc] = 6;

  const userIds = new Map(); // user text → dense id
  const monthSlots = new Map(); // month number (y * 12 + m) → index into the arrays below
  const monthKeys = [];
  const monthUsers = []; // per month: a Uint8Array bitmap over user ids, grown as needed
  const monthCounts = [];
  const sums = []; // per month: [chat, sugg, acc]
  const activeDays = new Map(); // day → bitmap over users
  const activeCounts = new Map();
  let minDay = Infinity;
  let maxDay = -Infinity;
  // Last values, to skip work on the many rows that repeat them.
  let prevUserStart = -1;
  let prevUserEnd = -1;
  let user = -1;
  let prevDateStart = -1;
  let day = NaN;
  let month = -1;
  let slot = -1;
  let rows = 0;

  const markBit = (bits, u) => {
    const byte = u >> 3;
    const mask = 1 << (u & 7);
    if (bits[0].length <= byte) {
      const grown = new Uint8Array(Math.max(byte + 1, bits[0].length * 2));
      grown.set(bits[0]);
      bits[0] = grown;
    }
    if (bits[0][byte] & mask) return 0;
    bits[0][byte] |= mask;
    return 1;
  };

  let pos = lineEnd + 1;
  while (pos < len) {
    let end = b.indexOf(10, pos);
    if (end < 0) end = len;
    let rowEnd = end > pos && b[end - 1] === 13 ? end - 1 : end;
    if (rowEnd === pos) {
      pos = end + 1;
      continue;
    }
    // Walk the fields; only the needed ones are looked at, the rest skipped with indexOf.
    let f = 0;
    let p = pos;
    let uS = 0, uE = 0, aS = 0, aE = 0, dS = 0, chat = 0, sugg = 0, acc = 0;
    for (;;) {
      let e = b.indexOf(44, p);
      if (e < 0 || e > rowEnd) e = rowEnd;
      if (f < width) {
        switch (role[f]) {
          case 1: uS = p; uE = e; break;
          case 2: aS = p; aE = e; break;
          case 3: dS = p; break;
          case 4: chat = numAt(b, p, e); break;
          case 5: sugg = numAt(b, p, e); break;
          case 6: acc = numAt(b, p, e); break;
        }
      }
      f++;
      if (e === rowEnd) break;
      p = e + 1;
    }
    pos = end + 1;
    if (f !== width) continue; // what sg-analytics skips too
    rows++;
    if (!sameBytes(b, uS, uE, prevUserStart, prevUserEnd)) {
      const text = new TextDecoder().decode(b.subarray(uS, uE));
      let id = userIds.get(text);
      if (id === undefined) {
        id = userIds.size;
        userIds.set(text, id);
      }
      user = id;
      prevUserStart = uS;
      prevUserEnd = uE;
    }
    if (prevDateStart < 0 || !sameBytes(b, dS, dS + 10, prevDateStart, prevDateStart + 10)) {
      day = dayAt(b, dS);
      prevDateStart = dS;
      const m = ((b[dS] - 48) * 1000 + (b[dS + 1] - 48) * 100 + (b[dS + 2] - 48) * 10 + (b[dS + 3] - 48)) * 12 + (b[dS + 5] - 48) * 10 + (b[dS + 6] - 48);
      if (m !== month) {
        month = m;
        slot = monthSlots.get(m);
        if (slot === undefined) {
          slot = monthKeys.length;
          monthSlots.set(m, slot);
          monthKeys.push(new TextDecoder().decode(b.subarray(dS, dS + 7)));
          monthUsers.push([new Uint8Array(1024)]);
          monthCounts.push(0);
          sums.push([0, 0, 0]);
        }
      }
      if (day < minDay) minDay = day;
      if (day > maxDay) maxDay = day;
    }
    monthCounts[slot] += markBit(monthUsers[slot], user);
    const s = sums[slot];
    if (chat === chat) s[0] += chat;
    if (sugg === sugg) s[1] += sugg;
    if (acc === acc) s[2] += acc;
    // Active: "true" fast, else the same truthy words as the others.
    let active = aE - aS === 4 && b[aS] === 116 && b[aS + 1] === 114 && b[aS + 2] === 117 && b[aS + 3] === 101;
    if (!active && !(aE - aS === 5 && b[aS] === 102)) {
      active = TRUTHY.has(new TextDecoder().decode(b.subarray(aS, aE)).trim().toLowerCase());
    }
    if (active) {
      let bits = activeDays.get(day);
      if (bits === undefined) {
        bits = [new Uint8Array(1024)];
        activeDays.set(day, bits);
        activeCounts.set(day, 0);
      }
      if (markBit(bits, user)) activeCounts.set(day, activeCounts.get(day) + 1);
    }
  }
  const order = monthKeys.map((k, i) => [k, i]).sort((x, y) => (x[0] < y[0] ? -1 : 1));
  const months = order.map(([key, i]) => ({
    month: key,
    users: monthCounts[i],
    chat: sums[i][0],
    sugg: sums[i][1],
    acc: sums[i][2],
    car: sums[i][1] ? sums[i][2] / sums[i][1] : null,
  }));
  let active = 0;
  for (const n of activeCounts.values()) active += n;
  const span = maxDay - minDay + 1;
  return { rows, summary: { months, users: userIds.size, avgDau: rows ? active / span : null } };
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

  // The transport alone: the same streamed request as sg-fetch, every chunk read and dropped, no
  // parsing. The floor under any tool's fetch-stream figure on this machine.
  async "fetch-only"({ origin }) {
    collect?.();
    const t0 = performance.now();
    const res = await fetch(`${origin}/api/reports/by-user-client-date?instanceURL=bench.example.com`, {
      headers: { authorization: "Bearer bench-token" },
      cache: "no-store",
    });
    const reader = res.body.getReader();
    let bytes = 0;
    let chunks = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
      chunks++;
    }
    return { ms: performance.now() - t0, bytes, chunks };
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

  // Papa Parse at its fastest: arrays, no dynamic typing, fastMode (no quote handling: the export
  // has none), the delimiter and line break given (no guessing), 1 MiB chunks of the decoded string
  // (rows dropped per chunk).
  async papa({ csvUrl }) {
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
        fastMode: true,
        delimiter: ",",
        newline: "\n",
        chunkSize: CHUNK,
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

  // Papa Parse, weaker: the whole string at once, its defaults (delimiter and line break guessed,
  // fastMode decided by itself). Kept as a labelled extra row.
  async "papa-defaults"({ csvUrl }) {
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

  // The quote-ignoring JS loop written as well as we can: over the bytes (no decoding), indexOf to
  // skip the fields it does not read, numbers parsed inline from the bytes, users interned only
  // when the user changes (the export is sorted by user), dates parsed only when they change, no
  // per-row allocation.
  async "js-fast"({ csvUrl }) {
    const bytes = await readBytes(csvUrl);
    collect?.();
    const t0 = performance.now();
    const out = fastLoop(bytes);
    return { ms: performance.now() - t0, summary: out.summary, rows: out.rows };
  },

  // A naive loop, weaker: decode, slice each line, split(",") into an array per row, the shared JS
  // aggregation. Kept as a labelled extra row.
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
