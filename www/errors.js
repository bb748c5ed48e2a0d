// Turns an error from the client (fetch, file, query) into a panel a manager can act on: what
// happened, the module's own message, and the ways out. The panel is chosen by the error's `code`
// (and, for invalid options, the option at fault), never by matching its message. Pure functions:
// no DOM.

/** True when the error is the answer to a cancel. */
export function isCancel(error) {
  return error?.name === "AbortError" || error?.code === "aborted";
}

// Each panel speaks to the person using the dashboard: a title and a sentence in their words
// (`say`; without one, the module's message, where it is written for them), and one next step.
// The module's own message and the engineer's ways out (`hints`) are folded away under "Details".
const PANELS = {
  cancelled: {
    title: "Cancelled",
    say: "Nothing was loaded.",
    next: "Start again whenever you are ready.",
  },
  csp: {
    // The audience is the portal's developer: the module's message says what was blocked.
    title: "The page’s Content-Security-Policy blocked the dashboard",
    next: (e) =>
      e?.advice?.fix
        ? `Add ${e.advice.source} to the page’s ${e.advice.directive} directive, so that it reads: ${e.advice.fix}`
        : `Allow it in the page’s ${e?.advice?.directive ?? "Content-Security-Policy"}.`,
    hints: ["The project’s docs/embedding.md (“Content-Security-Policy for a portal”) gives the whole policy the dashboard needs, for its files on the portal’s origin and on another origin."],
  },
  worker: {
    title: "The dashboard could not start",
    say: "Part of this page did not load, so nothing can be read or fetched yet.",
    next: "Reload the page. If it happens again, tell whoever hosts this page.",
    hints: [
      "The page could not load its WebAssembly module (pkg/sg_analytics.js).",
      "Check that the files of the sg-analytics package are served: a bundler that does not emit them (esbuild) needs the element’s assets-url set to the folder holding www/ and pkg/; a checkout of the project needs `cargo xtask serve`, which builds pkg/.",
    ],
  },
  "base-url": {
    title: "The API base URL is not allowed",
    say: "The address under “Advanced → API base URL” is not one the page will send your token to.",
    next: "Open “Advanced” and use https://analytics.sourcegraph.com or your proxy’s https:// address.",
  },
  settings: {
    title: "Check the connection settings",
    say: "One of the settings above cannot be used as it is.",
    next: "Correct the field named below and load again.",
  },
  unauthorized: {
    title: "The token was rejected",
    say: "Sourcegraph Analytics did not accept this access token.",
    next: "Paste the whole token again, or create a new one in Sourcegraph Analytics (tokens expire or can be revoked).",
  },
  forbidden: {
    title: "No access to this instance",
    say: "Sourcegraph Analytics does not let this token see that instance.",
    next: "Check the instance URL (the host name of your Sourcegraph instance, for example example.sourcegraphcloud.com), then load again.",
    hints: ["The token must belong to a user who may see this instance in Sourcegraph Analytics."],
  },
  "rate-limited": {
    title: "Too many requests for now",
    say: "Sourcegraph Analytics asked the page to slow down, and it kept asking after the page waited.",
    next: "Wait a minute and load again.",
    hints: ["A narrower date range or a coarser granularity needs fewer requests."],
  },
  "not-csv": {
    title: "The answer was not a usage export",
    say: "Something answered in place of Sourcegraph Analytics, most likely a sign-in page or a proxy.",
    next: "Download the export with the command below and open the file here (nothing leaves your browser), or check “Advanced → API base URL”.",
    command: true,
  },
  window: {
    title: "A month of the export did not match what was asked",
    next: "Untick “Fetch month by month” under “Advanced” and load again.",
    hints: ["A month came back empty, or with rows of other dates (a proxy that drops startDate and endDate does this), so no report is shown: a partial or repeated one would mislead. Check the proxy in “Advanced → API base URL”."],
  },
  cut: {
    title: "The download was cut short",
    say: "The connection closed before the whole export arrived, so nothing partial was kept.",
    next: "Load again; for a large instance, pick a shorter date range.",
    hints: ["“Advanced → Fetch month by month” fetches and checks one month at a time."],
  },
  server: {
    title: "Sourcegraph Analytics is not answering properly",
    say: "The service returned errors, and still did after the page tried again.",
    next: "Try again in a few minutes.",
    hints: ["Large exports may time out: a shorter date range or month-sized windows (under “Advanced”) help."],
  },
  network: {
    title: "The page could not reach Sourcegraph Analytics",
    say: "Your browser could not connect to the Analytics API from this page.",
    next: "Download the export with the command below (or ask your Sourcegraph admin for it), then open the file here; nothing leaves your browser.",
    hints: [
      "The browser refused or could not make the request: no network, a typo in the base URL, or the API does not allow this page’s origin (CORS).",
      "A proxy that adds CORS headers works: put its https:// address under “Advanced → API base URL”, or run the bundled local proxy (`cargo xtask serve --proxy`) and open the page it serves on http://127.0.0.1:8080.",
    ],
    command: true,
  },
  "bad-request": {
    title: "Sourcegraph Analytics refused the request",
    say: "It did not accept the instance or the dates asked for.",
    next: "Check the dates (start on or before end) and the instance URL, then load again.",
  },
  input: {
    title: "This file is not a usable export",
    next: "Open a CSV export of Sourcegraph Analytics (any granularity).",
  },
  "people-file": {
    title: "This is a people file, not a usage export",
    say: "It lists people and their teams, but no usage to show.",
    next: "Open the usage export first; this file then joins onto it to group and filter by team.",
    action: { label: "Join it onto the next export opened", event: "choosePeopleForExports" },
  },
  "too-large": {
    title: "This export is too large to open in the page",
    next: "Fetch a coarser granularity (per user and day, or per user and month) or a shorter date range: far fewer rows.",
    hints: [
      "Nothing was kept: the page stays as it was, ready for another export.",
      "Or use the command-line tool, which reads an export of any size with your machine’s memory (the message above gives the commands).",
    ],
  },
  "out-of-memory": {
    title: "The page ran out of memory",
    say: "Nothing was kept, and the dashboard was reset; the page is ready for another export.",
    next: "Fetch a coarser granularity or a shorter date range.",
    hints: ["Or use the command-line tool (the message gives the command)."],
  },
  "module-failed": {
    title: "The dashboard stopped unexpectedly",
    say: "The dashboard was reset and restarted.",
    next: "Load the export again. If it fails the same way, please report it.",
  },
  view: {
    title: "This view could not be computed",
    say: "The dashboard cannot answer this combination of grouping and filters.",
    next: "Change the grouping or the filters, or press “Reset view”.",
  },
  unknown: {
    title: "Could not load the usage data",
    say: "Something went wrong that the page does not know how to explain.",
    next: "Try again; if it keeps happening, the details below help whoever looks into it.",
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
  people_file: "people-file",
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
 * The panel for an error: `{kind, title, message, next, detail, hints, command?, action?}`. The
 * message is the panel's sentence in the user's words, or the module's own where it is written for
 * them; `next` is the one step to take; `detail` (the module's message, when not shown) and
 * `hints` (the engineer's ways out) are for the folded "Details". `curl` (from `planFetch`) is
 * offered where downloading by hand is the way out.
 */
export function explainError(error, { curl } = {}) {
  const kind = panelKind(error);
  const found = PANELS[kind];
  const original = String(error?.message || error || "Unknown error");
  const panel = {
    kind,
    title: found.title,
    message: found.say ?? original,
    next: typeof found.next === "function" ? found.next(error) : found.next,
    detail: found.say ? original : "",
    hints: [...(found.hints ?? [])],
  };
  if (found.command && curl) panel.command = curl;
  if (found.action) panel.action = found.action;
  return panel;
}

/**
 * The panel for connection options the module refused before sending anything (`planFetch`'s
 * `{problem, field}`): the field's own words and step; the module's sentence under "Details".
 */
export function explainOptions({ problem, field }) {
  const found = OPTION_PANELS[field] ?? OPTION_PANELS.other;
  return { kind: "input", title: found.title, message: found.say, next: found.next, detail: String(problem ?? ""), hints: [] };
}

const OPTION_PANELS = {
  instanceUrl: { title: "Which instance?", say: "The instance URL cannot be used as it is.", next: "Enter your Sourcegraph instance’s host name, for example example.sourcegraphcloud.com." },
  baseUrl: { title: "The API base URL is not allowed", say: "The address under “Advanced → API base URL” is not one the page will send your token to.", next: "Use https://analytics.sourcegraph.com, or your proxy’s https:// address." },
  granularity: { title: "Check the granularity", say: "That granularity is not one Sourcegraph Analytics offers.", next: "Pick one from the Granularity list." },
  dates: { title: "Check the dates", say: "The start and end dates cannot be fetched as they are.", next: "Pick a start date on or before the end date." },
  monthWindows: { title: "Month by month needs a date range", say: "Fetching month by month needs to know which months.", next: "Give a start and an end date, or untick “Fetch month by month”." },
  token: { title: "A token is needed", say: "The access token cannot be used as it is.", next: "Paste the whole access token for Sourcegraph Analytics." },
  other: { title: "Check the connection settings", say: "One of the settings above cannot be used as it is.", next: "Correct it and load again." },
};
