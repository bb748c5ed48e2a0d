// The npm package without a bundler: the packed tarball installed offline, then the module, the
// worker helper and the <sg-analytics-dashboard> element loaded from node_modules in Chromium
// through an import map built from the installed package.json's `exports`, under a strict
// Content-Security-Policy that allows that one inline import map by its hash. Without the hash the
// policy refuses the map, nothing of the package runs, and the portal's fallback text inside the
// element says so. About 8 s.

import { test, expect } from "@playwright/test";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { FALLBACK, checkPortal, packAndInstall, portalPage, portalPolicy, portalScript, PACKAGE } from "./package.js";
import { ROOT, staticServer } from "./servers.js";

test.use({ locale: "en-US" });

/** The crate's version, from Cargo.toml's [package] section. */
function crateVersion() {
  const toml = fs.readFileSync(path.join(ROOT, "Cargo.toml"), "utf8");
  return toml.split(/^\[package\]$/m)[1].match(/^version = "([^"]+)"$/m)[1];
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

/** A CSP hash source for an inline script's exact text. */
const sha256 = (text) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

let portal;
let mapText;
test.beforeAll(() => {
  portal = packAndInstall({ "main.js": portalScript() });
  const installed = JSON.parse(fs.readFileSync(path.join(portal.project, "node_modules/sg-analytics/package.json"), "utf8"));
  const map = importMap(installed);
  expect(Object.keys(map.imports).sort()).toEqual(["sg-analytics", "sg-analytics/element", "sg-analytics/worker"]);
  mapText = JSON.stringify(map);
});
test.afterAll(() => portal?.remove());

/** Serves the portal (its page, main.js and node_modules) with `policy`. */
function servePortal(policy) {
  const html = portalPage(`<script type="importmap">${mapText}</script>\n<script type="module" src="/main.js"></script>`);
  return staticServer({ pages: { "/": html }, mounts: { "/": portal.project }, headers: { "content-security-policy": policy } });
}

test("the packed tarball holds every file its entry points need, at the crate's version", () => {
  const { packed, tarball, project } = portal;
  expect(packed.name).toBe("sg-analytics");
  expect(packed.version).toBe(crateVersion());
  const files = packed.files.map((f) => f.path);
  for (const f of ["package.json", "README.md", "pkg/sg_analytics.js", "pkg/sg_analytics_bg.wasm", "pkg/sg_analytics.d.ts", "www/element.js", "www/client.js", "www/worker.js", "www/styles.css", "www/vendor/chart.umd.js", "types/element.d.ts", "types/client.d.ts"]) {
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
  expect(fs.existsSync(path.join(PACKAGE, "package.json"))).toBe(true);

  // Its README says how to install it as it is (the tarball: the name is not on the registry) and
  // what it weighs, within a tenth of the real figures.
  const readme = fs.readFileSync(path.join(project, "node_modules/sg-analytics/README.md"), "utf8");
  expect(readme).not.toMatch(/^\s*npm (install|i) sg-analytics(@\S*)?\s*$/m);
  expect(readme).toMatch(/^cd \.\.\/portal && npm install \S+\.tgz$/m);
  const [, packedKb, unpackedMb] = readme.match(/about (\d+) KB \(([\d.]+) MB unpacked\)/) ?? [];
  expect(Math.abs(Number(packedKb) * 1000 - fs.statSync(tarball).size) / fs.statSync(tarball).size).toBeLessThan(0.1);
  expect(Math.abs(Number(unpackedMb) * 1e6 - packed.unpackedSize) / packed.unpackedSize).toBeLessThan(0.1);
});

test("an import map allowed by its hash: the module, the worker helper and the element load from node_modules under a strict policy", async ({ page, baseURL }) => {
  const policy = portalPolicy(new URL(baseURL).origin).replace("script-src 'self'", `script-src 'self' ${sha256(mapText)}`);
  const host = await servePortal(policy);
  try {
    await checkPortal(page, `${host.url}/`, baseURL);
  } finally {
    await host.close();
  }
});

test("an import map the policy refuses: nothing of the package runs, and the fallback inside the element stays to say so", async ({ page, baseURL }) => {
  const refusals = [];
  page.on("console", (message) => /Content Security Policy/i.test(message.text()) && refusals.push(message.text()));
  const host = await servePortal(portalPolicy(new URL(baseURL).origin));
  try {
    await page.goto(`${host.url}/`);
    await expect.poll(() => refusals.length).toBeGreaterThan(0);
    expect(refusals.join("\n")).toMatch(/inline script/i);
    await expect(page.getByText(FALLBACK)).toBeVisible();
    expect(await page.evaluate(() => Boolean(customElements.get("sg-analytics-dashboard")))).toBe(false);
  } finally {
    await host.close();
  }
});
