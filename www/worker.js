// The analytics worker: loads the WebAssembly module, ingests an export (from the API or from a
// File) off the main thread, keeps the one Report, and answers queries by message.
//
// Messages in:  {id, type: "init"|"planFetch"|"fetchReport"|"openFile"|"joinAttributes"|"adoption", ...}
//               {id, type: "call", method, args}: a method of the Report, one of the names the
//                 init message listed (the client's www/calls.js); any other name is refused
//               {type: "cancel", target: id}
// Messages out: {id, progress: {bytes, rows, total?}} while loading, then {id, ok, result|error},
//               or {id, ok, json} for an answer sent as JSON text (the client parses it).
// The token arrives inside one fetchReport message, is handed to the module's fetchDashboard, and
// is not kept.
//
// A call that ends in a WebAssembly trap (an allocation that failed, or a bug) leaves the module
// unusable: every request in flight and every later one then fails with a coded error
// (`out_of_memory`, else `module_failed`) marked `reportLost`, and the page's client replaces
// this worker with a fresh one (which gives the memory back). No internal message of the
// module's glue ever reaches the page.

let api = null;
let report = null;
/** The Report's methods a `call` message may name (the init message's `calls`). */
let calls = new Set();
const controllers = new Map();
/** The requests being answered: id → their reply, for a trap that ends them all. */
const inflight = new Map();
/** The coded error every request gets once the module has trapped. */
let broken = null;

/** Whether an error is the module trapping (not an error it threw). */
function isTrap(error) {
  return typeof WebAssembly !== "undefined" && error instanceof WebAssembly.RuntimeError;
}

/** The coded error for a module that trapped: out of memory when an allocation failed. */
function moduleBroken() {
  let outOfMemory = false;
  try {
    outOfMemory = Boolean(api?.allocationFailed?.());
  } catch {
    // The module cannot even say: call it a failure.
  }
  return outOfMemory
    ? {
        name: "Error",
        code: "out_of_memory",
        reportLost: true,
        message:
          "The page ran out of memory: this export is too large to open in a browser tab. Nothing was kept, and the dashboard has been reset. Ways out: a coarser granularity, a shorter date range, or the command-line tool (`sg-analytics summarize export.csv --by month`).",
      }
    : {
        name: "Error",
        code: "module_failed",
        reportLost: true,
        message: "The analytics module failed (a bug in it, not in your data's size). Nothing was kept, and the dashboard has been reset: load the export again.",
      };
}

/** After a trap: every request in flight fails with the coded error, and so will every later one. */
function breakDown() {
  broken ??= moduleBroken();
  report = null;
  for (const reply of inflight.values()) reply({ ok: false, error: broken });
  inflight.clear();
}

// A trap inside an asynchronous part of the module (a fetch's body being read) surfaces here.
self.addEventListener("unhandledrejection", (event) => {
  if (!isTrap(event.reason)) return;
  event.preventDefault();
  breakDown();
});
self.addEventListener("error", (event) => {
  if (!isTrap(event.error)) return;
  event.preventDefault();
  breakDown();
});

/**
 * An answer that crosses to the page as JSON text, which the client parses: one string to copy
 * instead of an object graph (the module builds it property by property, and the thread boundary
 * copies it again). A view change's summaries go this way.
 */
class JsonText {
  constructor(text) {
    this.text = text;
  }
}

/** The calls the module also answers as JSON text, and the method that does. */
const AS_JSON = Object.freeze({ summarizeMany: "summarizeManyJson" });

const PROGRESS_INTERVAL_MS = 100;

function throttled(post) {
  let last = 0;
  return (progress, force = false) => {
    const now = performance.now();
    if (!force && now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    post(progress);
  };
}

/** Options without the keys that are undefined, so the module sees "absent", not `undefined`. */
function defined(options) {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined && value !== ""));
}

function abortError() {
  return new DOMException("Cancelled.", "AbortError");
}

function describe(extra = {}) {
  return { info: report.info(), ...extra };
}

function keep(next) {
  if (report && report !== next) report.free?.();
  report = next;
}

function needReport() {
  if (!report) throw Object.assign(new Error("No export is loaded yet: fetch one or open a file first."), { code: "not_loaded" });
  return report;
}

/** The buffer a file is read into, handed back and forth (see fileReader). */
const READ_BUFFER = 1 << 20;

/**
 * Reads a file's stream: as a byte stream into one buffer of ours that each read hands back (no
 * new buffer per chunk for the browser to allocate and collect), else with the default reader.
 */
function fileReader(file) {
  const stream = file.stream();
  try {
    const reader = stream.getReader({ mode: "byob" });
    let buffer = new ArrayBuffer(READ_BUFFER);
    const read = async () => {
      const result = await reader.read(new Uint8Array(buffer));
      if (!result.done) buffer = result.value.buffer;
      return result;
    };
    return { reader, read };
  } catch {
    // Not a byte stream here.
    const reader = stream.getReader();
    return { reader, read: () => reader.read() };
  }
}

const handlers = {
  // The client names both files: a bundler may have emitted them under names of its own.
  async init({ moduleUrl, wasmUrl, calls: names }) {
    calls = new Set(names ?? []);
    const url = new URL(moduleUrl);
    let module;
    try {
      module = await import(/* webpackIgnore: true */ /* @vite-ignore */ url.href);
      await module.default({ module_or_path: new URL(wasmUrl ?? "sg_analytics_bg.wasm", url) });
    } catch (error) {
      const failure = new Error(`The WebAssembly module could not be loaded from ${url.pathname} (${error?.message ?? error}).`);
      failure.name = "WorkerError";
      failure.code = "worker";
      throw failure;
    }
    api = module;
    // While the page waits for the user to open an export: see warmUp in the module. After this
    // answer, so that the page hears the worker is ready first.
    setTimeout(() => {
      try {
        api.warmUp?.();
      } catch {
        // Only a head start; the export is read the same without it.
      }
    }, 0);
    // The rules the page shows before any export is open, from the module.
    return { ready: true, granularities: api.granularities?.() ?? [] };
  },

  async fetchReport({ id, options }, progress) {
    const controller = new AbortController();
    controllers.set(id, controller);
    try {
      // The module's one sequence: the export, then the registry (joined) and the credits, whose
      // failing does not fail the dashboard.
      const { report: next, registry, credits } = await api.fetchDashboard({
        ...defined(options),
        signal: controller.signal,
        onProgress: (p) => progress(p),
      });
      if (controller.signal.aborted) {
        next.free?.();
        throw abortError();
      }
      keep(next);
      return describe({ registry, credits });
    } finally {
      controllers.delete(id);
    }
  },

  async openFile({ id, file }, progress) {
    const controller = new AbortController();
    controllers.set(id, controller);
    const builder = new api.ReportBuilder();
    // The file's size lets the report reserve its room once instead of growing by doubling.
    builder.expectBytes?.(file.size);
    let bytes = 0;
    let finishing = false;
    try {
      const { reader, read } = fileReader(file);
      for (;;) {
        if (controller.signal.aborted) {
          await reader.cancel();
          throw abortError();
        }
        const { done, value } = await read();
        if (done) break;
        builder.push(value);
        bytes += value.byteLength;
        progress({ bytes, rows: builder.rows ?? 0, total: file.size });
      }
      progress({ bytes, rows: builder.rows ?? 0, total: file.size }, true);
      finishing = true; // finish() takes the builder over, even when it fails
      keep(builder.finish());
      return describe({ registry: { loaded: false, error: null } });
    } catch (error) {
      try {
        if (!finishing) builder.free?.();
      } catch {
        // A module that trapped cannot free; the worker is replaced anyway.
      }
      throw error;
    } finally {
      controllers.delete(id);
    }
  },

  // The token is not needed to plan; the options object may carry it, and it is dropped below.
  planFetch: ({ options }) => api.planFetch(defined({ ...options, token: undefined })),
  // A method of the Report by name, with the arguments as they came.
  call: ({ method, args }) => {
    if (!calls.has(method)) throw Object.assign(new Error(`${JSON.stringify(method)} is not a call the worker answers.`), { code: "invalid_argument" });
    const r = needReport();
    const list = Array.isArray(args) ? args : [];
    const json = AS_JSON[method];
    // A module without the JSON form (an older one a portal still hosts) answers as objects.
    return json && typeof r[json] === "function" ? new JsonText(r[json](...list)) : r[method](...list);
  },
  // A people file the user picked: read here, joined, never sent anywhere.
  joinAttributes: async ({ file }) => {
    const join = needReport().joinAttributes(new Uint8Array(await file.arrayBuffer()));
    return { join, info: report.info() };
  },
  // The Adoption view's answers in one round trip: only the parts asked for are computed.
  adoption: ({ asks }) => {
    const r = needReport();
    const result = {};
    if (asks?.growth) result.growth = r.growth(asks.growth);
    if (asks?.retention) result.retention = r.retention(asks.retention);
    if (asks?.inactive) result.inactive = r.inactiveUsers(asks.inactive);
    // These need days: where the export has none, the module's message takes the answer's place.
    const orProblem = (answer) => {
      try {
        return answer();
      } catch (error) {
        if (error?.code === "invalid_query") return { problem: String(error.message) };
        throw error;
      }
    };
    if (asks?.stickiness) result.stickiness = orProblem(() => r.stickiness(asks.stickiness));
    if (asks?.features) result.features = orProblem(() => r.features(asks.features));
    return result;
  },
};

let ready = null;

self.addEventListener("message", async (event) => {
  const message = event.data ?? {};
  if (message.type === "cancel") {
    controllers.get(message.target)?.abort();
    return;
  }
  const { id, type } = message;
  let replied = false;
  const reply = (data) => {
    if (replied) return;
    if (data.ok !== undefined) replied = true;
    self.postMessage({ id, ...data });
  };
  inflight.set(id, reply);
  try {
    if (broken) throw broken;
    const handler = handlers[type];
    if (!handler) throw new Error(`Unknown request ${JSON.stringify(type)}.`);
    if (type === "init") ready = handler(message);
    else if (!ready) throw new Error("The worker was not initialised.");
    await ready;
    const result = type === "init" ? await ready : await handler(message, throttled((progress) => reply({ progress })));
    reply(result instanceof JsonText ? { ok: true, json: result.text } : { ok: true, result });
  } catch (error) {
    if (isTrap(error)) breakDown();
    if (broken) reply({ ok: false, error: broken });
    else reply({ ok: false, error: { name: error?.name ?? "Error", message: String(error?.message ?? error), status: error?.status, code: error?.code, field: error?.field } });
  } finally {
    inflight.delete(id);
    // Drop the one reference to the secret this message carried.
    if (message.options) message.options.token = undefined;
  }
});
