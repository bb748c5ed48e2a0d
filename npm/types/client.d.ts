// The worker helper (`sg-analytics/worker`): the module runs in a Web Worker, and these promises
// talk to it. The Report stays in the worker; only summaries and strings cross.
import type {
  AttributesJoin,
  ErrorCode,
  Features,
  FetchOptions,
  FetchPlan,
  Growth,
  Inactive,
  InactiveQuery,
  Info,
  JsonValue,
  PeriodQuery,
  PlanOptions,
  Progress,
  Report,
  Retention,
  Stickiness,
} from "../pkg/sg_analytics.js";

export type { Progress };

/** Raised when the worker (and so the WebAssembly module) cannot start, or was terminated. */
export class WorkerError extends Error {
  code: "worker";
}

/** What a Content-Security-Policy violation means: the directive that decided, the source to add. */
export interface CspAdvice {
  /** All of it in a sentence. */
  message: string;
  /** The directive of the policy that decided (the blocked kind's own, or its fallback). */
  directive: string;
  /** What the browser reported as blocked (a URL, `inline`, `wasm-eval`, ...). */
  blocked: string;
  /** The source to add to the directive, when one would allow it. */
  source: string | null;
  /** The directive as it would read with the source added. */
  fix: string | null;
  /** The blocked thing in words. */
  what: string;
}

/** Raised when the page's Content-Security-Policy blocked the worker, the module or a request. */
export class CspError extends Error {
  code: "csp_blocked";
  advice: CspAdvice;
}

/** Every code a client's promise rejects with: the module's, the worker's, the policy's, and
 * `not_loaded` (a query before an export was fetched or opened). */
export type ClientErrorCode = ErrorCode | "worker" | "csp_blocked" | "not_loaded";

/** How the client's promises reject (besides an `AbortError` when the signal fired): an `Error`
 * with the fields of `ERROR_FIELDS`. */
export interface ClientError extends Error {
  code: ClientErrorCode;
  status?: number;
  field?: string;
}

/** The fields of an error that cross the worker boundary. */
export const ERROR_FIELDS: readonly ["name", "message", "code", "status", "field"];

export interface CallOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

export interface ClientOptions {
  /** Where www/worker.js is served (default: beside this file, or under `assetsUrl`). */
  workerUrl?: string | URL;
  /** Where pkg/sg_analytics.js is served (the .wasm file beside it unless `wasmUrl` says). */
  moduleUrl?: string | URL;
  /** Where pkg/sg_analytics_bg.wasm is served. */
  wasmUrl?: string | URL;
  /** The folder where the package's files are served (www/ and pkg/ below it): for a bundler
   * that does not emit them (esbuild). */
  assetsUrl?: string | URL;
}

/** The options of `fetchReport` that cross to the worker (not `signal` nor `onProgress`: those
 * are the call's), and whether to fetch the registry and the credits too. */
export type ClientFetchOptions = Omit<FetchOptions, "signal" | "onProgress"> & {
  withRegistry?: boolean;
  withCredits?: boolean;
};

/** Whether the user registry was fetched and joined. */
export interface RegistryAnswer {
  loaded: boolean;
  error: string | null;
}

/** The credits: what `fetchCredits` returned and the list of buckets in it (`creditBuckets`), or
 * why not (`error` null when not asked). */
export type CreditsAnswer =
  | { loaded: true; data: JsonValue; buckets: Record<string, JsonValue>[] | null }
  | { loaded: false; error: string | null; code?: ErrorCode; status?: number };

export interface FetchAnswer {
  info: Info;
  registry: RegistryAnswer;
  credits: CreditsAnswer;
}

export interface OpenAnswer {
  info: Info;
  registry: { loaded: false; error: null };
}

export interface AdoptionAsks {
  growth?: PeriodQuery;
  retention?: PeriodQuery;
  inactive?: InactiveQuery;
  stickiness?: PeriodQuery;
  features?: PeriodQuery;
}

export interface AdoptionAnswers {
  growth?: Growth;
  retention?: Retention;
  inactive?: Inactive;
  /** `{problem}`: the module's message where the export has no days (a month export). */
  stickiness?: Stickiness | { problem: string };
  features?: Features | { problem: string };
}

/** The Report's methods the worker does not answer by name (`NOT_CALLED` in www/calls.js): `free`
 * (the worker frees its Report itself), `joinRegistry` (a Registry cannot cross to the worker),
 * `joinAttributes` (the client's own takes the file), `summarizeManyJson` (the worker answers
 * `summarizeMany` with it, as JSON text the client parses). */
export type NotCalled = "free" | "joinRegistry" | "joinAttributes" | "summarizeManyJson";

/** The Report's methods the worker answers by name: every other method of `Report`. */
export type ReportCall = Exclude<
  { [K in keyof Report]: Report[K] extends (...args: never[]) => unknown ? K : never }[keyof Report] & string,
  NotCalled
>;

/** Each Report method the worker answers, as the client has it: the same arguments, the same
 * answer as a promise (`client.summarize(query)`, `client.growthCsv(query)`, …). */
export type ReportCalls = { [M in ReportCall]: (...args: Parameters<Report[M]>) => Promise<ReturnType<Report[M]>> };

export interface AnalyticsClient extends ReportCalls {}

export class AnalyticsClient {
  constructor(options?: ClientOptions);
  /**
   * Fetches the export into the worker; the token travels in this one message. Then, side by
   * side, the user registry (joined) and the credits (`fetchCredits`, one retry at most), unless
   * `withRegistry` / `withCredits` is false; neither failing fails the call.
   */
  fetchReport(options: ClientFetchOptions, call?: CallOptions): Promise<FetchAnswer>;
  /** Reads a File in chunks into the worker; nothing leaves the browser. */
  openFile(file: Blob, call?: CallOptions): Promise<OpenAnswer>;
  planFetch(options: PlanOptions): Promise<FetchPlan>;
  /** Joins a people file in the worker (`report.joinAttributes`); it is never sent anywhere. */
  joinAttributes(file: Blob): Promise<{ join: AttributesJoin; info: Info }>;
  /** A method of the Report the worker holds, by name: `call("summarize", query)` is `summarize(query)`. */
  call<M extends ReportCall>(method: M, ...args: Parameters<Report[M]>): Promise<ReturnType<Report[M]>>;
  /** Several adoption answers in one round trip: only the parts asked for are computed. */
  adoption(asks: AdoptionAsks): Promise<AdoptionAnswers>;
  terminate(): void;
}
