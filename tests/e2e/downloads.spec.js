// Downloads: the grouped result as CSV and JSON and the filtered original rows, with descriptive
// names, checked against the export itself.

import { test, expect } from "@playwright/test";
import fs from "node:fs";
import { DEMO_TOKEN, connect, expectedTotals, fetchCountedRows, mockBase, parseCsv } from "./helpers.js";

test.use({ locale: "en-US" });

async function download(page, label) {
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: label, exact: true }).click()]);
  const text = fs.readFileSync(await file.path(), "utf8");
  return { name: file.suggestedFilename(), text };
}

test("grouped CSV, grouped JSON and filtered rows hold what the view shows", async ({ page, baseURL }) => {
  const base = mockBase(baseURL, "users=15;days=30");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day" });
  const rows = await fetchCountedRows(page.request, base, { granularity: "by_user_day" });
  const days = [...new Set(rows.map((r) => r["Timestamp Date"]))].sort();
  const [from, to] = [days[5], days[14]];
  await page.getByLabel("Group by").selectOption("week");
  await page.getByLabel("From", { exact: true }).fill(from);
  await page.getByLabel("To", { exact: true }).fill(to);
  await expect(page).toHaveURL(new RegExp(`to=${to}`));
  const kept = rows.filter((r) => r["Timestamp Date"] >= from && r["Timestamp Date"] <= to);
  const expected = expectedTotals(kept);

  const grouped = await download(page, "Grouped CSV");
  expect(grouped.name).toBe(`sg-analytics_demo.sourcegraph.local_by_user_day_${from}_to_${to}_by-week.csv`);
  // The screen's headings, each rate with its scale (the values are the module's: CAR 0–1).
  const header = grouped.text.split("\n")[0];
  expect(header.startsWith("Week of,Users,Active users,Average DAU,")).toBe(true);
  expect(header).toContain("Combined CAR (ratio 0–1)");
  expect(header).toContain("Percentage of Code Written by Cody (%)");
  expect(header).not.toContain("avgDau");
  const groups = parseCsv(grouped.text);
  const weeks = new Set(
    kept.map((r) => {
      const d = new Date(`${r["Timestamp Date"]}T00:00:00Z`);
      d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
      return d.toISOString().slice(0, 10);
    }),
  );
  expect(groups.length).toBe(weeks.size);
  const chatColumn = Object.keys(groups[0]).find((k) => k === "Chat Events");
  expect(groups.reduce((total, g) => total + Number(g[chatColumn]), 0)).toBe(expected.chatEvents);

  const json = await download(page, "Grouped JSON");
  expect(json.name).toBe(`sg-analytics_demo.sourcegraph.local_by_user_day_${from}_to_${to}_by-week.json`);
  const summary = JSON.parse(json.text);
  // The JSON records what it holds: the filter, the range, and the screen's heading of each field.
  expect(summary.filter).toEqual({ from, to });
  expect(summary.range).toEqual({ from, to });
  expect(summary.labels.avgDau).toBe("Average DAU");
  expect(summary.labels["Combined CAR"]).toBe("Combined CAR (ratio 0–1)");
  expect(summary.totals.users).toBe(expected.users);
  expect(summary.totals["Chat Events"]).toBe(expected.chatEvents);
  expect(summary.groups.length).toBe(weeks.size);

  const filtered = await download(page, "Filtered rows CSV");
  expect(filtered.name).toBe(`sg-analytics_demo.sourcegraph.local_by_user_day_${from}_to_${to}_rows.csv`);
  const original = parseCsv(filtered.text);
  expect(original.length).toBe(kept.length);
  expect(Object.keys(original[0])).toEqual(Object.keys(rows[0]));
  expect(original.every((r) => r["Timestamp Date"] >= from && r["Timestamp Date"] <= to)).toBe(true);

  for (const file of [grouped, json, filtered]) expect(file.text).not.toContain(DEMO_TOKEN);
  // The other filters are in the file's name too.
  await page.getByLabel("Active only").check();
  await expect(page).toHaveURL(/active=1/);
  const active = await download(page, "Grouped JSON");
  expect(active.name).toBe(`sg-analytics_demo.sourcegraph.local_by_user_day_${from}_to_${to}_active-users-only_by-week.json`);
  expect(JSON.parse(active.text).filter).toEqual({ from, to, activeOnly: true });
  await expect(page.locator(".status")).toContainText("Downloaded");
});
