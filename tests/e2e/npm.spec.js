// The npm package as a portal gets it: `npm pack` of what `cargo xtask dist` made, installed from
// the tarball into a scratch project (offline: the package has no dependencies), then the module,
// the worker helper and the <sg-analytics-dashboard> element loaded from node_modules in Chromium,
// through an import map built from the installed package.json's `exports`.

import { test, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { connect, expectedTotals, cardNumber, fetchExportRows, mockBase, parseCsv, watchConsole } from "./helpers.js";
import { ROOT, staticServer } from "./servers.js";

test.use({ locale: "en-US" });

// `cargo xtask test` makes a fresh package and passes it in SG_NPM_DIR.
const PACKAGE = process.env.SG_NPM_DIR ?? path.join(ROOT, "dist-npm");

/** The crate's version, from Cargo.toml's [package] section. */
function crateVersion() {
  const toml = fs.readFileSync(path.join(ROOT, "Cargo.toml"), "utf8");
  return toml.split(/^\[package\]$/m)[1].match(/^version = "([^"]+)"$/m)[1];
}

const npm = (args, cwd) => execFileSync("npm", args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false" } });

/** Packs the package and installs the tarball into a new project; returns paths and the pack report. */
function packAndInstall() {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sg-npm-"));
  const [packed] = JSON.parse(npm(["pack", PACKAGE, "--json", "--pack-destination", scratch], scratch));
  const tarball = path.join(scratch, packed.filename);
  const project = path.join(scratch, "portal");
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "portal", private: true, type: "module" }));
  npm(["install", "--offline", "--no-audit", "--no-fund", tarball], project);
  return { scratch, project, packed, tarball };
}

/** An import map from the installed package's `exports` (bare name → its file under /node_modules/). */
function importMap(installed) {
  const imports = {};
  for (const [key, target] of Object.entries(installed.exports)) {
    const file = typeof target === "string" ? target : target.default;
    if (!file.endsWith(".js")) continue;
    imports[installed.name + key.slice(1)] = `/node_modules/${installed.name}/${file.slice(2)}`;
  }
  return { imports };
}

const CSV = "Instance user ID,Active Sourcegraph User,Timestamp Date,Combined CAR,Chat Events\n1,true,2025-01-02,0.2290,3\n2,false,2025-01-03,0.0000,4\n";

test("the packed tarball installs offline and its module, worker helper and element load from node_modules", async ({ page, baseURL }) => {
  expect(fs.existsSync(path.join(PACKAGE, "package.json")), `${PACKAGE} holds no package: run \`cargo xtask dist\``).toBe(true);
  const { scratch, project, packed, tarball } = packAndInstall();
  try {
    // The tarball: the crate's version, and every file the entry points need.
    expect(packed.name).toBe("sg-analytics");
    expect(packed.version).toBe(crateVersion());
    const files = packed.files.map((f) => f.path);
    for (const f of ["package.json", "README.md", "pkg/sg_analytics.js", "pkg/sg_analytics_bg.wasm", "pkg/sg_analytics.d.ts", "www/element.js", "www/client.js", "www/worker.js", "www/vendor/chart.umd.js", "types/element.d.ts", "types/client.d.ts"]) {
      expect(files).toContain(f);
    }
    console.log(`npm pack: ${packed.filename}, ${fs.statSync(tarball).size} bytes packed, ${packed.unpackedSize} unpacked, ${files.length} files`);

    const installed = JSON.parse(fs.readFileSync(path.join(project, "node_modules/sg-analytics/package.json"), "utf8"));
    expect(installed.type).toBe("module");
    for (const [key, target] of Object.entries(installed.exports)) {
      for (const file of typeof target === "string" ? [target] : Object.values(target)) {
        expect(fs.existsSync(path.join(project, "node_modules/sg-analytics", file)), `${key} → ${file}`).toBe(true);
      }
    }
    const map = importMap(installed);
    expect(Object.keys(map.imports).sort()).toEqual(["sg-analytics", "sg-analytics/element", "sg-analytics/worker"]);

    const html = `<!doctype html><meta charset="utf-8"><title>portal</title>
<script type="importmap">${JSON.stringify(map)}</script>
<script type="module">
import init, { Report } from "sg-analytics";
import { AnalyticsClient } from "sg-analytics/worker";
await init();
const csv = ${JSON.stringify(CSV)};
const report = Report.fromCsv(csv);
const client = new AnalyticsClient();
const opened = await client.openFile(new File([csv], "export.csv", { type: "text/csv" }));
const summary = await client.summarize({});
client.terminate();
window.results = { rows: report.info().rows, filtered: report.filteredCsv(), workerRows: opened.info.rows, workerChat: summary.totals["Chat Events"] };
await import("sg-analytics/element");
window.elementDefined = Boolean(customElements.get("sg-analytics-dashboard"));
</script>
<sg-analytics-dashboard instance-url="demo.sourcegraph.local"></sg-analytics-dashboard>`;
    const host = await staticServer({ pages: { "/": html }, mounts: { "/node_modules/": path.join(project, "node_modules") } });
    try {
      const problems = watchConsole(page);
      await page.goto(`${host.url}/`);
      await page.waitForFunction(() => window.elementDefined === true);
      const results = await page.evaluate(() => window.results);
      expect(results.rows).toBe(2);
      expect(results.workerRows).toBe(2);
      expect(results.workerChat).toBe(7);
      expect(parseCsv(results.filtered)).toEqual(parseCsv(CSV));

      // The element, from node_modules, fetches from the mock (another origin) and shows the export.
      const base = mockBase(baseURL, "users=7;days=9");
      await connect(page, { base, granularity: "by_user_day" });
      const rows = await fetchExportRows(page.request, base, { granularity: "by_user_day" });
      expect(await cardNumber(page, "users")).toBe(expectedTotals(rows).users);
      await expect(page.locator('[data-chart="time"] canvas')).toBeVisible();
      expect(problems).toEqual([]);
    } finally {
      await host.close();
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
});
