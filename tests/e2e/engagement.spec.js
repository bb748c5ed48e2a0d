// The Adoption view's stickiness and feature depth, on tests/fixtures/engagement.csv, whose numbers
// are worked out by hand below. The export runs from Wednesday 2025-01-01 to Tuesday 2025-01-14, so
// its first week (5 of 7 days) and last week (2 days) are partial. A is active on Jan 1, 2, 6, 7, 8
// and 13; B on Jan 3, 10 and 14 (its Jan 9 row is not active); C's only row is not active.

import { test, expect } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FIXTURES, adoptionReference, connect, fetchCounted, parseCsv, waitForDashboard, watchConsole } from "./helpers.js";

test.use({ locale: "en-US" });

// The crate's fixture, the one the CLI tests (tests/cli.rs) worked out by hand too.
const ENGAGEMENT = path.join(FIXTURES, "..", "..", "fixtures", "engagement.csv");

/** A period table as text: each row's period, its tags, each cell's number and whether it is marked small. */
async function periodRows(page, table) {
  return page.locator(`table.${table} tbody tr`).evaluateAll((rows) =>
    rows.map((row) => ({
      period: row.cells[0].firstChild.textContent,
      tags: [...row.cells[0].querySelectorAll(".tag")].map((t) => t.textContent),
      cells: [...row.cells].slice(1).map((td) => td.firstChild.textContent),
      small: [...row.cells].slice(1).map((td) => Boolean(td.querySelector(".tag.small-sample"))),
    })),
  );
}

/**
 * What Chart.js was given for a chart of the view: labels, each series' data and label, hatching,
 * point styles; and for a line, which of its segments (point i to i + 1) Chart.js draws dashed.
 */
async function chartData(page, name) {
  return page.locator(`figure[data-chart="${name}"] canvas`).evaluate((canvas) => {
    const chart = globalThis.Chart.getChart(canvas);
    const arr = (value, n) => (Array.isArray(value) ? value : Array(n).fill(value));
    const dashed = (i, n) => {
      const flags = Array(Math.max(0, n - 1)).fill(false);
      for (const run of chart.getDatasetMeta(i).dataset.segments) for (let j = run.start; j < run.end; j++) flags[j] = (run.style?.borderDash?.length ?? 0) > 0;
      return flags;
    };
    return {
      labels: chart.data.labels,
      series: chart.data.datasets.map((d, i) => ({
        label: d.label,
        data: d.data,
        hatched: arr(d.backgroundColor, d.data.length).map((c) => c instanceof CanvasPattern),
        pointStyle: arr(d.pointStyle, d.data.length),
        dashed: (d.type ?? chart.config.type) === "line" ? dashed(i, d.data.length) : null,
      })),
      description: canvas.getAttribute("aria-label"),
    };
  });
}

async function download(page, name) {
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name }).click()]);
  return { name: file.suggestedFilename(), text: fs.readFileSync(await file.path(), "utf8") };
}

async function openAdoption(page, file, hash = "#view=adoption&period=week") {
  await page.goto(`/${hash}`);
  await page.getByLabel("Open a CSV export").setInputFiles(file);
  await waitForDashboard(page);
  await expect(page.locator(".adoption-view")).toBeVisible();
}

test("stickiness by week: DAU/MAU, average DAU and the latest complete week's histogram, with the partial weeks hatched and said", async ({ page }) => {
  const problems = watchConsole(page);
  await openAdoption(page, ENGAGEMENT);
  const card = page.locator(".stickiness-card");
  await expect(card.locator("table.stickiness-table tbody tr")).toHaveCount(3);
  // Week of Dec 30 (Jan 1-5 in the range): A on 2 days, B on 1; 3 user-days over 5 days = 0.6
  // average DAU, ÷ 2 active = 30.0%. Week of Jan 6: A on 3 days, B on 1; 4 over 7 days = 0.571…,
  // ÷ 2 = 28.6%. Week of Jan 13 (2 days): A and B on 1 day each; 2 over 2 = 1.0, ÷ 2 = 50.0%.
  // Every DAU/MAU stands on 2 active users: under the minimum of 50, a small sample.
  expect(await periodRows(page, "stickiness-table")).toEqual([
    { period: "2024-12-30", tags: ["partial"], cells: ["2", "0.6", "30.0%"], small: [false, false, true] },
    { period: "2025-01-06", tags: [], cells: ["2", "0.6", "28.6%"], small: [false, false, true] },
    { period: "2025-01-13", tags: ["partial"], cells: ["2", "1.0", "50.0%"], small: [false, false, true] },
  ]);
  await expect(card.locator(".partial-note")).toHaveText(
    "Hatched (dashed on a line): 2024-12-30 (5 days in the range) and 2025-01-13 (2 days in the range) are partial weeks. The range covers only part of them, so their counts are lower than a whole week's would be: not a drop in use.",
  );
  await expect(card.locator(".small-note")).toContainText("fewer than 50 active users");

  const ratio = await chartData(page, "stickiness-ratio");
  expect(ratio.labels).toEqual(["2024-12-30", "2025-01-06", "2025-01-13"]);
  expect(ratio.series[0].data.map((x) => Number(x.toFixed(4)))).toEqual([0.3, Number((4 / 7 / 2).toFixed(4)), 0.5]);
  expect(ratio.series[0].pointStyle).toEqual(["triangle", "triangle", "triangle"]);
  // Both of the line's segments run into a partial week: both dashed.
  expect(ratio.series[0].dashed).toEqual([true, true]);
  expect(ratio.description).toBe("DAU/MAU by week: 2024-12-30 30.0% (partial, small sample), 2025-01-06 28.6% (small sample), 2025-01-13 50.0% (partial, small sample).");
  const dau = await chartData(page, "stickiness-dau");
  expect(dau.series[0].data.map((x) => Number(x.toFixed(4)))).toEqual([0.6, Number((4 / 7).toFixed(4)), 1]);
  expect(dau.series[0].hatched).toEqual([true, false, true]);
  // The latest complete week is Jan 6: B on 1 day, A on 3 (Jan 6, 7, 8).
  await expect(card.locator('figure[data-chart="stickiness-days"] figcaption')).toHaveText("Days active in 2025-01-06, the latest complete week");
  const days = await chartData(page, "stickiness-days");
  expect(days.labels).toEqual(["1 day", "2 days", "3 days", "4 days", "5 days", "6 days", "7 days"]);
  expect(days.series[0].data).toEqual([1, 0, 1, 0, 0, 0, 0]);

  // The CSV is the module's, for the same weeks.
  const file = await download(page, "Stickiness CSV");
  expect(file.name).toMatch(/_stickiness-by-week\.csv$/);
  const rows = parseCsv(file.text);
  expect(rows.map((r) => [r.period, r.partial, r.activeUsers, r.avgDau, r.smallSample])).toEqual([
    ["2024-12-30", "true", "2", "0.6", "true"],
    ["2025-01-06", "false", "2", String(4 / 7), "true"],
    ["2025-01-13", "true", "2", "1.0", "true"],
  ]);
  expect(rows[1]).toMatchObject({ days1: "1", days2: "0", days3: "1", days7: "0" });

  // By month: January is partial (14 of 31 days), so there is no complete month for the histogram.
  await page.getByLabel("Period").selectOption("month");
  await expect(card.locator("table.stickiness-table tbody tr")).toHaveCount(1);
  // A on 6 days, B on 3: 9 user-days over 14 days = 0.64 average DAU, ÷ 2 = 32.1%.
  expect(await periodRows(page, "stickiness-table")).toEqual([{ period: "2025-01", tags: ["partial"], cells: ["2", "0.6", "32.1%"], small: [false, false, true] }]);
  await expect(card.locator(".histogram-note")).toHaveText("No complete month with active users in this range: the histogram needs one.");
  await expect(card.locator('figure[data-chart="stickiness-days"]')).toBeHidden();
  expect(problems).toEqual([]);
});

test("feature depth by week: users and first-time users per feature, breadth, the baseline week named", async ({ page }) => {
  const problems = watchConsole(page);
  await openAdoption(page, ENGAGEMENT);
  const card = page.locator(".features-card");
  await expect(card.locator("table.features-table tbody tr")).toHaveCount(3);
  // Week 1: A searches (Jan 1) and accepts a completion (Jan 2); B uses nothing. Week 2: A chats
  // (a chat Jan 6, commands Jan 7) and searches (not for the first time); B's searches are on a row
  // that is not active. Week 3: A accepts an auto-edit, B a completion (B's first).
  const header = await card.locator("table.features-table thead th").allTextContents();
  expect(header).toEqual([
    "Period", "Active users",
    // Each feature under the module's heading (the CSV keeps the keys).
    "Search users", "Completions users", "Chat users", "Auto-edit users",
    "Search first-time", "Completions first-time", "Chat first-time", "Auto-edit first-time",
    "0 features", "1 feature", "2 features", "3 features", "4 features",
  ]);
  const none = Array(14).fill(false);
  expect(await periodRows(page, "features-table")).toEqual([
    { period: "2024-12-30", tags: ["baseline", "partial"], cells: ["2", "1", "1", "0", "0", "1", "1", "0", "0", "1", "0", "1", "0", "0"], small: [true, ...none.slice(1)] },
    { period: "2025-01-06", tags: [], cells: ["2", "1", "0", "1", "0", "0", "0", "1", "0", "1", "0", "1", "0", "0"], small: [true, ...none.slice(1)] },
    { period: "2025-01-13", tags: ["partial"], cells: ["2", "0", "1", "0", "1", "0", "1", "0", "1", "0", "2", "0", "0", "0"], small: [true, ...none.slice(1)] },
  ]);
  await expect(card.locator(".baseline-note")).toHaveText(
    "2024-12-30 is the range's first week, the baseline: people who used a feature before the range cannot be told from first-time users there, so all of its users count as first-time.",
  );
  await expect(card.locator(".partial-note")).toContainText("2024-12-30 and 2025-01-13 are partial weeks");

  const users = await chartData(page, "features-users");
  expect(users.labels).toEqual(["2024-12-30 (baseline)", "2025-01-06", "2025-01-13"]);
  expect(users.series.map((s) => [s.label, s.data])).toEqual([
    ["Search", [1, 1, 0]],
    ["Completions", [1, 0, 1]],
    ["Chat", [0, 1, 0]],
    ["Auto-edit", [0, 0, 1]],
  ]);
  const first = await chartData(page, "features-new");
  expect(first.labels[0]).toBe("2024-12-30 (baseline)");
  expect(first.series.map((s) => [s.label, s.data])).toEqual([
    ["Search", [1, 0, 0]],
    ["Completions", [1, 0, 1]],
    ["Chat", [0, 1, 0]],
    ["Auto-edit", [0, 0, 1]],
  ]);
  for (const s of first.series) expect(s.hatched).toEqual([true, false, true]);

  const file = await download(page, "Feature depth CSV");
  expect(file.name).toMatch(/_features-by-week\.csv$/);
  const rows = parseCsv(file.text);
  expect(rows.map((r) => [r.period, r["completions new users"], r["chat new users"], r.breadth0, r.breadth1, r.breadth2])).toEqual([
    ["2024-12-30", "1", "0", "1", "0", "1"],
    ["2025-01-06", "0", "1", "1", "0", "1"],
    ["2025-01-13", "1", "0", "0", "2", "0"],
  ]);
  // From Jan 6 the range starts on a Monday: no partial first week, and the baseline is Jan 6,
  // where A's search counts as first-time (A's Jan 1 search is outside the range).
  await page.getByLabel("From", { exact: true }).fill("2025-01-06");
  await expect(page).toHaveURL(/from=2025-01-06/);
  await expect(card.locator("table.features-table tbody tr")).toHaveCount(2);
  expect((await periodRows(page, "features-table"))[0]).toMatchObject({ period: "2025-01-06", tags: ["baseline"], cells: ["2", "1", "0", "1", "0", "1", "0", "1", "0", "1", "0", "1", "0", "0"] });
  await expect(card.locator(".partial-note")).toHaveText(/^Hatched \(dashed on a line\): 2025-01-13 is a partial week\./);
  expect(problems).toEqual([]);
});

test("an export without auto-edit columns has three features; a month export says which granularity to fetch", async ({ page }) => {
  const without = fs.readFileSync(ENGAGEMENT, "utf8").trim().split("\n").map((line) => line.slice(0, line.lastIndexOf(","))).join("\n") + "\n";
  expect(without).not.toContain("Auto-edit");
  await openAdoption(page, { name: "no-auto-edit.csv", mimeType: "text/csv", buffer: Buffer.from(without) });
  const card = page.locator(".features-card");
  await expect(card.locator("table.features-table thead th").last()).toHaveText("3 features");
  // Week 3: A's only use was the auto-edit, so A now uses none of the three; B uses completions.
  expect((await periodRows(page, "features-table"))[2].cells).toEqual(["2", "0", "1", "0", "0", "1", "0", "1", "1", "0", "0"]);
  expect((await chartData(page, "features-users")).series.map((s) => s.label)).toEqual(["Search", "Completions", "Chat"]);

  // Chat needs Chat Events and Command Events: with only the first, no feature can be told.
  const chatOnly = "Instance user ID,Active Sourcegraph User,Timestamp Date,Chat Events\n1,true,2025-01-06,1\n";
  await page.getByLabel("Open a CSV export").setInputFiles({ name: "chat-only.csv", mimeType: "text/csv", buffer: Buffer.from(chatOnly) });
  await expect(page.locator(".source-title")).toHaveText("chat-only.csv (offline)");
  await expect(card.locator(".engagement-answer > .note").first()).toHaveText("This export has the columns of none of the features, so there is no use per feature to show.");
  await expect(card.locator("table.features-table thead th")).toHaveText(["Period", "Active users", "0 features"]);

  const months =
    "Instance user ID,User Email,Username,Active Sourcegraph User,Timestamp Month,Chat Events\n" +
    "1,a@x.io,ann,true,2025-01-01,1\n2,b@x.io,bob,true,2025-01-01,1\n1,a@x.io,ann,true,2025-03-01,2\n";
  await page.getByLabel("Open a CSV export").setInputFiles({ name: "months.csv", mimeType: "text/csv", buffer: Buffer.from(months) });
  await expect(page.locator(".source-title")).toHaveText("months.csv (offline)");
  // Growth still answers; the two sections that count days say what to fetch instead.
  await expect(page.locator("table.growth-table tbody tr")).toHaveCount(3);
  for (const section of [".stickiness-card", ".features-card"]) {
    await expect(page.locator(`${section} .engagement-problem`)).toContainText("by_user_month export has none: fetch it at the by_user_day");
    await expect(page.locator(`${section} .engagement-answer`)).toBeHidden();
  }
  await expect(page.getByRole("button", { name: "Stickiness CSV" })).toBeHidden();
});

test("the demo data's stickiness and feature depth by week (the README's pictures)", async ({ page, baseURL }, testInfo) => {
  const problems = watchConsole(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("/#view=adoption&period=week");
  await connect(page, { granularity: "by_user_day_client_language" });
  const { rows, registry } = await fetchCounted(page.request, baseURL);
  // Each week's active users are growth accounting's (worked out here from the export's rows).
  const weeks = adoptionReference(rows, { period: "week", days: 30, registry }).growth;
  const count = (n) => new Intl.NumberFormat("en-US").format(n);
  await expect(page.locator("table.stickiness-table tbody tr")).toHaveCount(weeks.length);
  for (const table of ["stickiness-table", "features-table"]) {
    expect((await periodRows(page, table)).map((r) => [r.period, r.cells[0]])).toEqual(weeks.map((g) => [g.period, count(g.activeUsers)]));
  }
  // A whole page cut to each section (the filter bar is sticky: an element screenshot, which
  // scrolls, would draw it over the charts).
  await page.evaluate(() => window.scrollTo(0, 0));
  for (const [section, name] of [
    [".stickiness-card", "stickiness.png"],
    [".features-card", "features.png"],
  ]) {
    const box = await page.locator(section).evaluate((el) => {
      const r = el.getBoundingClientRect();
      return { x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height };
    });
    const shot = path.join(testInfo.project.outputDir, name);
    await page.screenshot({ path: shot, fullPage: true, clip: { x: box.x - 8, y: box.y - 8, width: box.width + 16, height: Math.min(1400, box.height + 16) } });
    if (process.env.SG_UPDATE_SCREENSHOT === "1") {
      fs.copyFileSync(shot, path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "docs", name));
    }
  }
  expect(problems).toEqual([]);
});

test("growth and retention by week: the partial weeks hatched and tagged, the first week the baseline, in words as the engagement sections say it", async ({ page }) => {
  const problems = watchConsole(page);
  await openAdoption(page, ENGAGEMENT);
  const card = page.locator(".growth-card");
  await expect(card.locator("table.growth-table tbody tr")).toHaveCount(3);
  // Week of Dec 30: A (Jan 1, 2) and B (Jan 3), both new. Weeks of Jan 6 and 13: both again,
  // retained. No one churns, so there is no quick ratio.
  expect(await periodRows(page, "growth-table")).toEqual([
    { period: "2024-12-30", tags: ["baseline", "partial"], cells: ["2", "2", "0", "0", "0", "—"], small: Array(6).fill(false) },
    { period: "2025-01-06", tags: [], cells: ["2", "0", "0", "2", "0", "—"], small: Array(6).fill(false) },
    { period: "2025-01-13", tags: ["partial"], cells: ["2", "0", "0", "2", "0", "—"], small: Array(6).fill(false) },
  ]);
  await expect(card.locator(".baseline-note")).toHaveText(
    "2024-12-30 is the range's first week, the baseline: people active before the range cannot be told from new ones there, so all of its active users count as new (none as retained or resurrected).",
  );
  await expect(card.locator(".partial-note")).toHaveText(
    "Hatched (dashed on a line): 2024-12-30 and 2025-01-13 are partial weeks. The range covers only part of them, so their counts are lower than a whole week's would be: not a drop in use.",
  );
  await expect(card.locator("table.growth-table tr.partial")).toHaveCount(2);
  for (const name of ["growth-new", "growth-retained", "growth-churned", "growth-resurrected"]) {
    const chart = await chartData(page, name);
    expect(chart.labels).toEqual(["2024-12-30 (baseline)", "2025-01-06", "2025-01-13"]);
    expect(chart.series[0].hatched).toEqual([true, false, true]);
  }
  expect((await chartData(page, "growth-new")).description).toBe("New users by week: 2024-12-30 2 (baseline, partial), 2025-01-06 0, 2025-01-13 0 (partial).");
  expect((await chartData(page, "growth-quick")).labels[0]).toBe("2024-12-30 (baseline)");

  // Retention: one cohort (A and B, first active the week of Dec 30), a partial week.
  const retention = page.locator(".retention-card");
  await expect(retention.locator("table.retention-table tbody tr")).toHaveCount(1);
  await expect(retention.locator("tbody tr.partial th .tag.partial")).toHaveText("partial");
  await expect(retention.locator(".partial-note")).toHaveText(
    "Hatched: 2024-12-30 and 2025-01-13 are partial weeks. The range covers only part of them, so their counts are lower than a whole week's would be: not a drop in use.",
  );

  // From Monday Jan 6 to Sunday Jan 12: one whole week, the baseline, nothing partial.
  await page.getByLabel("From", { exact: true }).fill("2025-01-06");
  await page.getByLabel("To", { exact: true }).fill("2025-01-12");
  await expect(page).toHaveURL(/to=2025-01-12/);
  await expect.poll(() => periodRows(page, "growth-table")).toEqual([{ period: "2025-01-06", tags: ["baseline"], cells: ["2", "2", "0", "0", "0", "—"], small: Array(6).fill(false) }]);
  await expect(card.locator(".partial-note")).toBeHidden();
  await expect(retention.locator(".partial-note")).toBeHidden();
  expect((await chartData(page, "growth-new")).series[0].hatched).toEqual([false]);
  expect(problems).toEqual([]);
});

test("the small-sample minimum: the module's default until set, kept in the link, and the marks on the Adoption tables follow it", async ({ page }) => {
  const problems = watchConsole(page);
  await openAdoption(page, ENGAGEMENT);
  const minimum = page.getByLabel("Small sample under");
  // The module's default, not a copy in the page: 50. Every week has 2 active users (under it),
  // and the one cohort 2 users.
  await expect(minimum).toHaveValue("50");
  expect((await periodRows(page, "stickiness-table")).map((r) => r.small[2])).toEqual([true, true, true]);
  expect((await periodRows(page, "features-table")).map((r) => r.small[0])).toEqual([true, true, true]);
  await expect(page.locator("table.retention-table td.small-sample")).toHaveCount(1);
  expect(page.url()).not.toContain("small=");

  // 2: a sample of 2 is no longer under it.
  await minimum.fill("2");
  await minimum.press("Enter");
  await expect(page).toHaveURL(/small=2/);
  await expect.poll(async () => (await periodRows(page, "stickiness-table")).map((r) => r.small[2])).toEqual([false, false, false]);
  expect((await periodRows(page, "features-table")).map((r) => r.small[0])).toEqual([false, false, false]);
  await expect(page.locator("table.retention-table td.small-sample")).toHaveCount(0);
  await expect(page.locator(".stickiness-card .small-note")).toBeHidden();
  expect((await chartData(page, "stickiness-ratio")).series[0].pointStyle).toEqual(["circle", "circle", "circle"]);
  // 3: under it again, and the notes say the minimum.
  await minimum.fill("3");
  await minimum.press("Enter");
  await expect(page).toHaveURL(/small=3/);
  await expect(page.locator(".stickiness-card .small-note")).toContainText("fewer than 3 active users");
  expect((await chartData(page, "stickiness-ratio")).series[0].pointStyle).toEqual(["triangle", "triangle", "triangle"]);

  // A link with its own minimum opens with it; typing the default back drops it from the link.
  await openAdoption(page, ENGAGEMENT, "#view=adoption&period=week&small=1");
  await expect(minimum).toHaveValue("1");
  expect((await periodRows(page, "stickiness-table")).map((r) => r.small[2])).toEqual([false, false, false]);
  await minimum.fill("50");
  await minimum.press("Enter");
  await expect.poll(() => page.url()).not.toContain("small=");
  await expect.poll(async () => (await periodRows(page, "stickiness-table")).map((r) => r.small[2])).toEqual([true, true, true]);
  // Not a whole number: said, and the minimum stays.
  await minimum.fill("-4");
  await minimum.press("Enter");
  await expect(page.locator(".status")).toHaveText("The small-sample minimum must be a whole number of zero or more.");
  await expect(minimum).toHaveValue("50");
  expect(problems).toEqual([]);
});
