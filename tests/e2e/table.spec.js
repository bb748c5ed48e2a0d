// The grouped table a person can read: per row only the metrics that mean something for the
// grouping, as the module decides it (issue "Trusted at first sight").

import { test, expect } from "@playwright/test";
import fs from "node:fs";
import { connect, mockBase, parseCsv, watchConsole } from "./helpers.js";

test.use({ locale: "en-US", viewport: { width: 1280, height: 900 } });

/** The grouped table's column headings. */
const headings = (page) => page.locator("table.grid:not(.compact) thead th").evaluateAll((cells) => cells.map((c) => c.querySelector("button")?.firstChild?.textContent.trim() ?? c.textContent.trim()));

/** Clicks a download button; returns the file's name and text. */
async function download(page, label) {
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: label, exact: true }).click()]);
  return { name: file.suggestedFilename(), text: fs.readFileSync(await file.path(), "utf8") };
}

// Regression: per-user rows showed "Users 1 / Active users 1 / Average DAU 0.6".
test("user rows carry no user counts; month rows do; the download holds what the screen does", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  await page.goto("/");
  await connect(page, { base: mockBase(baseURL, "users=12;days=60"), granularity: "by_user_day" });
  const perUser = await headings(page);
  expect(perUser[0]).toBe("User");
  for (const meaningless of ["Users", "Active users", "Average DAU"]) expect(perUser).not.toContain(meaningless);
  expect(perUser).toEqual(expect.arrayContaining(["Hours saved", "Days active per user"]));
  // The cards keep the totals.
  await expect(page.locator('.card[data-metric="users"]')).toBeVisible();
  const csv = await download(page, "Grouped CSV");
  const header = Object.keys(parseCsv(csv.text)[0]);
  for (const meaningless of ["Users", "Active users", "Average DAU"]) expect(header).not.toContain(meaningless);
  expect(header).toContain("Hours saved");
  const json = JSON.parse((await download(page, "Grouped JSON")).text);
  expect(json.groupMetrics).not.toContain("users");
  expect(json.groups[0]).not.toHaveProperty("users");
  expect(json.totals.users).toBeGreaterThan(1);

  await page.getByLabel("Group by").selectOption("month");
  await expect(page.locator("table.grid:not(.compact) thead")).toContainText("Month");
  const perMonth = await headings(page);
  expect(perMonth).toEqual(expect.arrayContaining(["Users", "Active users", "Average DAU"]));
  const users = await page.locator('table.grid:not(.compact) tbody tr td[data-label="Users"]').allTextContents();
  expect(users.length).toBeGreaterThan(0);
  expect(users.some((text) => Number(text.replace(/,/g, "")) > 1)).toBe(true);

  await page.getByLabel("Group by").selectOption("day");
  await expect(page.locator("table.grid:not(.compact) thead")).toContainText("Day");
  expect(await headings(page)).not.toContain("Days active per user");
  expect(problems).toEqual([]);
});
