// A portal built with webpack 5 from the packed tarball, unchanged and with no option, served by a
// plain static host under a strict policy. The package's files (worker, module, .wasm, stylesheet,
// Chart.js) reach the browser because each is named by a `new URL("literal", import.meta.url)`,
// which webpack emits as an asset and rewrites. About 10–45 s (a production build, with terser), the slowest of the bundler specs.

import { test, expect } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import webpack from "webpack";
import { checkPortal, packAndInstall, portalPage, portalPolicy, portalScript } from "./package.js";
import { staticServer } from "./servers.js";

test.use({ locale: "en-US" });

let portal;
test.beforeAll(() => {
  portal = packAndInstall({ "main.js": portalScript() });
});
test.afterAll(() => portal?.remove());

/** Runs webpack with `config`; resolves with its stats, rejects with its errors. */
function pack(config) {
  return new Promise((resolve, reject) =>
    webpack(config, (error, stats) => {
      if (error) reject(error);
      else if (stats.hasErrors()) reject(new Error(stats.toString({ all: false, errors: true })));
      else resolve(stats);
    }),
  );
}

test("a portal built with webpack 5 loads the module, the worker and the element from its own files", async ({ page, baseURL }) => {
  // A production build: 10 s on a quiet machine, 46 s seen on a busy one.
  test.setTimeout(180_000);
  const out = path.join(portal.project, "dist");
  await pack({ mode: "production", context: portal.project, entry: "./main.js", output: { path: out, filename: "main.js" }, performance: { hints: false } });
  const emitted = fs.readdirSync(out);
  for (const name of [/\.wasm$/, /\.css$/]) expect(emitted.some((f) => name.test(f)), `${name} in ${emitted}`).toBe(true);
  fs.writeFileSync(path.join(out, "index.html"), portalPage('<script defer src="./main.js"></script>'));
  const host = await staticServer({ mounts: { "/": out }, headers: { "content-security-policy": portalPolicy(new URL(baseURL).origin) } });
  try {
    await checkPortal(page, `${host.url}/`, baseURL);
  } finally {
    await host.close();
  }
});
