// The analytics worker: loads the WebAssembly module, ingests an export (from the API or from a
// File) off the main thread, keeps the one Report, and answers queries by message.
//
// Messages in:  {id, type: "init"|"planFetch"|"fetchReport"|"openFile"|"summarize"|"summarizeMany"|
//                "toCsv"|"toJson"|"filteredCsv"|"growth"|"retention"|"growthCsv"|"retentionCsv"|
//                "inactiveUsers"|"inactiveUsersCsv"|"adoption", ...}
//               {type: "cancel", target: id}
// Messages out: {id, progress: {bytes, rows, total?}} while loading, then {id, ok, result|error}.
// The token arrives inside one fetchReport message, is handed to fetchReport, and is not kept.

let api = null;
let report = null;
const controllers = new Map();

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
  async init({ moduleUrl, wasmUrl }) {
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
    return { ready: true };
  },

  async fetchReport({ id, options }, progress) {
    const { token, withRegistry = true, withCredits = true, ...rest } = options;
    const controller = new AbortController();
    controllers.set(id, controller);
    try {
      const next = await api.fetchReport({
        ...defined(rest),
        token,
        signal: controller.signal,
        onProgress: (p) => progress(p),
      });
      // The registry and the credits, side by side once the export is in (after it, so that the
      // export's own retries come first): neither failing fails the dashboard. The credits are
      // retried once at most, so a failing endpoint does not hold the dashboard up.
      const registry = { loaded: false, error: null };
      const registryDone = (async () => {
        if (!withRegistry || typeof api.fetchRegistry !== "function" || typeof next.joinRegistry !== "function") return;
        try {
          const reg = await api.fetchRegistry({ instanceUrl: rest.instanceUrl, token, baseUrl: rest.baseUrl, signal: controller.signal });
          next.joinRegistry(reg);
          registry.loaded = true;
        } catch (error) {
          registry.error = String(error?.message ?? error);
        }
      })();
      const credits =
        withCredits && typeof api.fetchCredits === "function"
          ? api
              .fetchCredits(defined({ instanceUrl: rest.instanceUrl, token, baseUrl: rest.baseUrl, startDate: rest.startDate, endDate: rest.endDate, signal: controller.signal, maxRetries: 1 }))
              .then(
                (data) => ({ loaded: true, data }),
                (error) => ({ loaded: false, error: String(error?.message ?? error), code: error?.code, status: error?.status }),
              )
          : Promise.resolve({ loaded: false, error: null });
      const [, creditsAnswer] = await Promise.all([registryDone, credits]);
      if (controller.signal.aborted) {
        next.free?.();
        throw abortError();
      }
      keep(next);
      return describe({ registry, credits: creditsAnswer });
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
      if (!finishing) builder.free?.();
      throw error;
    } finally {
      controllers.delete(id);
    }
  },

  // The token is not needed to plan; the options object may carry it, and it is dropped below.
  planFetch: ({ options }) => api.planFetch(defined({ ...options, token: undefined })),
  summarize: ({ query }) => needReport().summarize(query ?? {}),
  summarizeMany: ({ queries }) => needReport().summarizeMany(queries ?? []),
  toCsv: ({ query }) => needReport().toCsv(query ?? {}),
  toJson: ({ query }) => needReport().toJson(query ?? {}),
  filteredCsv: ({ filter }) => needReport().filteredCsv(filter ?? {}),
  growth: ({ query }) => needReport().growth(query ?? {}),
  retention: ({ query }) => needReport().retention(query ?? {}),
  growthCsv: ({ query }) => needReport().growthCsv(query ?? {}),
  retentionCsv: ({ query }) => needReport().retentionCsv(query ?? {}),
  inactiveUsers: ({ query }) => needReport().inactiveUsers(query),
  inactiveUsersCsv: ({ query }) => needReport().inactiveUsersCsv(query),
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
  const reply = (data) => self.postMessage({ id, ...data });
  try {
    const handler = handlers[type];
    if (!handler) throw new Error(`Unknown request ${JSON.stringify(type)}.`);
    if (type === "init") ready = handler(message);
    else if (!ready) throw new Error("The worker was not initialised.");
    await ready;
    const result = type === "init" ? await ready : await handler(message, throttled((progress) => reply({ progress })));
    reply({ ok: true, result });
  } catch (error) {
    reply({ ok: false, error: { name: error?.name ?? "Error", message: String(error?.message ?? error), status: error?.status, code: error?.code, field: error?.field } });
  } finally {
    // Drop the one reference to the secret this message carried.
    if (message.options) message.options.token = undefined;
  }
});
