// Every chart shows the metric the picker names, rates included: the time chart follows the picker,
// a rate per period is the ratio of the period's sums (computed here from the API's own CSV), and a
// rate over a small denominator is marked on the chart (issue "Trusted at first sight").

import { test, expect } from "@playwright/test";
import { connect, fetchCountedRows, mockBase, periodKey, watchConsole } from "./helpers.js";

test.use({ locale: "en-US", viewport: { width: 1280, height: 900 } });

/** What chart `name` draws: its title, its labels and its first series' values; for a line, whether any segment is dashed. */
async function drawn(page, name) {
  const card = page.locator(`[data-chart="${name}"]`);
  const title = (await card.locator(".chart-title").textContent()).trim();
  const data = await card.locator("canvas").evaluate((canvas) => {
    const chart = window.Chart.getChart(canvas);
    const line = chart.getDatasetMeta(0).dataset;
    const dashed = line ? line.segments.some((run) => (run.style?.borderDash?.length ?? 0) > 0) : null;
    return { labels: [...chart.data.labels], values: [...chart.data.datasets[0].data], dashed };
  });
  return { title, ...data };
}

const num = (v) => (v === undefined || v === "" ? 0 : Number(v));

/** Per week (its Monday): the sums of two columns over `rows`. */
function weeklySums(rows, numerator, denominator) {
  const weeks = new Map();
  for (const r of rows) {
    const week = periodKey(r["Timestamp Date"], "week");
    const sums = weeks.get(week) ?? { n: 0, d: 0 };
    sums.n += num(r[numerator]);
    sums.d += num(r[denominator]);
    weeks.set(week, sums);
  }
  return [...weeks].sort(([a], [b]) => (a < b ? -1 : 1));
}

// Regression: "Usage metric" changed the bar charts but not the time chart (always active users),
// and offered no rate, so acceptance over time could not be charted at all.
test("the time chart follows the picker, and a rate per week is the ratio of the week's sums", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  const base = mockBase(baseURL, "users=12;days=120");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day" });
  const rows = await fetchCountedRows(page.request, base, { granularity: "by_user_day" });

  const picker = page.getByLabel("Chart metric");
  // Rates are offered beside the counts.
  const offered = await picker.locator("option").evaluateAll((options) => options.map((o) => o.value));
  expect(offered).toEqual(expect.arrayContaining(["hoursSaved", "Chat Events", "Combined CAR", "Percentage of Code Written by Cody", "Auto-edit acceptance rate"]));

  const before = await drawn(page, "time");
  expect(before.title).toBe("Hours saved by week");
  // The usage view's time chart marks no period partial, so none of its line is dashed.
  expect(before.dashed).toBe(false);

  await picker.selectOption("Combined CAR");
  await expect(page.locator('[data-chart="time"] .chart-title')).toHaveText("Combined CAR by week");
  await expect(page.locator('[data-chart="users"] .chart-title')).toHaveText("Top 10 users: Combined CAR");
  await expect(page).toHaveURL(/metric=Combined\+CAR/);
  const after = await drawn(page, "time");
  const weeks = weeklySums(rows, "Combined Completion Acceptances", "Combined Completion Suggestions");
  expect(after.labels.map((label) => label.replace(/ \*$/, ""))).toEqual(weeks.map(([week]) => week));
  after.values.forEach((value, i) => {
    const { n, d } = weeks[i][1];
    if (d === 0) expect(value).toBeNull();
    else expect(value).toBeCloseTo(n / d, 9);
  });
  // The mean of the rows' own rates would be another number: the chart is not that.
  const rowMean = (week) => {
    const rates = rows.filter((r) => periodKey(r["Timestamp Date"], "week") === week && r["Combined CAR"] !== "").map((r) => Number(r["Combined CAR"]));
    return rates.reduce((a, b) => a + b, 0) / rates.length;
  };
  expect(weeks.some(([week], i) => Math.abs(rowMean(week) - after.values[i]) > 1e-6)).toBe(true);
  expect(after.values).not.toEqual(before.values);

  // A percentage reads as one in the chart's description.
  await picker.selectOption("Percentage of Code Written by Cody");
  await expect(page.locator('[data-chart="time"] .chart-title')).toHaveText("Percentage of Code Written by Cody by week");
  await expect(page.locator('[data-chart="time"] canvas')).toHaveAttribute("aria-label", /highest \d+\.\d%/);
  expect(problems).toEqual([]);
});

test("a rate over fewer than the minimum sample is marked on the chart, where and only where its denominator is small", async ({ page, baseURL }) => {
  const base = mockBase(baseURL, "users=3;days=90");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day" });
  const rows = await fetchCountedRows(page.request, base, { granularity: "by_user_day" });
  await page.getByLabel("Chart metric").selectOption("Auto-edit acceptance rate");
  await expect(page.locator('[data-chart="time"] .chart-title')).toHaveText("Auto-edit acceptance rate by week");
  const chart = await drawn(page, "time");
  const weeks = weeklySums(rows, "Auto-edit accepted events", "Auto-edit suggested events");
  const small = weeks.map(([, { d }]) => d > 0 && d < 50);
  // This data has both: the marks are tested, not assumed.
  expect(small).toContain(true);
  expect(small).toContain(false);
  expect(chart.labels).toEqual(weeks.map(([week], i) => (small[i] ? `${week} *` : week)));
  const note = page.locator('[data-chart="time"] .chart-note');
  await expect(note).toBeVisible();
  await expect(note).toContainText(`Small sample (${small.filter(Boolean).length} marked)`);
  await expect(note).toContainText("fewer than 50 Auto-edit suggested events");

  // A count has no denominator: no mark, no note.
  await page.getByLabel("Chart metric").selectOption("Chat Events");
  await expect(page.locator('[data-chart="time"] .chart-title')).toHaveText("Chat Events by week");
  await expect(note).toBeHidden();
  expect((await drawn(page, "time")).labels.some((label) => label.endsWith("*"))).toBe(false);
});

test("the small-sample minimum set in the filter bar marks the cards, the grouped table and the chart, where and only where a denominator is under it", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  const base = mockBase(baseURL, "users=3;days=90");
  await page.goto("/#group=week&metric=Auto-edit+acceptance+rate");
  await connect(page, { base, granularity: "by_user_day" });
  const rows = await fetchCountedRows(page.request, base, { granularity: "by_user_day" });
  const weeks = weeklySums(rows, "Auto-edit accepted events", "Auto-edit suggested events");
  const total = weeks.reduce((sum, [, { d }]) => sum + d, 0);
  // A minimum between the weeks' suggestions: some weeks under it, some not; the whole range not.
  const counts = weeks.map(([, { d }]) => d).filter((d) => d > 0).sort((a, b) => a - b);
  const minimum = counts[Math.floor(counts.length / 2)];
  const small = weeks.map(([, { d }]) => d > 0 && d < minimum);
  expect(small).toContain(true);
  expect(small).toContain(false);
  expect(total).toBeGreaterThanOrEqual(minimum);

  const field = page.getByLabel("Small sample under");
  await expect(field).toHaveValue("50");
  await field.fill(String(minimum));
  await field.press("Enter");
  await expect(page).toHaveURL(new RegExp(`small=${minimum}`));
  // The chart: each week under it marked.
  await expect.poll(async () => (await drawn(page, "time")).labels).toEqual(weeks.map(([week], i) => (small[i] ? `${week} *` : week)));
  await expect(page.locator('[data-chart="time"] .chart-note')).toContainText(`fewer than ${minimum.toLocaleString("en-US")} Auto-edit suggested events`);
  // The table by week: the same weeks' acceptance cells marked, and the note says what it means.
  const column = await page.locator(".table-card thead th").evaluateAll((ths) => ths.findIndex((th) => th.querySelector('[data-sort="Auto-edit acceptance rate"]')));
  expect(column).toBeGreaterThan(0);
  const marked = await page.locator(".table-card tbody tr").evaluateAll((trs, i) => Object.fromEntries(trs.map((tr) => [tr.cells[0].textContent, tr.cells[i].classList.contains("small-sample")])), column);
  expect(marked).toEqual(Object.fromEntries(weeks.map(([week], i) => [week, small[i]])));
  await expect(page.locator(".table-small")).toContainText(`Auto-edit acceptance rate over fewer than ${minimum.toLocaleString("en-US")} Auto-edit suggested events`);
  // The cards: the range's suggestions are not under it; days active per user stands on the
  // users (3 here), which are.
  const users = new Set(rows.map((r) => r["Instance user ID"])).size;
  expect(users).toBeLessThan(minimum);
  await expect(page.locator('.card[data-metric="Auto-edit acceptance rate"]')).not.toHaveClass(/small-sample/);
  await expect(page.locator('.card[data-metric="avgDaysActivePerUser"]')).toHaveClass(/small-sample/);
  await expect(page.locator(".cards-small")).toHaveText(`* Small sample: avgDaysActivePerUser over fewer than ${minimum.toLocaleString("en-US")} users, a hint rather than a figure.`);

  // Above the range's suggestions: the card is marked too, and every week with any.
  await field.fill(String(total + 1));
  await field.press("Enter");
  await expect(page.locator('.card[data-metric="Auto-edit acceptance rate"]')).toHaveClass(/small-sample/);
  await expect(page.locator(".cards-small")).toContainText(`Auto-edit acceptance rate over fewer than ${(total + 1).toLocaleString("en-US")} Auto-edit suggested events`);
  await expect.poll(async () => (await drawn(page, "time")).labels).toEqual(weeks.map(([week, { d }]) => (d > 0 ? `${week} *` : week)));
  // 0: nothing is under it.
  await field.fill("0");
  await field.press("Enter");
  await expect(page.locator(".table-card td.small-sample")).toHaveCount(0);
  await expect(page.locator(".card.small-sample")).toHaveCount(0);
  expect(problems).toEqual([]);
});
