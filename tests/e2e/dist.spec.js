// The standalone page as `cargo xtask dist` ships it, on a plain static host: no server of ours and
// no CSP header, only the <meta> policy of index.html. It loads, fetches from the API (the mock, on
// another origin) and opens a file offline without any violation of that policy.

import { test, expect } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import { connect, expectFetchedThenOffline, mockBase, watchConsole } from "./helpers.js";
import { ROOT, staticServer } from "./servers.js";

test.use({ locale: "en-US" });

// `cargo xtask test` makes a fresh dist and passes it in SG_DIST_DIR.
const DIST = process.env.SG_DIST_DIR ?? path.join(ROOT, "dist");

test("dist/ on a plain static host works under the policy of its <meta> tag", async ({ page, baseURL }) => {
  expect(fs.existsSync(path.join(DIST, "index.html")), `${DIST} holds no dist: run \`cargo xtask dist\``).toBe(true);
  const host = await staticServer({ mounts: { "/": DIST } });
  try {
    const problems = watchConsole(page);
    const response = await page.goto(`${host.url}/`);
    expect(response.headers()["content-security-policy"]).toBeUndefined();
    expect(await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content")).toContain("worker-src");

    const base = mockBase(baseURL, "users=9;days=12");
    expect(new URL(base).origin).not.toBe(host.url);
    await connect(page, { base, granularity: "by_user_day" });
    await expectFetchedThenOffline(page, base, problems);

    // The <meta> policy is in force: an image from a source it does not list is refused.
    const refused = await page.evaluate(
      () =>
        new Promise((resolve) => {
          document.addEventListener("securitypolicyviolation", (event) => resolve(event.effectiveDirective), { once: true });
          const img = new Image();
          img.src = "http://127.0.0.1:9/refused.png";
        }),
    );
    expect(refused).toBe("img-src");
  } finally {
    await host.close();
  }
});

test("dist/ on a static host at 127.0.0.1 is not taken for the local demo: no mock answered the page's question", async ({ page }) => {
  const host = await staticServer({ mounts: { "/": DIST } });
  try {
    const asked = page.waitForRequest((request) => request.url() === `${host.url}/.well-known/sg-analytics-local`);
    await page.goto(`${host.url}/`);
    await expect(page.getByRole("button", { name: "Load usage" })).toBeVisible();
    // Nothing of the demo: no instance, no base URL (the module's default API), no demo token.
    await expect(page.getByLabel("Instance URL")).toHaveValue("");
    await page.locator("details.advanced > summary").click();
    await expect(page.getByLabel("API base URL")).toHaveValue("");
    await expect(page.getByText("Local demo server detected")).toBeHidden();
    await expect(page.getByRole("button", { name: "Use demo token" })).toBeHidden();
    // It asked, and the static host's 404 said no.
    expect((await (await asked).response()).status()).toBe(404);
  } finally {
    await host.close();
  }
});
