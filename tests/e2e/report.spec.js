// The report to share, as a manager opens it: the file `sg-analytics report` writes, opened from
// disk in Chromium with JavaScript disabled. It must load nothing but itself, state what it is
// of, hold the numbers `sg-analytics summarize --format json` gives for the same filter, and print
// on A4. The page's "Download report" is the same file, for the loaded data and the view's filter.

import { test, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { INSTANCE, cardText, connect, fetchExportRows, mockBase, waitForDashboard } from "./helpers.js";
import { ROOT } from "./servers.js";

// The page runs 14 hours ahead of UTC, so a report dated by the browser's own day would show
// another date than the CLI's for most of each day.
test.use({ timezoneId: "Pacific/Kiritimati" });

/** The CLI, built by cargo if it is not yet (the gate's native tests have built it). */
const cli = (args) => execFileSync("cargo", ["run", "--quiet", "--bin", "sg-analytics", "--", ...args], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });

test("the report opens offline without JavaScript, holds summarize's numbers and prints on A4", async ({ browser }) => {
  test.setTimeout(300_000); // cargo may build the CLI first on a busy machine
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sg-report-"));
  const file = path.join(dir, "report.html");
  const fixture = path.join(ROOT, "tests/fixtures/by_user_day.csv");
  const filter = ["--from", "2025-03-05", "--to", "2025-04-10"]; // a Wednesday to a Thursday: partial weeks at both ends
  cli(["report", fixture, "-o", file, "--instance-name", "demo.sourcegraph.example", "--period", "week", ...filter]);
  const summary = JSON.parse(cli(["summarize", fixture, ...filter, "--format", "json"]));
  const growth = JSON.parse(cli(["growth", fixture, ...filter, "--period", "week", "--format", "json"]));

  const { page, context } = await openOffline(browser, file);
  await expect(page.locator('[data-field="instance"]')).toHaveText("demo.sourcegraph.example");
  await expect(page.locator('[data-field="range"]')).toHaveText("2025-03-05 to 2025-04-10");
  await expect(page.locator('[data-field="granularity"]')).toHaveText(summary.input.granularity);
  await expect(page.locator('[data-field="filters"]')).toHaveText("none");

  // The cards: each value is the summary's total, shown as the report formats it.
  const cards = { activeUsers: null, avgDau: null, hoursSaved: null, "Combined CAR": null, "Chat Events": null, Searches: null };
  for (const name of Object.keys(cards)) {
    const value = page.locator(`.card[data-metric="${name}"] .value`);
    await expect(value).toHaveCount(1);
    expect(Number(await value.getAttribute("data-value"))).toBeCloseTo(summary.totals[name], 9);
    cards[name] = (await value.textContent()).replace("*", "");
  }
  const grouped = (n) => new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }).format(n);
  expect(cards.activeUsers).toBe(grouped(summary.totals.activeUsers));
  expect(cards["Chat Events"]).toBe(grouped(summary.totals["Chat Events"]));
  expect(cards["Combined CAR"]).toBe(`${(100 * summary.totals["Combined CAR"]).toFixed(1)}%`);
  expect(cards.avgDau).toBe(summary.totals.avgDau.toFixed(2));

  // The growth table: the same periods and active users as `growth --format json`, partial weeks
  // hatched, the first called the baseline.
  const rows = page.locator("section", { has: page.locator("h2", { hasText: /^Growth$/ }) }).locator("tbody tr");
  await expect(rows).toHaveCount(growth.periods.length);
  expect(growth.periods.map((p) => p.partial)).toEqual([true, ...Array(growth.periods.length - 2).fill(false), true]);
  for (const [i, p] of growth.periods.entries()) {
    const cells = await rows.nth(i).locator("td").allTextContents();
    expect(cells[0]).toBe(i === 0 ? `${p.period} (baseline)` : p.period);
    expect(cells[1]).toBe(grouped(p.activeUsers));
    expect(await rows.nth(i).getAttribute("class")).toBe(p.partial ? "partial" : null);
  }

  // Printable: the print stylesheet applies, and Chromium lays it out on A4 pages.
  await page.emulateMedia({ media: "print" });
  const pdf = await page.pdf({ format: "A4", printBackground: true });
  expect(pdf.subarray(0, 5).toString("latin1")).toBe("%PDF-");
  const pages = (pdf.toString("latin1").match(/\/Type\s*\/Page[^s]/g) ?? []).length;
  expect(pages).toBeGreaterThan(1);
  await context.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Opens a report file from disk with JavaScript disabled; fails if it asks for anything but the
 * file itself (no script, style, font, image or beacon from anywhere).
 */
async function openOffline(browser, file) {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const url = pathToFileURL(file).href;
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(url);
  expect(requests).toEqual([url]);
  expect(await page.locator("script, link, iframe, img, object, embed").count()).toBe(0);
  return { page, context };
}

test("the page's Download report: the loaded data under the view's filter, opened without JavaScript, its cards the page's", async ({ page, browser, baseURL }) => {
  const base = mockBase(baseURL, "users=40;days=60");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day" });
  const days = [...new Set((await fetchExportRows(page.request, base, { granularity: "by_user_day" })).map((r) => r["Timestamp Date"]))].sort();
  const [from, to] = [days[9], days[45]];
  await page.getByLabel("From", { exact: true }).fill(from);
  await page.getByLabel("To", { exact: true }).fill(to);
  await expect(page).toHaveURL(new RegExp(`to=${to}`));
  await expect(page.locator(".view-range")).toContainText(from);
  const shown = {};
  for (const metric of ["activeUsers", "avgDau", "hoursSaved", "Combined CAR"]) shown[metric] = await cardText(page, metric);

  const before = new Date().toISOString().slice(0, 10);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download report" }).click()]);
  const after = new Date().toISOString().slice(0, 10);
  expect(download.suggestedFilename()).toMatch(new RegExp(`^sg-analytics_${INSTANCE.replaceAll(".", "\\.")}_by_user_day_${from}_to_${to}.*_report\\.html$`));
  await expect(page.locator(".status")).toContainText("_report.html");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sg-page-report-"));
  const file = path.join(dir, "report.html");
  fs.copyFileSync(await download.path(), file);

  const { page: report, context } = await openOffline(browser, file);
  await expect(report.locator('[data-field="instance"]')).toHaveText(INSTANCE);
  await expect(report.locator('[data-field="range"]')).toHaveText(`${from} to ${to}`);
  await expect(report.locator('[data-field="granularity"]')).toHaveText("by_user_day");
  // The mock's registry marks service accounts: the page leaves them out by default, and so does
  // its report.
  await expect(report.locator('[data-field="filters"]')).toHaveText("service accounts left out");
  // The day it was made in UTC, as the CLI states it (whatever the browser's time zone).
  expect([before, after]).toContain(await report.locator('[data-field="generated"]').textContent());
  await expect(report.locator(".meta", { has: report.locator('[data-field="generated"]') })).toContainText("(UTC)");
  // Each card: the report's own number, shown as the page shows it, is the page's card.
  const value = async (metric) => Number(await report.locator(`.card[data-metric="${metric}"] .value`).getAttribute("data-value"));
  const en = (digits) => new Intl.NumberFormat("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  expect(en(0).format(await value("activeUsers"))).toBe(shown.activeUsers);
  expect(en(1).format(await value("avgDau"))).toBe(shown.avgDau);
  expect(en(1).format(await value("hoursSaved"))).toBe(shown.hoursSaved);
  expect(`${en(1).format(100 * (await value("Combined CAR")))}%`).toBe(shown["Combined CAR"]);
  await context.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a report of an opened file names the file, and a month export's report says which sections need days", async ({ page, browser }) => {
  await page.goto("/");
  const months =
    "Instance user ID,User Email,Username,Active Sourcegraph User,Timestamp Month,Chat Events\n" +
    "1,a@x.io,ann,true,2025-01-01,1\n2,b@x.io,bob,true,2025-01-01,1\n1,a@x.io,ann,true,2025-03-01,2\n";
  await page.getByLabel("Open a CSV export").setInputFiles({ name: "months.csv", mimeType: "text/csv", buffer: Buffer.from(months) });
  await waitForDashboard(page);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download report" }).click()]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sg-page-report-"));
  const file = path.join(dir, "report.html");
  fs.copyFileSync(await download.path(), file);
  const { page: report, context } = await openOffline(browser, file);
  await expect(report.locator('[data-field="instance"]')).toHaveText("months.csv");
  await expect(report.locator('[data-field="granularity"]')).toHaveText("by_user_month");
  // Jan: ann and bob; Mar: ann. Two users active in the range.
  expect(Number(await report.locator('.card[data-metric="activeUsers"] .value').getAttribute("data-value"))).toBe(2);
  await expect(report.locator("section", { has: report.locator("h2", { hasText: /^Stickiness$/ }) })).toContainText("fetch it at the by_user_day");
  await context.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
