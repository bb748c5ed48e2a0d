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
  /**
   * Fetches the export into the worker; the token travels in this one message. Then, side by
   * side, the user registry (joined) and the credits (`fetchCredits`, one retry at most), unless
   * `withRegistry` / `withCredits` is false; neither failing fails the call.
   */
  fetchReport(
    options: Omit<FetchOptions, "signal" | "onProgress"> & { withRegistry?: boolean; withCredits?: boolean },
    call?: CallOptions,
  ): Promise<{
    info: unknown;
    registry: { loaded: boolean; error: string | null };
    /** `data`: what `fetchCredits` returned (JSON as it came, or a CSV answer's rows as objects). */
    credits: { loaded: true; data: unknown } | { loaded: false; error: string | null; code?: string; status?: number };
  }>;
  /** Reads a File in chunks into the worker; nothing leaves the browser. */
  openFile(file: Blob, call?: CallOptions): Promise<{ info: unknown }>;
  summarize(query?: unknown): Promise<unknown>;
  summarizeMany(queries: unknown[]): Promise<unknown[]>;
  planFetch(options: unknown): Promise<unknown>;
  toCsv(query?: unknown): Promise<string>;
  toJson(query?: unknown): Promise<string>;
  filteredCsv(filter?: unknown): Promise<string>;
  /** Joins a people file in the worker (`report.joinAttributes`); it is never sent anywhere. */
  joinAttributes(file: Blob): Promise<{ join: unknown; info: unknown }>;
  growth(query?: unknown): Promise<unknown>;
  retention(query?: unknown): Promise<unknown>;
  /** The growth periods as CSV, written by the module (`report.growthCsv`). */
  growthCsv(query?: unknown): Promise<string>;
  /** The retention cohorts as CSV, written by the module (`report.retentionCsv`). */
  retentionCsv(query?: unknown): Promise<string>;
  inactiveUsers(query: unknown): Promise<unknown>;
  /** The inactive users as CSV, written by the module (`report.inactiveUsersCsv`). */
  inactiveUsersCsv(query: unknown): Promise<string>;
  /** Several adoption answers in one round trip: `{growth?, retention?, inactive?}`. */
  adoption(asks: { growth?: unknown; retention?: unknown; inactive?: unknown }): Promise<{ growth?: unknown; retention?: unknown; inactive?: unknown }>;
  terminate(): void;
}
