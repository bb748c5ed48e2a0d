// The npm package as a portal gets it, shared by npm.spec.js and the bundler specs: `npm pack` of
// what `cargo xtask dist` made, installed from the tarball into a scratch project (offline: the
// package has no dependencies); a small portal that uses the module, the worker helper and the
// element; and the checks that it works in Chromium, the element fetching from the mock.

import { expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { connect, expectedTotals, cardNumber, fetchCountedRows, mockBase, parseCsv, watchConsole } from "./helpers.js";
import { ROOT } from "./servers.js";

// `cargo xtask test` makes a fresh package and passes it in SG_NPM_DIR.
export const PACKAGE = process.env.SG_NPM_DIR ?? path.join(ROOT, "dist-npm");

const npm = (args, cwd) => execFileSync("npm", args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false" } });

/**
 * Packs the package and installs the tarball into a new project (`files`: more files of the
 * project, path → text); returns `{scratch, project, packed, tarball, remove}`.
 */
export function packAndInstall(files = {}) {
  expect(fs.existsSync(path.join(PACKAGE, "package.json")), `${PACKAGE} holds no package: run \`cargo xtask dist\``).toBe(true);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sg-npm-"));
  const [packed] = JSON.parse(npm(["pack", PACKAGE, "--json", "--pack-destination", scratch], scratch));
  const tarball = path.join(scratch, packed.filename);
  const project = path.join(scratch, "portal");
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "portal", private: true, type: "module" }));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(project, name), text);
  npm(["install", "--offline", "--no-audit", "--no-fund", tarball], project);
  return { scratch, project, packed, tarball, remove: () => fs.rmSync(scratch, { recursive: true, force: true }) };
}

export const CSV = "Instance user ID,Active Sourcegraph User,Timestamp Date,Combined CAR,Chat Events\n1,true,2025-01-02,0.2290,3\n2,false,2025-01-03,0.0000,4\n";

/**
 * The portal's script: the module on the main thread, the worker helper, then the element. With
 * `assetsUrl` (the one option a bundler that does not emit the package's files needs), the module
 * is told where its .wasm file is and the worker helper where the package's files are.
 */
export function portalScript({ assetsUrl } = {}) {
  const at = (file) => JSON.stringify(assetsUrl + file);
  return `import init, { Report } from "sg-analytics";
import { AnalyticsClient } from "sg-analytics/worker";
import "sg-analytics/element";
await init(${assetsUrl ? `{ module_or_path: ${at("pkg/sg_analytics_bg.wasm")} }` : ""});
const csv = ${JSON.stringify(CSV)};
const report = Report.fromCsv(csv);
const client = new AnalyticsClient(${assetsUrl ? `{ assetsUrl: ${JSON.stringify(assetsUrl)} }` : ""});
const opened = await client.openFile(new File([csv], "export.csv", { type: "text/csv" }));
const summary = await client.summarize({});
client.terminate();
window.results = { rows: report.info().rows, filtered: report.filteredCsv(), workerRows: opened.info.rows, workerChat: summary.totals["Chat Events"] };
window.elementDefined = Boolean(customElements.get("sg-analytics-dashboard"));
`;
}

/**
 * What the portal writes inside the element, as the package's README advises: shown until the
 * element upgrades (its shadow root has no slot, so the light DOM is hidden then), and for good
 * when its script never runs (blocked by the page's policy, or not found).
 */
export const FALLBACK = "Loading the usage dashboard… If this message stays, the dashboard's script did not run: the browser's console says why (often the page's Content-Security-Policy).";

/** The portal's page: `head` loads the script; the element (with `attributes`) in the body. */
export function portalPage(head, attributes = "") {
  return `<!doctype html><html><head><meta charset="utf-8"><title>portal</title>
${head}
</head><body><sg-analytics-dashboard instance-url="demo.sourcegraph.local"${attributes ? ` ${attributes}` : ""}><p class="fallback">${FALLBACK}</p></sg-analytics-dashboard></body></html>
`;
}

/**
 * The policy a portal serving the built files on its own origin sends: nothing inline, the API
 * (here the mock, on another origin) the one other source.
 */
export function portalPolicy(apiOrigin) {
  return `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self' ${apiOrigin}; worker-src blob:`;
}

/**
 * Records every request of the page and its workers to `origin` (the portal's files) that failed or
 * answered 4xx/5xx. (The API's are left out: the module ends a request it has read to the end, and
 * a browser may report that as aborted.)
 */
export function watchRequests(context, origin) {
  const failed = [];
  const ours = (url) => new URL(url).origin === origin;
  context.on("requestfailed", (request) => ours(request.url()) && failed.push(`${request.url()}: ${request.failure()?.errorText}`));
  context.on("response", (response) => {
    if (ours(response.url()) && response.status() >= 400) failed.push(`${response.url()}: ${response.status()}`);
  });
  return failed;
}

/**
 * Opens the portal at `url` and checks it on the first try: the module and the worker helper
 * answer, the element is defined, then loads the mock's export and shows its numbers and a chart,
 * with no failed request, no CSP violation and no uncaught error.
 */
export async function checkPortal(page, url, baseURL) {
  const failed = watchRequests(page.context(), new URL(url).origin);
  const problems = watchConsole(page);
  await page.goto(url);
  await page.waitForFunction(() => window.elementDefined === true && window.results);
  // Upgraded: the portal's fallback text gave way to the dashboard.
  await expect(page.locator("p.fallback")).toBeHidden();
  const results = await page.evaluate(() => window.results);
  expect(results.rows).toBe(2);
  expect(results.workerRows).toBe(2);
  expect(results.workerChat).toBe(7);
  expect(parseCsv(results.filtered)).toEqual(parseCsv(CSV));

  // The element fetches from the mock (another origin) and shows the export.
  const base = mockBase(baseURL, "users=7;days=9");
  await connect(page, { base, granularity: "by_user_day" });
  const rows = await fetchCountedRows(page.request, base, { granularity: "by_user_day" });
  expect(await cardNumber(page, "users")).toBe(expectedTotals(rows).users);
  await expect(page.locator('[data-chart="time"] canvas')).toBeVisible();
  // Its stylesheet applied inside the shadow root (the dashboard's grid is not a plain block).
  expect(await page.locator(".dashboard").evaluate((el) => getComputedStyle(el).display)).not.toBe("block");
  expect(failed).toEqual([]);
  expect(problems).toEqual([]);
}
