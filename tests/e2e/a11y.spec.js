// axe-core (a dev dependency) over every view a manager meets: the connect form, the dashboard with
// its notes, the Adoption view (stickiness and feature depth included), an error panel with its
// details open, a people file refused, an empty view, and the dashboard on a phone. Each must have
// no violation axe can find.

import { test, expect } from "@playwright/test";
import net from "node:net";
import path from "node:path";
import { FIXTURES, axeViolations, connect, mockBase } from "./helpers.js";

test.use({ locale: "en-US", viewport: { width: 1280, height: 900 } });

async function expectNoViolations(page, what) {
  const violations = await axeViolations(page);
  expect(violations, `${what}: ${JSON.stringify(violations, null, 2)}`).toEqual([]);
}

test("the connect form, the dashboard, its notes and the Adoption view", async ({ page, baseURL }) => {
  await page.goto("/");
  await expectNoViolations(page, "connect form");
  await connect(page, { base: mockBase(baseURL, "users=40;days=60"), granularity: "by_user_day" });
  await expect(page.locator(".service-note")).toBeVisible();
  await expectNoViolations(page, "dashboard");
  await page.getByLabel("User", { exact: true }).fill("nobody-at-all");
  await page.getByLabel("User", { exact: true }).press("Enter");
  await expect(page.locator(".empty-note")).toBeVisible();
  await expectNoViolations(page, "empty view");
  await page.getByRole("button", { name: "Reset view" }).click();
  await page.getByRole("button", { name: "Adoption", exact: true }).click();
  await expect(page.locator(".adoption-view table.growth-table tbody tr").first()).toBeVisible();
  // Stickiness and feature depth, with their partial, baseline and small-sample marks.
  await expect(page.locator(".adoption-view table.stickiness-table tbody tr").first()).toBeVisible();
  await expect(page.locator(".adoption-view table.features-table tbody tr .tag.baseline")).toBeVisible();
  await expectNoViolations(page, "Adoption view");
});

test("stickiness and feature depth with partial weeks, the baseline and small samples marked", async ({ page }) => {
  await page.goto("/#view=adoption&period=week");
  await page.getByLabel("Open a CSV export").setInputFiles(path.join(FIXTURES, "..", "..", "fixtures", "engagement.csv"));
  for (const note of [".stickiness-card .partial-note", ".stickiness-card .small-note", ".features-card .baseline-note", ".features-card .small-note"]) {
    await expect(page.locator(note)).toBeVisible();
  }
  await expect(page.locator("table.stickiness-table tr.partial .tag.partial").first()).toBeVisible();
  await expectNoViolations(page, "stickiness and feature depth");
  // A month export: the sections say which export to fetch instead.
  const months = "Instance user ID,Active Sourcegraph User,Timestamp Month,Chat Events\n1,true,2025-01-01,1\n";
  await page.getByLabel("Open a CSV export").setInputFiles({ name: "months.csv", mimeType: "text/csv", buffer: Buffer.from(months) });
  await expect(page.locator(".stickiness-card .engagement-problem")).toBeVisible();
  await expectNoViolations(page, "stickiness and feature depth of a month export");
});

test("error panels, with their details open", async ({ page }) => {
  await page.goto("/");
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  await connect(page, { base: `http://127.0.0.1:${port}`, expectLoaded: false });
  await expect(page.locator(".error-panel")).toHaveAttribute("data-kind", "network");
  await page.locator(".error-detail > summary").click();
  await expectNoViolations(page, "network panel");
  const people = "Instance user ID,Team\n1,Search\n";
  await page.getByLabel("Open a CSV export").setInputFiles({ name: "people.csv", mimeType: "text/csv", buffer: Buffer.from(people) });
  await expect(page.locator(".error-panel")).toHaveAttribute("data-kind", "people-file");
  await expectNoViolations(page, "people file refused");
});

test("the dashboard on a phone", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/");
  await page.getByLabel("Open a CSV export").setInputFiles(path.join(FIXTURES, "by_user_day.csv"));
  await expect(page.locator(".status")).toContainText("Loaded");
  await expectNoViolations(page, "phone dashboard");
});
