// Printing the dashboard: the print stylesheet (www/styles.css, `@media print`) lays out what is on
// screen as an A4 document. Checked at the width Chromium prints on (A4 less 12 mm margins, 186 mm
// = 703 CSS px), then printed to PDF.

import { test, expect } from "@playwright/test";
import path from "node:path";
import { FIXTURES, waitForDashboard } from "./helpers.js";

test.use({ locale: "en-US" });

/** A4 less the stylesheet's 12 mm margins, in CSS pixels (96 per inch). */
const PRINT_WIDTH = Math.floor(((210 - 24) / 25.4) * 96);

/** What sticks out to the right of the printable width: elements of the view, with their right edge. */
async function overflowing(page, selector) {
  return page.locator(selector).evaluateAll(
    (els, width) =>
      els
        .filter((el) => el.getClientRects().length > 0)
        .map((el) => ({ what: `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}`, right: Math.round(el.getBoundingClientRect().right), scroll: el.scrollWidth - el.clientWidth }))
        .filter((box) => box.right > width + 1 || box.scroll > 1),
    PRINT_WIDTH,
  );
}

async function printedPages(page) {
  const pdf = await page.pdf({ format: "A4" });
  const text = pdf.toString("latin1");
  expect(text.slice(0, 5)).toBe("%PDF-");
  // Every page is A4: 210 × 297 mm, 595 × 842 points (Chromium rounds to whole hundredths of an inch).
  const boxes = [...text.matchAll(/\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/g)].map((m) => [Number(m[1]), Number(m[2])]);
  expect(boxes.length).toBeGreaterThan(0);
  for (const [w, h] of boxes) {
    expect(Math.abs(w - 595.3)).toBeLessThan(1.5);
    expect(Math.abs(h - 841.9)).toBeLessThan(1.5);
  }
  return (text.match(/\/Type\s*\/Page[^s]/g) ?? []).length;
}

test("the usage view prints on A4: no controls that only act, every card, chart and column on the page's width", async ({ page }) => {
  await page.setViewportSize({ width: PRINT_WIDTH, height: 1000 });
  await page.goto("/");
  await page.getByLabel("Open a CSV export").setInputFiles(path.join(FIXTURES, "by_user_day.csv"));
  await waitForDashboard(page);
  await expect(page.locator("table.grid tbody tr")).toHaveCount(25);
  // On screen at this width the grouped table scrolls sideways: its columns do not fit.
  expect((await overflowing(page, ".table-card .table-scroll")).length).toBe(1);

  await page.emulateMedia({ media: "print" });
  for (const gone of [".sources", ".tabs", ".downloads", ".report-button", ".pager"]) {
    for (const el of await page.locator(gone).all()) await expect(el).toBeHidden();
  }
  await expect(page.locator(".card")).toHaveCount(8);
  for (const el of await page.locator(".card, .view-range").all()) await expect(el).toBeVisible();
  await expect(page.locator(".chart-card canvas").first()).toBeVisible();
  // The filters stay: they say what the figures are of.
  await expect(page.locator(".filter-bar")).toBeVisible();
  // Nothing past the right margin, and no table that would need scrolling: every column is printed.
  expect(await overflowing(page, ".dashboard, .card, .chart-card, .table-scroll, table.grid, .panel")).toEqual([]);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PRINT_WIDTH);
  // One page of cards and charts; the table's 25 users on the next ones.
  const pages = await printedPages(page);
  expect(pages).toBeGreaterThanOrEqual(2);
  expect(pages).toBeLessThanOrEqual(4);
});

test("the Adoption view prints on A4 too, with stickiness and feature depth", async ({ page }) => {
  await page.setViewportSize({ width: PRINT_WIDTH, height: 1000 });
  await page.goto("/#view=adoption&period=week");
  await page.getByLabel("Open a CSV export").setInputFiles(path.join(FIXTURES, "by_user_day.csv"));
  await waitForDashboard(page);
  await expect(page.locator("table.features-table tbody tr").first()).toBeVisible();
  await page.emulateMedia({ media: "print" });
  for (const el of await page.locator(".stickiness-card canvas, .features-card canvas, table.retention-table").all()) await expect(el).toBeVisible();
  for (const el of await page.locator(".adoption-view .downloads").all()) await expect(el).toBeHidden();
  expect(await overflowing(page, ".adoption-view .panel, .adoption-view canvas, .adoption-view .table-scroll")).toEqual([]);
  expect(await printedPages(page)).toBeGreaterThanOrEqual(2);
});
