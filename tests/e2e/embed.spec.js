// <sg-analytics-dashboard> dropped into a portal page with one script tag and one element.

import { test, expect } from "@playwright/test";
import { DEMO_TOKEN, cardNumber, expectedTotals, fetchCountedRows, mockBase, periodKey, waitForDashboard, watchConsole } from "./helpers.js";
import { portalPolicies } from "./servers.js";

test.use({ locale: "en-US" });

test("a portal embeds the dashboard with one script and one element", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  const base = mockBase(baseURL, "users=9;days=12");
  // A portal page on the same origin: no Chart.js script, no stylesheet, its own CSS and hash.
  await page.route(`${baseURL}/portal.html`, (route) =>
    route.fulfill({
      contentType: "text/html",
      // The policy docs/embedding.md gives for files on the portal's own origin (here the API's too).
      headers: { "content-security-policy": portalPolicies({ apiOrigin: new URL(baseURL).origin }).sameOrigin },
      body: `<!doctype html><html><head><title>Portal</title>
        <script type="module" src="/www/element.js"></script></head>
        <body><h1>Team portal</h1>
        <sg-analytics-dashboard base-url="${base}" instance-url="demo.sourcegraph.local" granularity="by_user_day"></sg-analytics-dashboard>
        </body></html>`,
    }),
  );
  await page.goto("/portal.html#portal-route");
  await page.evaluate(() => {
    window.__loaded = [];
    document.addEventListener("sg-analytics-loaded", (event) => window.__loaded.push(event.detail));
  });
  await expect(page.getByLabel("Instance URL")).toHaveValue("demo.sourcegraph.local");
  await expect(page.getByLabel("Granularity")).toHaveValue("by_user_day");
  await page.locator("details.advanced > summary").click();
  await expect(page.getByLabel("API base URL")).toHaveValue(base);
  await page.getByLabel("Access token").fill(DEMO_TOKEN);
  await page.getByRole("button", { name: "Load usage" }).click();
  await waitForDashboard(page);

  const rows = await fetchCountedRows(page.request, base, { granularity: "by_user_day" });
  expect(await cardNumber(page, "users")).toBe(expectedTotals(rows).users);
  // The element brought Chart.js itself and drew; the portal's URL is left alone.
  expect(await page.evaluate(() => typeof window.Chart)).toBe("function");
  await expect(page.locator('[data-chart="time"] canvas')).toBeVisible();
  // The credits fetched with the export show inside the element too.
  await expect(page.locator(".credits-card")).toHaveAttribute("data-state", "table");
  await expect(page.locator("table.credits-table tbody tr").first()).toBeVisible();
  await page.getByLabel("Group by").selectOption("week");
  await expect(page.locator(".page-info")).toContainText("groups");
  expect(new URL(page.url()).hash).toBe("#portal-route");
  // The Adoption view works inside the element too, and leaves the portal's URL alone.
  await page.getByRole("button", { name: "Adoption", exact: true }).click();
  await expect(page.locator("table.growth-table tbody tr").first()).toBeVisible();
  await expect(page.locator("table.inactive-table tbody tr").first()).toBeVisible();
  await page.getByLabel("Period").selectOption("week");
  await expect(page.locator("table.growth-table tbody tr")).toHaveCount(new Set(rows.map((r) => periodKey(r["Timestamp Date"], "week"))).size);
  expect(new URL(page.url()).hash).toBe("#portal-route");
  const loaded = await page.evaluate(() => window.__loaded);
  expect(loaded).toHaveLength(1);
  expect(loaded[0]).toMatchObject({ granularity: "by_user_day", rows: rows.length });
  // The dashboard's styles stay in its shadow root.
  expect(await page.evaluate(() => getComputedStyle(document.querySelector("h1")).fontFamily)).not.toContain("system-ui");
  expect(problems).toEqual([]);
});
