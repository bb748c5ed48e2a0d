// One part of a split read (bench/split.mjs), in its own classic Web Worker with its own module
// instance. Message 1: { part } (an ArrayBuffer: the header and whole lines), answered with
// { ready } once the module is instantiated and the part is held. Message 2: { go }, answered
// with { rows, readMs } once every chunk is pushed (the reading: split into records and cells,
// stored in the worker's table), then { finishMs } once the report is finished (the table sealed
// and its roll-ups built, which a merged table would do once, not per part).
"use strict";

const CHUNK = 1 << 20;
let mod = null;
let bytes = null;

self.onmessage = async ({ data }) => {
  try {
    if (data.part) {
      mod = await import(`/pkg/sg_analytics.js?split=${Date.now()}-${Math.random()}`);
      await mod.default({ module_or_path: "/pkg/sg_analytics_bg.wasm" });
      bytes = new Uint8Array(data.part);
      self.postMessage({ ready: true });
      return;
    }
    const t0 = performance.now();
    const builder = new mod.ReportBuilder();
    builder.expectBytes(bytes.length);
    for (let i = 0; i < bytes.length; i += CHUNK) builder.push(bytes.subarray(i, i + CHUNK));
    const readMs = performance.now() - t0;
    self.postMessage({ readMs });
    const t1 = performance.now();
    const report = builder.finish();
    self.postMessage({ rows: report.rows, finishMs: performance.now() - t1 });
  } catch (e) {
    self.postMessage({ error: String(e && e.stack ? e.stack : e) });
  }
};
