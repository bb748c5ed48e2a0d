// The benchmark page: `window.bench.run(tool)` runs one timed repetition of one tool and resolves
// to its figures and its summary. bench/run.mjs drives it (round-robin over the tools).
//
// Every tool but DuckDB-wasm runs in a fresh Web Worker (bench/worker.js) per repetition.
// DuckDB-wasm always runs in its own worker: a fresh AsyncDuckDB (worker + eh bundle, selected by
// hand, no CDN) per repetition, driven from here.
import * as duckdb from "/node_modules/@duckdb/duckdb-wasm/dist/duckdb-browser.mjs";

const CSV_URL = "/data.csv";
const DUCK_WASM = "/node_modules/@duckdb/duckdb-wasm/dist/duckdb-eh.wasm";
const DUCK_WORKER = "/node_modules/@duckdb/duckdb-wasm/dist/duckdb-browser-eh.worker.js";

function inWorker(tool, extra = {}) {
  return new Promise((ok, fail) => {
    const w = new Worker("/bench/worker.js");
    w.onmessage = ({ data }) => {
      w.terminate();
      data.error ? fail(new Error(`${tool}: ${data.error}`)) : ok(data);
    };
    w.onerror = (e) => {
      w.terminate();
      fail(new Error(`${tool}: ${e.message}`));
    };
    w.postMessage({ tool, csvUrl: CSV_URL, origin: location.origin, ...extra });
  });
}

/** DuckDB column types for the export's header (typed read_csv: no sniffing). */
function duckType(name) {
  const n = name.toLowerCase();
  if (["instance user id", "user email", "username", "client name", "language"].includes(n)) return "VARCHAR";
  if (n === "active sourcegraph user") return "BOOLEAN";
  if (n === "timestamp date") return "DATE";
  if (/car|rate|percent|%/.test(n)) return "DOUBLE";
  return "BIGINT";
}
const q = (s) => `'${s.replaceAll("'", "''")}'`;
const id = (s) => `"${s.replaceAll('"', '""')}"`;

const U = id("Instance user ID");
const D = id("Timestamp Date");
const SQL_MONTHS = `
  SELECT strftime(${D}, '%Y-%m') AS month,
         count(DISTINCT ${U})::DOUBLE AS users,
         coalesce(sum("Chat Events"), 0)::DOUBLE AS chat,
         coalesce(sum("Combined Completion Suggestions"), 0)::DOUBLE AS sugg,
         coalesce(sum("Combined Completion Acceptances"), 0)::DOUBLE AS acc
  FROM t GROUP BY ALL ORDER BY month`;
const SQL_TOTALS = `
  SELECT (SELECT count(DISTINCT ${U}) FROM t)::DOUBLE AS users,
         (SELECT coalesce(sum(n), 0) FROM
            (SELECT count(DISTINCT ${U}) AS n FROM t WHERE "Active Sourcegraph User" GROUP BY ${D}))::DOUBLE
         / (SELECT date_diff('day', min(${D}), max(${D})) + 1 FROM t) AS avgDau`;
const SQL_REQUERY = `
  SELECT "Client Name", count(DISTINCT ${U}) AS users, sum("Chat Events") AS chat,
         sum("Combined Completion Acceptances") / sum("Combined Completion Suggestions") AS car
  FROM t GROUP BY ALL`;

async function duckRun() {
  const r0 = performance.now();
  const worker = new Worker(DUCK_WORKER);
  const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker);
  await db.instantiate(DUCK_WASM);
  const conn = await db.connect();
  const readyMs = performance.now() - r0;
  try {
    const bytes = new Uint8Array(await (await fetch(CSV_URL, { cache: "no-store" })).arrayBuffer());
    const nl = bytes.indexOf(10);
    const header = new TextDecoder().decode(bytes.subarray(0, nl)).replace(/\r$/, "").split(",");
    const columns = `{${header.map((h) => `${q(h)}: ${q(duckType(h))}`).join(", ")}}`;
    globalThis.gc?.();
    const t0 = performance.now();
    // The buffer is transferred to DuckDB's worker (no copy on this side).
    await db.registerFileBuffer("bench.csv", bytes);
    await conn.query(
      `CREATE TABLE t AS SELECT * FROM read_csv('bench.csv', header = true, auto_detect = false,
         delim = ',', quote = '"', escape = '"', columns = ${columns})`,
    );
    const months = (await conn.query(SQL_MONTHS)).toArray().map((r) => r.toJSON());
    const [tot] = (await conn.query(SQL_TOTALS)).toArray().map((r) => r.toJSON());
    const ms = performance.now() - t0;
    const rq = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await conn.query(SQL_REQUERY);
      rq.push(performance.now() - t);
    }
    const rows = Number((await conn.query("SELECT count(*)::DOUBLE AS n FROM t")).toArray()[0].toJSON().n);
    const summary = {
      months: months.map((m) => ({
        month: m.month,
        users: m.users,
        chat: m.chat,
        sugg: m.sugg,
        acc: m.acc,
        car: m.sugg ? m.acc / m.sugg : null,
      })),
      users: tot.users,
      avgDau: tot.avgDau,
    };
    return { ms, readyMs, summary, rows, requeryMs: rq };
  } finally {
    await conn.close();
    await db.terminate();
    worker.terminate();
  }
}

window.bench = {
  async run(tool, extra) {
    return tool === "duckdb" ? duckRun() : inWorker(tool, extra);
  },
};
window.benchReady = true;
