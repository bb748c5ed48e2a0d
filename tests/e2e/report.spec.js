// The report to share, as a manager opens it: the file `sg-analytics report` writes, opened from
// disk in Chromium with JavaScript disabled. It must load nothing but itself, state what it is
// of, hold the numbers `sg-analytics summarize --format json` gives for the same filter, and print
// on A4.

import { test, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "./servers.js";

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

  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const url = pathToFileURL(file).href;
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(url);
  // Nothing but the file itself: no script, style, font, image or beacon from anywhere.
  expect(requests).toEqual([url]);
  expect(await page.locator("script, link, iframe, img, object, embed").count()).toBe(0);

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
