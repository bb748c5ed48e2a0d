// The worker helper (`sg-analytics/worker`): the module runs in a Web Worker, and these promises
// talk to it. The Report stays in the worker; only summaries and strings cross.
import type { FetchOptions } from "../pkg/sg_analytics.js";

/** Raised when the worker (and so the WebAssembly module) cannot start. */
export class WorkerError extends Error {
  code: "worker";
}

/** Raised when the page's Content-Security-Policy blocked the worker, the module or a request. */
export class CspError extends Error {
  code: "csp_blocked";
  advice: { message: string; directive?: string; source?: string };
}

/** The fields of an error that cross the worker boundary. */
export const ERROR_FIELDS: readonly string[];

export interface Progress {
  bytes: number;
  rows: number;
  window?: number;
  windows?: number;
}

export interface CallOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

export class AnalyticsClient {
  /** `workerUrl` and `moduleUrl` default to their places in this package. */
  constructor(options?: { workerUrl?: string | URL; moduleUrl?: string | URL });
  /** Fetches the export into the worker; the token travels in this one message. */
  fetchReport(
    options: Omit<FetchOptions, "signal" | "onProgress"> & { registry?: boolean },
    call?: CallOptions,
  ): Promise<{ info: unknown; registry?: unknown }>;
  /** Reads a File in chunks into the worker; nothing leaves the browser. */
  openFile(file: Blob, call?: CallOptions): Promise<{ info: unknown }>;
  summarize(query?: unknown): Promise<unknown>;
  summarizeMany(queries: unknown[]): Promise<unknown[]>;
  planFetch(options: unknown): Promise<unknown>;
  toCsv(query?: unknown): Promise<string>;
  toJson(query?: unknown): Promise<string>;
  filteredCsv(filter?: unknown): Promise<string>;
  terminate(): void;
}
