// What a manager reads first must mean what they will say it means: the range stated is the range
// fetched or filtered, errors speak the user's words, an empty view says why, focus follows the
// new content (issue "Trusted at first sight").

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
