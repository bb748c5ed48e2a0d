// A portal built with esbuild from the packed tarball. esbuild does not emit the files a
// `new URL("literal", import.meta.url)` names (the worker, the module, its .wasm file, the
// stylesheet, Chart.js): the portal serves the installed package's folder as it is, and says where
// with the one documented option, `assets-url` on the element (`assetsUrl` for the worker helper;
// `module_or_path` for the module's own init). About 3 s.

import { test } from "@playwright/test";
import path from "node:path";
import { build } from "esbuild";
import { checkPortal, packAndInstall, portalPage, portalPolicy, portalScript } from "./package.js";
import { staticServer } from "./servers.js";

test.use({ locale: "en-US" });

const ASSETS = "/static/sg-analytics/";

let portal;
test.beforeAll(() => {
  portal = packAndInstall({ "main.js": portalScript({ assetsUrl: ASSETS }) });
});
test.afterAll(() => portal?.remove());

test("a portal built with esbuild loads the module, the worker and the element, told where the package's files are", async ({ page, baseURL }) => {
  const out = path.join(portal.project, "dist");
  await build({ absWorkingDir: portal.project, entryPoints: ["main.js"], bundle: true, format: "esm", outdir: out, logLevel: "silent" });
  const html = portalPage('<script type="module" src="/app/main.js"></script>', `assets-url="${ASSETS}"`);
  const host = await staticServer({
    pages: { "/": html },
    mounts: { "/app/": out, [ASSETS]: path.join(portal.project, "node_modules/sg-analytics") },
    headers: { "content-security-policy": portalPolicy(new URL(baseURL).origin) },
  });
  try {
    await checkPortal(page, `${host.url}/`, baseURL);
  } finally {
    await host.close();
  }
});
