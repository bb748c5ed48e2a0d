// Talks to the analytics worker (www/worker.js) with promises: one request, one answer, progress in
// between, cancel through an AbortSignal. The worker holds the Report; the page only ever sees
// plain summaries and strings.

/** Raised when the worker (and so the WebAssembly module) cannot start. */
export class WorkerError extends Error {
  constructor(message) {
    super(message);
    this.name = "WorkerError";
    this.code = "worker";
  }
}

/** The fields of an error that cross the worker boundary: what a page branches on. */
export const ERROR_FIELDS = ["name", "message", "code", "status", "field"];

/** An `Error` again from what the worker sent, with every field of `ERROR_FIELDS` kept. */
function rebuildError(data) {
  const error = new Error(data?.message ?? "The analytics worker failed.");
  for (const key of ERROR_FIELDS) if (key !== "message" && data?.[key] !== undefined && data[key] !== null) error[key] = data[key];
  return error;
}

/** Builds the worker; a module on another origin (an embedding portal) is started through a blob. */
function startWorker(workerUrl) {
  const url = new URL(workerUrl, location.href);
  if (url.origin === location.origin) return new Worker(url, { type: "module", name: "sg-analytics" });
  const shim = URL.createObjectURL(new Blob([`import ${JSON.stringify(url.href)};`], { type: "text/javascript" }));
  return new Worker(shim, { type: "module", name: "sg-analytics" });
}

export class AnalyticsClient {
  /**
   * @param {{workerUrl?: string|URL, moduleUrl?: string|URL}} options where the worker and the
   *   module (pkg/sg_analytics.js) live; both default to their places beside this file.
   */
  constructor({ workerUrl = new URL("./worker.js", import.meta.url), moduleUrl = new URL("../pkg/sg_analytics.js", import.meta.url) } = {}) {
    this.pending = new Map();
    this.nextId = 1;
    this.failure = null;
    this.worker = startWorker(workerUrl);
    this.worker.addEventListener("message", (event) => this.receive(event.data));
    this.worker.addEventListener("error", (event) => {
      event.preventDefault?.();
      this.fail(new WorkerError(`The analytics worker could not start${event.message ? `: ${event.message}` : ""}.`));
    });
    this.ready = this.request("init", { moduleUrl: String(moduleUrl) });
    this.ready.catch(() => {});
  }

  receive(message) {
    const pending = this.pending.get(message?.id);
    if (!pending) return;
    if (message.progress) {
      pending.onProgress?.(message.progress);
      return;
    }
    this.pending.delete(message.id);
    pending.signal?.removeEventListener("abort", pending.abort);
    if (message.ok) pending.resolve(message.result);
    else pending.reject(rebuildError(message.error));
  }

  fail(error) {
    this.failure = error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }

  /** Sends one request; resolves with the worker's result. */
  request(type, payload = {}, { onProgress, signal } = {}) {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const pending = { resolve, reject, onProgress, signal };
      if (signal) {
        if (signal.aborted) {
          reject(new DOMException("Cancelled.", "AbortError"));
          return;
        }
        pending.abort = () => this.worker.postMessage({ type: "cancel", target: id });
        signal.addEventListener("abort", pending.abort, { once: true });
      }
      this.pending.set(id, pending);
      this.worker.postMessage({ id, type, ...payload });
    });
  }

  /**
   * Fetches the export (and the user registry, when asked) into the worker. The token travels in
   * this one message and is not kept by the worker. Resolves with `{info, registry}`.
   */
  fetchReport(options, { onProgress, signal } = {}) {
    return this.request("fetchReport", { options }, { onProgress, signal });
  }

  /** Reads a File in chunks into the worker. Resolves with `{info}`. */
  openFile(file, { onProgress, signal } = {}) {
    return this.request("openFile", { file }, { onProgress, signal });
  }

  summarize(query) {
    return this.request("summarize", { query });
  }

  /** The summaries of several queries in one round trip (one view of the page). */
  summarizeMany(queries) {
    return this.request("summarizeMany", { queries });
  }

  /** What a fetch with these options would request (`planFetch` of the module), or the problem. */
  planFetch(options) {
    return this.request("planFetch", { options });
  }

  toCsv(query) {
    return this.request("toCsv", { query });
  }

  toJson(query) {
    return this.request("toJson", { query });
  }

  filteredCsv(filter) {
    return this.request("filteredCsv", { filter });
  }

  terminate() {
    this.worker.terminate();
    this.fail(new WorkerError("The analytics worker was stopped."));
  }
}
