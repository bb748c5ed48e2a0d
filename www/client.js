// Talks to the analytics worker (www/worker.js) with promises: one request, one answer, progress in
// between, cancel through an AbortSignal. The worker holds the Report; the page only ever sees
// plain summaries and strings.

import { NOT_CALLED, REPORT_CALLS, REQUIRED } from "./calls.js";
import { explainViolation, violationRecord } from "./csp.js";

/** Raised when the worker (and so the WebAssembly module) cannot start. */
export class WorkerError extends Error {
  constructor(message) {
    super(message);
    this.name = "WorkerError";
    this.code = "worker";
  }
}

/**
 * Raised instead of the error it caused when the page's Content-Security-Policy blocked the worker,
 * the module, the wasm file or the API request. `advice` says which directive and what to add.
 */
export class CspError extends Error {
  constructor(advice, cause) {
    super(advice.message, { cause });
    this.name = "CspError";
    this.code = "csp_blocked";
    this.advice = advice;
  }
}

// A violation reaches the page as its own task, possibly after the failure it caused.
const VIOLATION_SETTLE_MS = 150;

/** A rejected call of the client's, for a misuse caught before the worker is asked. */
function misuse(message) {
  const error = new Error(message);
  error.code = "invalid_argument";
  return Promise.reject(error);
}

const isBlob = (file) => typeof Blob === "function" && file instanceof Blob;
const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);

/** The fields of an error that cross the worker boundary: what a page branches on. */
export const ERROR_FIELDS = ["name", "message", "code", "status", "field", "reportLost"];

/** An `Error` again from what the worker sent, with every field of `ERROR_FIELDS` kept. */
function rebuildError(data) {
  const error = new Error(data?.message ?? "The analytics worker failed.");
  for (const key of ERROR_FIELDS) if (key !== "message" && data?.[key] !== undefined && data[key] !== null) error[key] = data[key];
  return error;
}

/**
 * The worker's first script. It runs on a blob: URL, which the page's policy governs (`worker-src
 * blob:`) wherever the files are hosted, and imports the worker with a dynamic import (governed by
 * `script-src`, like every other module of the dashboard), so that its listener is in place for the
 * violations the worker meets (the module, the wasm file, the API) before the worker runs. Messages
 * are held until the worker has registered its own listener.
 */
function shimSource(workerUrl) {
  return `const violationRecord = ${violationRecord};
self.addEventListener("securitypolicyviolation", (event) => self.postMessage({ cspViolation: violationRecord(event) }));
const held = [];
const hold = (event) => { event.stopImmediatePropagation(); held.push(event.data); };
self.addEventListener("message", hold);
import(${JSON.stringify(workerUrl)}).then(() => {
  self.removeEventListener("message", hold);
  for (const data of held) self.dispatchEvent(new MessageEvent("message", { data }));
}, (error) => self.reportError(error));
`;
}

/** Builds the worker; the same way whether the module is on the page's origin or on another one. */
function startWorker(workerUrl) {
  const url = new URL(workerUrl, location.href);
  const shim = URL.createObjectURL(new Blob([shimSource(url.href)], { type: "text/javascript" }));
  return new Worker(shim, { type: "module", name: "sg-analytics" });
}

export class AnalyticsClient {
  /**
   * @param {{workerUrl?: string|URL, moduleUrl?: string|URL, wasmUrl?: string|URL, assetsUrl?: string|URL}} options
   *   where the worker, the module (pkg/sg_analytics.js) and its .wasm file live. By default, their
   *   places beside this file, written as `new URL("literal", import.meta.url)` so that a bundler
   *   that knows the form (Vite, webpack, Rollup) emits them; or under `assetsUrl`, the folder
   *   where the package's files are served (www/ and pkg/ below it), for one that does not (esbuild).
   *   `moduleUrl` alone puts the .wasm file beside it.
   */
  constructor({ workerUrl, moduleUrl, wasmUrl, assetsUrl } = {}) {
    const base = assetsUrl === undefined ? null : new URL(assetsUrl, globalThis.location?.href);
    workerUrl ??= base ? new URL("www/worker.js", base) : new URL("./worker.js", import.meta.url);
    if (moduleUrl !== undefined) wasmUrl ??= new URL("sg_analytics_bg.wasm", new URL(moduleUrl, globalThis.location?.href));
    moduleUrl ??= base ? new URL("pkg/sg_analytics.js", base) : new URL("../pkg/sg_analytics.js", import.meta.url);
    wasmUrl ??= base ? new URL("pkg/sg_analytics_bg.wasm", base) : new URL("../pkg/sg_analytics_bg.wasm", import.meta.url);
    this.pending = new Map();
    this.nextId = 1;
    this.failure = null;
    // Violations seen since this client started: the worker's own, forwarded by its first script,
    // and the page's refusal to start it at all.
    this.violations = [];
    this.watchPolicy = (event) => {
      if (event.effectiveDirective === "worker-src" && /^blob/.test(event.blockedURI)) this.violations.push(violationRecord(event));
    };
    globalThis.document?.addEventListener("securitypolicyviolation", this.watchPolicy);
    this.urls = { workerUrl, moduleUrl, wasmUrl };
    this.start();
  }

  /** Starts the worker and its module. */
  start() {
    const worker = startWorker(this.urls.workerUrl);
    this.worker = worker;
    worker.addEventListener("message", (event) => {
      if (this.worker === worker) this.receive(event.data);
    });
    worker.addEventListener("error", (event) => {
      event.preventDefault?.();
      if (this.worker === worker) this.fail(new WorkerError(`The analytics worker could not start${event.message ? `: ${event.message}` : ""}.`));
    });
    this.ready = this.request("init", { moduleUrl: String(this.urls.moduleUrl), wasmUrl: String(this.urls.wasmUrl), calls: REPORT_CALLS });
    this.ready.catch(() => {});
  }

  /**
   * Replaces a worker whose module trapped (out of memory, or a bug): the report it held is gone
   * (the error said so with `reportLost`), the requests still waiting on it fail with that error,
   * and a fresh worker and module take the next requests. Terminating the old one gives its
   * memory back.
   */
  restart(error) {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    this.worker.terminate();
    for (const pending of waiting) pending.reject(error);
    this.start();
  }

  receive(message) {
    if (message?.cspViolation) {
      this.violations.push(message.cspViolation);
      return;
    }
    const pending = this.pending.get(message?.id);
    if (!pending) return;
    if (message.progress) {
      pending.onProgress?.(message.progress);
      return;
    }
    this.pending.delete(message.id);
    pending.signal?.removeEventListener("abort", pending.abort);
    if (message.ok) pending.resolve(message.json !== undefined ? JSON.parse(message.json) : message.result);
    else {
      const error = rebuildError(message.error);
      pending.reject(error);
      if (error.reportLost) this.restart(error);
    }
  }

  fail(error) {
    this.failure = error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }

  /**
   * The error to report for a failure: a CspError when a violation of the page's policy came with
   * it (since `since`, or since the start when the worker itself failed), else the failure itself.
   */
  async blame(error, since) {
    if (error?.name === "AbortError") return error;
    await new Promise((resolve) => setTimeout(resolve, VIOLATION_SETTLE_MS));
    const origin = globalThis.location?.origin;
    for (const record of this.violations.slice(error?.code === "worker" ? 0 : since)) {
      const advice = explainViolation(record, { pageOrigin: origin });
      if (advice) return new CspError(advice, error);
    }
    return error;
  }

  /** Sends one request; resolves with the worker's result. */
  request(type, payload = {}, { onProgress, signal } = {}) {
    if (this.failure) return this.blame(this.failure, 0).then((error) => Promise.reject(error));
    const id = this.nextId++;
    const since = this.violations.length;
    return new Promise((resolve, fail) => {
      const reject = (error) => this.blame(error, since).then(fail);
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
    if (!isObject(options)) return misuse("fetchReport takes an options object: { instanceUrl, token, ... }.");
    return this.request("fetchReport", { options }, { onProgress, signal });
  }

  /** Reads a File in chunks into the worker. Resolves with `{info}`. */
  openFile(file, { onProgress, signal } = {}) {
    if (!isBlob(file)) return misuse("openFile takes a File or Blob (an export the user picked).");
    return this.request("openFile", { file }, { onProgress, signal });
  }

  /**
   * Joins a people file (a File or Blob) onto the loaded report in the worker: its columns become
   * group keys and filters. Resolves with `{join, info}`; the file never leaves the page.
   */
  joinAttributes(file) {
    if (!isBlob(file)) return misuse("joinAttributes takes a File or Blob (a people file the user picked).");
    return this.request("joinAttributes", { file });
  }

  /** What a fetch with these options would request (`planFetch` of the module), or the problem. */
  planFetch(options) {
    if (!isObject(options)) return misuse("planFetch takes an options object: { instanceUrl, baseUrl?, ... }.");
    return this.request("planFetch", { options });
  }

  /**
   * Calls a method of the Report the worker holds (one of `REPORT_CALLS`), with these arguments;
   * resolves with its answer. `client.summarize(query)` is `client.call("summarize", query)`.
   */
  call(method, ...args) {
    if (!REPORT_CALLS.includes(method)) {
      const why = Object.hasOwn(NOT_CALLED, method) ? `: ${NOT_CALLED[method]}` : `; it answers ${REPORT_CALLS.join(", ")}`;
      return misuse(`${JSON.stringify(method)} is not a call the worker answers${why}.`);
    }
    if (Object.hasOwn(REQUIRED, method) && !isObject(args[0])) return misuse(`${method} takes ${REQUIRED[method]}.`);
    return this.request("call", { method, args });
  }

  /**
   * Several adoption answers in one round trip (one view change of the Adoption view):
   * `{growth?, retention?, stickiness?, features?: PeriodQuery, inactive?: InactiveQuery}` → the
   * same keys with the module's answers. One failing part fails the request, with its code and
   * status; except that stickiness and features, which need days, answer `{problem: message}`
   * where the export has none (a month export still has growth and retention).
   */
  adoption(asks) {
    return this.request("adoption", { asks });
  }

  terminate() {
    globalThis.document?.removeEventListener("securitypolicyviolation", this.watchPolicy);
    this.worker.terminate();
    this.fail(new WorkerError("The analytics worker was stopped."));
  }
}

// `client.summarize(query)`, `client.growthCsv(query)`, …: one method per call, each `call` by name.
for (const method of REPORT_CALLS) {
  Object.defineProperty(AnalyticsClient.prototype, method, {
    value: function (...args) {
      return this.call(method, ...args);
    },
    writable: true,
    configurable: true,
  });
}
