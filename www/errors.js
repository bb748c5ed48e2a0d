// Turns an error from the client (fetch, file, query) into a panel a manager can act on: what
// happened, the client's own message, and the ways out. Pure functions: no DOM.

export const PRODUCTION_BASE_URL = "https://analytics.sourcegraph.com";

/** A bare host from what users paste (`https://host/path`, spaces). */
export function normalizeInstance(text) {
  return String(text ?? "")
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")
    .replace(/[/?#].*$/, "")
    .toLowerCase();
}

/** Why a base URL is not allowed (https, or http on localhost/127.0.0.1 only), or null when it is. */
export function baseUrlProblem(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return "The API base URL is not a URL. Use https://analytics.sourcegraph.com, or your proxy's https:// address.";
  }
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)) return null;
  return "The API base URL must start with https:// (plain http:// is allowed only for localhost and 127.0.0.1), so the token never travels unencrypted.";
}

/** The curl command that downloads the same export outside the browser; the token stays in an env variable. */
export function curlCommand({ instanceUrl, granularity, startDate, endDate, baseUrl }) {
  const base = !baseUrl || baseUrlProblem(baseUrl) ? PRODUCTION_BASE_URL : baseUrl.replace(/\/+$/, "");
  const params = new URLSearchParams({ instanceURL: normalizeInstance(instanceUrl) || "YOUR-INSTANCE" });
  if (granularity) params.set("granularity", granularity);
  if (startDate) params.set("startDate", startDate);
  if (endDate) params.set("endDate", endDate);
  return `curl -fSL -H "Authorization: Bearer $SG_ANALYTICS_TOKEN" -o sg-analytics-export.csv "${base}/api/reports/by-user-client-date?${params}"`;
}

/** True when the error is the answer to a cancel. */
export function isCancel(error) {
  return error?.name === "AbortError" || /\baborted\b|\bcancell?ed\b/i.test(error?.message ?? "");
}

/** The panel for each `FetchError.code` of the module. */
const CODE_KINDS = {
  aborted: "cancelled",
  invalid_options: "settings",
  network: "network",
  bad_request: "bad-request",
  unauthorized: "unauthorized",
  forbidden: "forbidden",
  not_found: "forbidden",
  rate_limited: "rate-limited",
  server_error: "server",
  cut_short: "cut",
  not_csv: "not-csv",
  invalid_input: "input",
  csp_blocked: "csp",
};

const KINDS = [
  {
    kind: "cancelled",
    test: (e) => isCancel(e),
    title: "Cancelled",
    hints: () => ["Nothing was loaded. Start again whenever you are ready."],
  },
  {
    kind: "csp",
    test: (e) => e?.name === "CspError",
    title: "The page’s Content-Security-Policy blocked the dashboard",
    hints: (settings, e) => [
      e?.advice?.fix
        ? `Add ${e.advice.source} to the page’s ${e.advice.directive} directive, so that it reads: ${e.advice.fix}`
        : `Allow it in the page’s ${e?.advice?.directive ?? "Content-Security-Policy"}.`,
      "The README (“Content-Security-Policy for a portal”) gives the whole policy the dashboard needs, for its files on the portal’s origin and on another origin.",
    ],
  },
  {
    kind: "worker",
    test: (e) => e?.name === "WorkerError",
    title: "The analytics module could not start",
    hints: () => [
      "The page could not load its WebAssembly module (pkg/sg_analytics.js).",
      "If you serve the page yourself, build it first: `cargo xtask serve` builds pkg/ and serves the page.",
    ],
  },
  {
    kind: "base-url",
    test: (e) => e?.name === "BaseUrlError" || /^the API base URL|must (be|use) https/i.test(e?.message ?? ""),
    title: "The API base URL is not allowed",
    hints: () => ["Open “Advanced” and use https://analytics.sourcegraph.com or your proxy’s https:// address."],
  },
  {
    kind: "unauthorized",
    test: (e) => e?.status === 401 || /\b401\b|unauthori[sz]ed|token (was )?(rejected|invalid|expired)|invalid token|expired/i.test(e?.message ?? ""),
    title: "The token was rejected",
    hints: () => [
      "Check that you pasted the whole token, without spaces.",
      "Tokens expire or can be revoked: create a new one in Sourcegraph Analytics and paste it here.",
    ],
  },
  {
    kind: "forbidden",
    test: (e) => [403, 404].includes(e?.status) || /\b40[34]\b|forbidden|no access|not found/i.test(e?.message ?? ""),
    title: "No access to this instance",
    hints: () => [
      "Check the instance URL: it is the host name of your Sourcegraph instance (for example example.sourcegraphcloud.com).",
      "The token must belong to a user who may see this instance in Sourcegraph Analytics.",
    ],
  },
  {
    kind: "rate-limited",
    test: (e) => e?.status === 429 || /\b429\b|rate.?limit|too many requests/i.test(e?.message ?? ""),
    title: "The API is rate limiting requests",
    hints: () => ["Wait a minute and load again.", "A narrower date range or a coarser granularity needs fewer requests."],
  },
  {
    kind: "not-csv",
    test: (e) => /not (a |an )?csv|html|login page|sign.?in page|content.?type/i.test(e?.message ?? ""),
    title: "The answer was not a CSV export",
    hints: () => [
      "The API base URL probably points at a login page or a proxy that asks you to sign in.",
      "Check “Advanced → API base URL”, or download the export with curl and open it here:",
    ],
    command: true,
  },
  {
    kind: "cut",
    test: (e) => /cut short|truncat|incomplete|ended (early|before)|unexpected end|connection (was )?(closed|reset)|body/i.test(e?.message ?? ""),
    title: "The download was cut short",
    hints: () => [
      "The connection closed before the whole export arrived, so nothing partial was kept.",
      "Load again; for a large instance, tick “Advanced → fetch in month-sized windows” or pick a shorter date range.",
    ],
  },
  {
    kind: "server",
    test: (e) => (e?.status >= 500 && e?.status < 600) || /\b5\d\d\b|server error|service unavailable|bad gateway|gateway timeout/i.test(e?.message ?? ""),
    title: "The Analytics API is failing",
    hints: () => [
      "The page retried with back-off and gave up. The service may be having trouble; try again in a few minutes.",
      "Large exports may time out: a shorter date range or month-sized windows (under “Advanced”) help.",
    ],
  },
  {
    kind: "network",
    test: (e) => /network|cors|failed to fetch|could not reach|couldn.t reach|refused|unreachable|load failed|cross-origin/i.test(e?.message ?? ""),
    title: "The browser could not reach the API",
    hints: () => [
      "The browser refused or could not make the request (no network, a typo in the base URL, or the API does not allow this page’s origin).",
      "Use a proxy that adds CORS headers: put its https:// address under “Advanced → API base URL”.",
      "Or run the bundled local proxy (`cargo xtask serve --proxy`) and open the page it serves on http://127.0.0.1:8080.",
      "Or download the export with curl and open the file here (nothing leaves your browser):",
    ],
    command: true,
  },
  {
    kind: "bad-request",
    test: (e) => e?.status === 400 || /\b400\b|bad request|invalid (parameter|date|granularity)/i.test(e?.message ?? ""),
    title: "The API rejected the request",
    hints: () => ["Check the dates (start on or before end, YYYY-MM-DD) and the instance URL."],
  },
  {
    kind: "settings",
    test: (e) => /startDate|endDate|YYYY-MM-DD|instance URL|month windows|options\./i.test(e?.message ?? ""),
    title: "Check the connection settings",
    hints: () => ["Correct the field the message names and load again."],
  },
  {
    kind: "input",
    test: (e) => /header|column|export|empty|csv/i.test(e?.message ?? ""),
    title: "This file is not a usable export",
    hints: () => ["Open a CSV export of Sourcegraph Analytics (any granularity)."],
  },
];

/**
 * The panel for an error: `{kind, title, message, hints, command?}`. The message is the client's own
 * (they are written to be actionable); the hints add the ways out.
 */
export function explainError(error, settings = {}) {
  // The module's FetchError carries a stable `code`; the wording tests are for everything else,
  // and for invalid options, which have panels of their own (the base URL, the settings).
  const byCode = CODE_KINDS[error?.code];
  const found = (byCode && byCode !== "settings" && KINDS.find((k) => k.kind === byCode)) ??
    KINDS.find((k) => k.test(error)) ?? {
    kind: "unknown",
    title: "Could not load the usage data",
    hints: () => [],
  };
  const panel = {
    kind: found.kind,
    title: found.title,
    message: String(error?.message || error || "Unknown error"),
    hints: found.hints(settings, error),
  };
  if (found.command && settings.instanceUrl) panel.command = curlCommand(settings);
  return panel;
}
