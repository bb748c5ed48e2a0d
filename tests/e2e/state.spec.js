// The view lives in the URL hash (shareable, restored on reload); settings persist in localStorage;
// the token is never in the URL or localStorage, and in sessionStorage only when asked.

import { test, expect } from "@playwright/test";
import { DEMO_TOKEN, cardNumber, connect, expectedTotals, fetchCountedRows, mockBase, tableRows, waitForDashboard } from "./helpers.js";

test.use({ locale: "en-US" });

async function storage(page) {
  return page.evaluate(() => ({
    local: JSON.stringify({ ...localStorage }),
    session: JSON.stringify({ ...sessionStorage }),
    url: location.href,
  }));
}

test("reload restores the view from the hash; the token is in neither URL nor storage", async ({ page, baseURL }) => {
  const base = mockBase(baseURL, "users=30;days=40");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day" });
  const rows = await fetchCountedRows(page.request, base, { granularity: "by_user_day" });

  await page.getByLabel("Group by").selectOption("week");
  await page.getByLabel("Active only").check();
  const search = rows[0]["Username"].slice(0, 4);
  await page.getByLabel("User", { exact: true }).fill(search);
  await page.getByLabel("User", { exact: true }).press("Enter");
  await page.getByRole("button", { name: /^Active users/ }).click();
  await expect(page).toHaveURL(/group=week/);
  await expect(page).toHaveURL(/active=1/);
  await expect(page).toHaveURL(new RegExp(`user=${search}`));
  await expect(page).toHaveURL(/sort=-activeUsers/);
  const before = await tableRows(page);
  const usersBefore = await cardNumber(page, "users");

  const saved = await storage(page);
  for (const place of [saved.local, saved.session, saved.url]) expect(place).not.toContain(DEMO_TOKEN);

  await page.reload();
  // The source settings came back (localStorage and the hash), the token did not.
  await expect(page.getByLabel("Instance URL")).toHaveValue("demo.sourcegraph.local");
  await expect(page.getByLabel("Granularity")).toHaveValue("by_user_day");
  await expect(page.getByLabel("Access token")).toHaveValue("");
  await page.locator("details.advanced > summary").click();
  await expect(page.getByLabel("API base URL")).toHaveValue(base);
  await page.getByLabel("Access token").fill(DEMO_TOKEN);
  await page.getByRole("button", { name: "Load usage" }).click();
  await waitForDashboard(page);

  await expect(page.getByLabel("Group by")).toHaveValue("week");
  await expect(page.getByLabel("Active only")).toBeChecked();
  await expect(page.getByLabel("User", { exact: true })).toHaveValue(search);
  await expect(page.locator('th[aria-sort="descending"]')).toHaveText(/Active users/);
  expect(await tableRows(page)).toEqual(before);
  expect(await cardNumber(page, "users")).toBe(usersBefore);
  const matching = rows.filter((r) => /^(true|1)$/i.test(r["Active Sourcegraph User"]) && [r["Instance user ID"], r["User Email"], r["Username"]].some((v) => v.toLowerCase().includes(search.toLowerCase())));
  expect(usersBefore).toBe(expectedTotals(matching).users);

  const after = await storage(page);
  for (const place of [after.local, after.session, after.url]) expect(place).not.toContain(DEMO_TOKEN);
});

test("a shared link opens on its view", async ({ page, baseURL }) => {
  const base = mockBase(baseURL, "users=12;days=20");
  await page.goto("/#group=month&sort=month&size=10");
  await connect(page, { base, granularity: "by_user_day" });
  await expect(page.getByLabel("Group by")).toHaveValue("month");
  await expect(page.locator('th[aria-sort="ascending"]')).toHaveText(/Month/);
  const months = (await tableRows(page)).map((r) => r[0]);
  expect(months).toEqual([...months].sort());
  await expect(page.locator(".pager select")).toHaveValue("10");
});

test("“remember for this tab” keeps the token in sessionStorage only, and reconnects on reload", async ({ page, baseURL }) => {
  const base = mockBase(baseURL, "users=8;days=8");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day", remember: true });
  let saved = await storage(page);
  expect(saved.session).toContain(DEMO_TOKEN);
  expect(saved.local).not.toContain(DEMO_TOKEN);
  expect(saved.url).not.toContain(DEMO_TOKEN);

  await page.reload();
  await waitForDashboard(page); // reconnected with the remembered token

  await page.locator("details.connect > summary").click();
  await page.getByRole("button", { name: "Forget token" }).click();
  await expect(page.getByLabel("Access token")).toHaveValue("");
  saved = await storage(page);
  expect(saved.session).not.toContain(DEMO_TOKEN);
  expect(saved.local).not.toContain(DEMO_TOKEN);
});
