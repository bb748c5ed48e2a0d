// A portal built with Vite from the packed tarball, unchanged and with no option: `vite build`
// served by a plain static host under a strict policy, and the `vite` dev server. The package's
// files (worker, module, .wasm, stylesheet, Chart.js) reach the browser because each is named by a
// `new URL("literal", import.meta.url)` that Vite emits and rewrites. About 5 s for both.

import { test, expect } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import { build, createServer } from "vite";
import { checkPortal, packAndInstall, portalPage, portalPolicy, portalScript } from "./package.js";
import { staticServer } from "./servers.js";

test.use({ locale: "en-US" });

let portal;
test.beforeAll(() => {
  portal = packAndInstall({ "main.js": portalScript(), "index.html": portalPage('<script type="module" src="./main.js"></script>') });
});
test.afterAll(() => portal?.remove());

const quiet = (project) => ({ root: project, configFile: false, logLevel: "silent", clearScreen: false });

test("a portal built with vite build loads the module, the worker and the element from its own files", async ({ page, baseURL }) => {
  await build({ ...quiet(portal.project), build: { outDir: "dist" } });
  const out = path.join(portal.project, "dist");
  // Every file the package needs was emitted by Vite, beside the portal's own.
  const emitted = fs.readdirSync(path.join(out, "assets"));
  for (const name of [/^worker-.*\.js$/, /^sg_analytics-.*\.js$/, /^sg_analytics_bg-.*\.wasm$/, /^styles-.*\.css$/, /^chart\.umd-.*\.js$/]) {
    expect(emitted.some((f) => name.test(f)), `${name} in ${emitted}`).toBe(true);
  }
  const host = await staticServer({ mounts: { "/": out }, headers: { "content-security-policy": portalPolicy(new URL(baseURL).origin) } });
  try {
    await checkPortal(page, `${host.url}/`, baseURL);
  } finally {
    await host.close();
  }
});

test("a portal on the vite dev server loads the module, the worker and the element", async ({ page, baseURL }) => {
  const server = await createServer({ ...quiet(portal.project), server: { host: "127.0.0.1", port: 0, strictPort: false, hmr: false } });
  await server.listen();
  try {
    const url = server.resolvedUrls.local[0];
    await checkPortal(page, url, baseURL);
  } finally {
    await server.close();
  }
});
