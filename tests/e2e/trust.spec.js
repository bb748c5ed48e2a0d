// What a manager reads first must mean what they will say it means: the range stated is the range
// fetched or filtered, errors speak the user's words, an empty view says why (issue "Trusted at
// first sight"; the keyboard path and the phone layout are keyboard.spec.js's).

import { test, expect } from "@playwright/test";
import fs from "node:fs";
import { connect, mockBase, watchConsole } from "./helpers.js";

test.use({ locale: "en-US", viewport: { width: 1280, height: 900 } });

/** Clicks a download button; returns the file's name and text. */
async function download(page, label) {
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: label, exact: true }).click()]);
  return { name: file.suggestedFilename(), text: fs.readFileSync(await file.path(), "utf8") };
}

// Regression: a fetch for 2025-04-01..2025-06-30 at a granularity without dates was titled "all
// dates", and its files named "all-dates".
test("the range fetched is the range stated: title, status, the cards and the file names", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  const base = mockBase(baseURL, "users=12;days=180");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user", startDate: "2025-04-01", endDate: "2025-06-30" });
  await expect(page.locator(".source-meta")).toContainText("2025-04-01 → 2025-06-30");
  await expect(page.locator(".source-meta")).not.toContainText("all dates");
  await expect(page.locator(".status")).toContainText("(2025-04-01 → 2025-06-30)");
  await expect(page.locator(".view-range")).toHaveText("Showing 2025-04-01 → 2025-06-30");
  const grouped = await download(page, "Grouped CSV");
  expect(grouped.name).toBe("sg-analytics_demo.sourcegraph.local_by_user_2025-04-01_to_2025-06-30_by-user.csv");

  // With days: the range asked for, not the first and last day that happen to have rows; a
  // filter's dates then name what is shown.
  await page.locator("details.connect > summary").click();
  await connect(page, { base, granularity: "by_user_day", startDate: "2025-04-01", endDate: "2025-07-31" });
  await expect(page.locator(".source-meta")).toContainText("2025-04-01 → 2025-07-31");
  await page.getByLabel("From", { exact: true }).fill("2025-05-01");
  await expect(page.locator(".view-range")).toHaveText("Showing 2025-05-01 → 2025-07-31");
  const rows = await download(page, "Filtered rows CSV");
  expect(rows.name).toBe("sg-analytics_demo.sourcegraph.local_by_user_day_2025-05-01_to_2025-07-31_rows.csv");
  expect(problems).toEqual([]);
});

// Regression: "planFetch: startDate … is after endDate" named an internal function.
test("dates the fetch cannot use are said in the user's words, with the next step; the detail is folded", async ({ page, baseURL }) => {
  await page.goto("/");
  const requests = [];
  page.on("request", (request) => requests.push(request.url()));
  await connect(page, { base: mockBase(baseURL, "users=5;days=5"), startDate: "2025-06-30", endDate: "2025-04-01", expectLoaded: false });
  const panel = page.locator(".error-panel");
  await expect(page.locator(".error-title")).toHaveText("Check the dates");
  await expect(page.locator(".error-next")).toHaveText("Next: Pick a start date on or before the end date.");
  expect(await panel.innerText()).not.toMatch(/planFetch|startDate|endDate/);
  await page.locator(".error-detail > summary").click();
  await expect(page.locator(".error-technical")).toContainText("after");
  expect(requests.filter((url) => url.includes("/api/"))).toEqual([]);
});

test("a view that keeps no row says why in a sentence, and how to get out of it", async ({ page, baseURL }) => {
  await page.goto("/");
  await connect(page, { base: mockBase(baseURL, "users=8;days=20"), granularity: "by_user_day" });
  await expect(page.locator(".empty-note")).toBeHidden();
  await page.getByLabel("User", { exact: true }).fill("nobody-at-all");
  await page.getByLabel("User", { exact: true }).press("Enter");
  const note = page.locator(".empty-note");
  await expect(note).toBeVisible();
  await expect(note).toContainText("match users matching “nobody-at-all”");
  await expect(note).toContainText("Reset view");
  // The table's empty row says the same.
  await expect(page.locator("table.grid:not(.compact) tbody td.empty-row")).toHaveText(await note.textContent());
  // Dates outside the data: said with the data's own range.
  await page.getByRole("button", { name: "Reset view" }).click();
  await expect(note).toBeHidden();
  await page.getByLabel("From", { exact: true }).fill("2026-01-01");
  await expect(note).toContainText("this export has data from 2025-01-01 to 2025-01-20");
});

test("date presets count back from the data's last day, and the picker says which one the dates are", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  await page.goto("/");
  await connect(page, { base: mockBase(baseURL, "users=10;days=180"), granularity: "by_user_day" });
  const range = page.getByLabel("Range", { exact: true });
  await expect(range).toHaveValue("all");
  // The demo data runs 2025-01-01 → 2025-06-29.
  for (const [label, from, to] of [
    ["Last 30 days", "2025-05-31", "2025-06-29"],
    ["Last 90 days", "2025-04-01", "2025-06-29"],
    ["Last complete month", "2025-05-01", "2025-05-31"],
    ["Last complete quarter", "2025-01-01", "2025-03-31"],
  ]) {
    await range.selectOption({ label });
    await expect(page.getByLabel("From", { exact: true })).toHaveValue(from);
    await expect(page.getByLabel("To", { exact: true })).toHaveValue(to);
    await expect(page.locator(".view-range")).toHaveText(`Showing ${from} → ${to}`);
    await expect(page).toHaveURL(new RegExp(`from=${from}&to=${to}`));
  }
  // Dates of one's own read "Custom"; "All dates" clears them.
  await page.getByLabel("From", { exact: true }).fill("2025-01-10");
  await expect(range).toHaveValue("custom");
  await range.selectOption({ label: "All dates" });
  await expect(page.getByLabel("From", { exact: true })).toHaveValue("");
  await expect(page.locator(".view-range")).toHaveText("Showing 2025-01-01 → 2025-06-29");
  expect(problems).toEqual([]);
});

test("the table reads: the key column stays while the metrics scroll, and the sticky filter bar covers neither its title nor its downloads", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  await page.goto("/");
  await connect(page, { base: mockBase(baseURL, "users=40;days=30"), granularity: "by_user_day_client_language" });
  const scroller = page.locator(".table-card .table-scroll");
  await scroller.evaluate((el) => el.scrollIntoView({ block: "center" }));
  expect(await scroller.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
  await scroller.evaluate((el) => (el.scrollLeft = el.scrollWidth));
  await expect.poll(() => scroller.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0);
  const key = scroller.locator("tbody tr").first().locator("th");
  const box = await scroller.boundingBox();
  const keyBox = await key.boundingBox();
  expect(keyBox.x).toBeGreaterThanOrEqual(box.x - 1);
  // Drawn on top of the cells scrolled under it (the page is inside a shadow root: ask it).
  const onTop = await scroller.evaluate((el, [x, y]) => el.getRootNode().elementFromPoint(x, y)?.closest("th") !== null, [keyBox.x + 5, keyBox.y + keyBox.height / 2]);
  expect(onTop).toBe(true);

  // Scrolled down to the table's rows: its title and downloads stay in view, below the bar.
  await scroller.evaluate((el) => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 40));
  const bar = await page.locator(".filter-bar").boundingBox();
  expect(bar.y).toBeLessThanOrEqual(1); // the bar is stuck at the top
  for (const target of [page.locator("#sga-table-title"), page.getByRole("button", { name: "Grouped CSV" })]) {
    const b = await target.boundingBox();
    expect(b.y).toBeGreaterThanOrEqual(bar.y + bar.height - 1);
    const hit = await target.evaluate((el) => {
      const r = el.getBoundingClientRect();
      const at = el.getRootNode().elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
      return el === at || el.contains(at);
    });
    expect(hit).toBe(true);
  }
  expect(problems).toEqual([]);
});

// Regression: with thousands of users the new, churned and resurrected bars (tens of users)
// vanished next to the retained ones on a shared scale, and the quick ratio had no line at 1.
test("growth as small multiples: each series on its own scale, the quick ratio read against a line at 1", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  await page.goto("/#view=adoption");
  await connect(page, { base: mockBase(baseURL, "users=80;days=180"), granularity: "by_user_day" });
  const chart = (name) =>
    page.locator(`[data-chart="${name}"] canvas`).evaluate((canvas) => {
      const drawn = window.Chart.getChart(canvas);
      return { data: drawn.data.datasets.map((d) => d.data), labels: drawn.data.datasets.map((d) => d.label), max: drawn.scales.y.max };
    });
  const rows = (await page.locator("table.growth-table tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim()))));
  const column = (i) => rows.map((r) => Number(r[i].replace(/,/g, "")));
  // The growth table's columns: period, active, new, resurrected, retained, churned, quick ratio.
  const [retained, churned] = [column(4), column(5)];
  const churnChart = await chart("growth-churned");
  expect(churnChart.data[0]).toEqual(churned);
  const retainedChart = await chart("growth-retained");
  expect(retainedChart.data[0]).toEqual(retained);
  // Churn's own scale: its tallest bar fills the chart, not a sliver of the retained scale.
  expect(Math.max(...churned)).toBeGreaterThan(0);
  expect(churnChart.max).toBeLessThan(Math.max(...retained));
  expect(churnChart.max).toBeLessThanOrEqual(2 * Math.max(...churned));
  const quick = await chart("growth-quick");
  expect(quick.labels).toEqual(["Quick ratio", "1: as many gained as lost"]);
  expect(quick.data[1].every((v) => v === 1)).toBe(true);
  await expect(page.locator('[data-chart="growth-quick"] canvas')).toHaveAttribute("aria-label", /Above 1, adoption grows/);
  expect(problems).toEqual([]);
});
