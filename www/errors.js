// Turns an error from the client (fetch, file, query) into a panel a manager can act on: what
// happened, the module's own message, and the ways out. The panel is chosen by the error's `code`
// (and, for invalid options, the option at fault), never by matching its message. Pure functions:
// no DOM.

/** True when the error is the answer to a cancel. */
export function isCancel(error) {
  return error?.name === "AbortError" || error?.code === "aborted";
}

const PANELS = {
  cancelled: {
    title: "Cancelled",
    hints: ["Nothing was loaded. Start again whenever you are ready."],
  },
  csp: {
    title: "The page’s Content-Security-Policy blocked the dashboard",
    hints: (e) => [
      e?.advice?.fix
        ? `Add ${e.advice.source} to the page’s ${e.advice.directive} directive, so that it reads: ${e.advice.fix}`
        : `Allow it in the page’s ${e?.advice?.directive ?? "Content-Security-Policy"}.`,
      "The project’s docs/embedding.md (“Content-Security-Policy for a portal”) gives the whole policy the dashboard needs, for its files on the portal’s origin and on another origin.",
    ],
  },
  worker: {
    title: "The analytics module could not start",
    hints: [
      "The page could not load its WebAssembly module (pkg/sg_analytics.js).",
      "Check that the files of the sg-analytics package are served: a bundler that does not emit them (esbuild) needs the element’s assets-url set to the folder holding www/ and pkg/; a checkout of the project needs `cargo xtask serve`, which builds pkg/.",
    ],
  },
  "base-url": {
    title: "The API base URL is not allowed",
    hints: ["Open “Advanced” and use https://analytics.sourcegraph.com or your proxy’s https:// address."],
  },
  settings: {
    title: "Check the connection settings",
    hints: ["Correct the field the message names and load again."],
  },
  unauthorized: {
    title: "The token was rejected",
    hints: [
      "Check that you pasted the whole token, without spaces.",
      "Tokens expire or can be revoked: create a new one in Sourcegraph Analytics and paste it here.",
    ],
  },
  forbidden: {
    title: "No access to this instance",
    hints: [
      "Check the instance URL: it is the host name of your Sourcegraph instance (for example example.sourcegraphcloud.com).",
      "The token must belong to a user who may see this instance in Sourcegraph Analytics.",
    ],
  },
  "rate-limited": {
    title: "The API is rate limiting requests",
    hints: ["Wait a minute and load again.", "A narrower date range or a coarser granularity needs fewer requests."],
  },
  "not-csv": {
    title: "The answer was not a CSV export",
    hints: [
      "The API base URL probably points at a login page or a proxy that asks you to sign in.",
      "Check “Advanced → API base URL”, or download the export with curl and open it here:",
    ],
    command: true,
  },
  window: {
    title: "A month of the export did not match what was asked",
    hints: [
      "A month came back empty, or with rows of other dates (a proxy that drops startDate and endDate does this), so no report is shown: a partial or repeated one would mislead.",
      "Check the proxy in “Advanced → API base URL”, load again, or untick “Fetch month by month”.",
    ],
  },
  cut: {
    title: "The download was cut short",
    hints: [
      "The connection closed before the whole export arrived, so nothing partial was kept.",
      "Load again; for a large instance, tick “Advanced → fetch in month-sized windows” or pick a shorter date range.",
    ],
  },
  server: {
    title: "The Analytics API is failing",
    hints: [
      "The page retried with back-off and gave up. The service may be having trouble; try again in a few minutes.",
      "Large exports may time out: a shorter date range or month-sized windows (under “Advanced”) help.",
    ],
  },
  network: {
    title: "The browser could not reach the API",
    hints: [
      "The browser refused or could not make the request (no network, a typo in the base URL, or the API does not allow this page’s origin).",
      "Use a proxy that adds CORS headers: put its https:// address under “Advanced → API base URL”.",
      "Or run the bundled local proxy (`cargo xtask serve --proxy`) and open the page it serves on http://127.0.0.1:8080.",
      "Or download the export with curl and open the file here (nothing leaves your browser):",
    ],
    command: true,
  },
  "bad-request": {
    title: "The API rejected the request",
    hints: ["Check the dates (start on or before end, YYYY-MM-DD) and the instance URL."],
  },
  input: {
    title: "This file is not a usable export",
    hints: ["Open a CSV export of Sourcegraph Analytics (any granularity)."],
  },
  "too-large": {
    title: "This export is too large to open in the page",
    hints: [
      "Nothing was kept: the page stays as it was, ready for another export.",
      "Fetch a coarser granularity (per user and day, or per user and month): far fewer rows.",
      "Or a shorter date range: a quarter or a month at a time.",
      "Or use the command-line tool, which reads an export of any size with your machine’s memory (the message above gives the commands).",
    ],
  },
  "out-of-memory": {
    title: "The page ran out of memory",
    hints: [
      "Nothing was kept, and the dashboard was reset; the page is ready for another export.",
      "Fetch a coarser granularity or a shorter date range, or use the command-line tool (the message above gives the command).",
    ],
  },
  "module-failed": {
    title: "The analytics module failed",
    hints: ["The dashboard was reset and the module restarted: load the export again. If it fails the same way, please report it."],
  },
  view: {
    title: "This view could not be computed",
    hints: ["Change the grouping or the filters, or press “Reset view”."],
  },
  unknown: {
    title: "Could not load the usage data",
    hints: [],
  },
};

/** The panel for each error `code` of the module (and of the page's worker client). */
const CODE_PANELS = {
  aborted: "cancelled",
  worker: "worker",
  invalid_options: "settings",
  network: "network",
  bad_request: "bad-request",
  unauthorized: "unauthorized",
  forbidden: "forbidden",
  not_found: "forbidden",
  rate_limited: "rate-limited",
  server_error: "server",
  http_error: "server",
  cut_short: "cut",
  bad_window: "window",
  not_csv: "not-csv",
  invalid_input: "input",
  invalid_query: "view",
  invalid_argument: "view",
  csp_blocked: "csp",
  too_large: "too-large",
  out_of_memory: "out-of-memory",
  module_failed: "module-failed",
};

/** The panel kind for an error: by its code; an invalid base URL has a panel of its own. */
export function panelKind(error) {
  if (error?.name === "AbortError") return "cancelled";
  if (error?.code === "invalid_options" && error?.field === "baseUrl") return "base-url";
  return CODE_PANELS[error?.code] ?? "unknown";
}

/**
 * The panel for an error: `{kind, title, message, hints, command?}`. The message is the module's
 * own (they are written to be actionable); the hints add the ways out; `curl` (from `planFetch`)
 * is offered where downloading by hand is a way out.
 */
export function explainError(error, { curl } = {}) {
  const kind = panelKind(error);
  const found = PANELS[kind];
  const panel = {
    kind,
    title: found.title,
    message: String(error?.message || error || "Unknown error"),
    hints: typeof found.hints === "function" ? found.hints(error) : [...found.hints],
  };
  if (found.command && curl) panel.command = curl;
  return panel;
}
