// A portal embeds <sg-analytics-dashboard> by following docs/embedding.md word for word: its page
// on an origin of its own, with exactly the Content-Security-Policy that page gives (read from
// it), the dashboard's files on the portal's origin or on another one, the API (the mock) on a
// third. And when the policy lacks a source the dashboard needs, the panel names the directive and
// the source to add, instead of suggesting a build step.

import { test, expect } from "@playwright/test";
import path from "node:path";
import { DEMO_TOKEN, expectFetchedThenOffline, mockBase, waitForDashboard, watchConsole } from "./helpers.js";
import { ROOT, portalPolicies, staticServer, withoutSource } from "./servers.js";

test.use({ locale: "en-US" });

const FILES = { "/sg-analytics/www/": path.join(ROOT, "www"), "/sg-analytics/pkg/": path.join(ROOT, "pkg") };

function portalPage(elementSrc, base) {
  return `<!doctype html><html><head><title>Portal</title>
    <script type="module" src="${elementSrc}"></script></head>
    <body><h1>Team portal</h1>
    <sg-analytics-dashboard base-url="${base}" instance-url="demo.sourcegraph.local" granularity="by_user_day"></sg-analytics-dashboard>
    </body></html>`;
}

/**
 * Starts the servers of one way of hosting: `{portal, policy, close}`. `edit` changes the documented
 * policy before it is served (to take a source out).
 */
async function startPortal(hosting, base, edit = (policy) => policy) {
  const apiOrigin = new URL(base).origin;
  const servers = [];
  try {
    if (hosting === "same origin") {
      const policy = edit(portalPolicies({ apiOrigin }).sameOrigin);
      const portal = await staticServer({
        pages: { "/portal.html": portalPage("/sg-analytics/www/element.js", base) },
        mounts: FILES,
        headers: { "content-security-policy": policy },
      });
      servers.push(portal);
      return { portal: portal.url, policy, close: () => Promise.all(servers.map((s) => s.close())) };
    }
    const files = await staticServer({ mounts: FILES, headers: { "access-control-allow-origin": "*" } });
    servers.push(files);
    const policy = edit(portalPolicies({ apiOrigin, moduleOrigin: files.url }).otherOrigin);
    const portal = await staticServer({
      pages: { "/portal.html": portalPage(`${files.url}/sg-analytics/www/element.js`, base) },
      headers: { "content-security-policy": policy },
    });
    servers.push(portal);
    return { portal: portal.url, files: files.url, policy, close: () => Promise.all(servers.map((s) => s.close())) };
  } catch (error) {
    await Promise.all(servers.map((s) => s.close()));
    throw error;
  }
}

async function load(page) {
  await page.getByLabel("Access token").fill(DEMO_TOKEN);
  await page.getByRole("button", { name: "Load usage" }).click();
}

for (const hosting of ["same origin", "another origin"]) {
  test(`a portal with the documented policy, files on ${hosting}: it fetches from the API and opens a file offline`, async ({ page, baseURL }) => {
    const base = mockBase(baseURL, "users=9;days=12");
    const setup = await startPortal(hosting, base);
    try {
      // The portal, the files (on the portal's origin, or on another) and the API on origins of
      // their own, each named in the policy where the docs put it.
      expect(setup.policy).toContain(new URL(baseURL).origin);
      if (setup.files) expect(setup.policy).toContain(setup.files);
      expect(new Set([setup.portal, setup.files ?? setup.portal, new URL(baseURL).origin]).size).toBe(hosting === "same origin" ? 2 : 3);
      const problems = watchConsole(page);
      const response = await page.goto(`${setup.portal}/portal.html`);
      expect(response.headers()["content-security-policy"]).toBe(setup.policy);

      await load(page);
      await waitForDashboard(page);
      await expectFetchedThenOffline(page, base, problems);
    } finally {
      await setup.close();
    }
  });
}

// Each source the documented policy (files on another origin) names for the worker, the wasm file and
// the API, taken out one at a time. (Without the files' origin in script-src, element.js itself
// cannot load, so nothing of the dashboard runs to say so: the browser's console does.)
const NEEDED = [
  { directive: "worker-src", source: () => "blob:", what: "starting the analytics worker" },
  { directive: "script-src", source: () => "'wasm-unsafe-eval'", what: "compiling the WebAssembly module" },
  { directive: "connect-src", source: (s) => s.files, what: "loading the WebAssembly file" },
  { directive: "connect-src", source: (s) => s.api, what: "the request to" },
];

for (const { directive, source, what } of NEEDED) {
  test(`without ${source({ files: "the files' origin", api: "the API's origin" })} in ${directive}, the panel names the directive and the source to add`, async ({ page, baseURL }) => {
    const base = mockBase(baseURL, "users=5;days=5");
    const api = new URL(baseURL).origin;
    let removed = null;
    const setup = await startPortal("another origin", base, (policy) => {
      const files = policy.match(/script-src 'self' (\S+)/)[1];
      removed = source({ files, api });
      const edited = withoutSource(policy, directive, removed);
      expect(edited).not.toBe(policy);
      return edited;
    });
    try {
      await page.goto(`${setup.portal}/portal.html`);
      await load(page);
      const panel = page.locator(".error-panel");
      await expect(panel).toBeVisible();
      await expect(panel).toHaveAttribute("data-kind", "csp");
      await expect(page.locator(".error-title")).toHaveText("The page’s Content-Security-Policy blocked the dashboard");
      await expect(page.locator(".error-message")).toContainText(what);
      await expect(page.locator(".error-message")).toContainText(`its ${directive} directive does not allow ${removed}`);
      const current = setup.policy.split("; ").find((d) => d.split(" ")[0] === directive);
      await expect(page.locator(".error-next")).toHaveText(
        `Next: Add ${removed} to the page’s ${directive} directive, so that it reads: ${current} ${removed}`,
      );
      expect(await panel.textContent()).not.toMatch(/build it first/);
      expect(await panel.textContent()).not.toContain(DEMO_TOKEN);
    } finally {
      await setup.close();
    }
  });
}
