// The credits panel: the buckets the API returns beside the export, as a table (JSON or CSV, by
// Content-Type), and a clear sentence when there are none: opened offline, an answer the page does
// not recognise, or a credits request that failed (which never fails the dashboard).

import { test, expect } from "@playwright/test";
import path from "node:path";
import { DEMO_TOKEN, FIXTURES, INSTANCE, cardNumber, connect, expectedTotals, fetchCountedRows, mockBase, waitForDashboard, watchConsole } from "./helpers.js";

test.use({ locale: "en-US" });

/** The credits answer as the mock gives it to anyone with the token, read here as JSON. */
async function fetchCredits(request, base, { startDate, endDate } = {}) {
  const params = new URLSearchParams({ instanceURL: INSTANCE });
  if (startDate) params.set("startDate", startDate);
  if (endDate) params.set("endDate", endDate);
  const response = await request.get(`${base}/api/credits?${params}`, { headers: { Authorization: `Bearer ${DEMO_TOKEN}` } });
  expect(response.ok()).toBeTruthy();
  return response.json();
}

/** What the table should hold for the buckets: one row per bucket, each field's value as text. */
function expectedRows(buckets) {
  const count = (n) => new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }).format(n);
  return buckets.map((b) => Object.values(b).map((v) => (typeof v === "number" ? count(v) : String(v))));
}

const creditRows = (page) => page.locator("table.credits-table tbody tr").evaluateAll((rows) => rows.map((row) => [...row.cells].map((cell) => cell.textContent.trim())));
const creditHeader = (page) => page.locator("table.credits-table thead th").allTextContents();

test("the credits the API returns show as a table per month, for the fetched range", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  const base = mockBase(baseURL, "users=20;days=120");
  const [startDate, endDate] = ["2025-02-10", "2025-04-20"];
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day", startDate, endDate });
  const answer = await fetchCredits(page.request, base, { startDate, endDate });
  // The mock's range holds several months: the table is one row per month, partial months too.
  expect(answer.buckets.length).toBeGreaterThan(2);
  await expect(page.locator(".credits-card")).toHaveAttribute("data-state", "table");
  await expect(page.locator(".credits-note")).toContainText("unit: credits");
  expect(await creditHeader(page)).toEqual(["Month", "Start date", "End date", "Credits used", "Chat credits", "Completion credits", "Auto edit credits", "Credits included"]);
  expect(await creditRows(page)).toEqual(expectedRows(answer.buckets));
  // Read without colour: the month heads each row.
  await expect(page.locator("table.credits-table tbody th[scope=row]")).toHaveCount(answer.buckets.length);
  expect(problems).toEqual([]);
});

test("a CSV credits answer is read by its Content-Type and shows the same table", async ({ page, baseURL }) => {
  const base = mockBase(baseURL, "users=12;days=70;credits=csv");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day" });
  const response = await page.request.get(`${base}/api/credits?instanceURL=${INSTANCE}`, { headers: { Authorization: `Bearer ${DEMO_TOKEN}` } });
  expect(response.headers()["content-type"]).toContain("text/csv");
  const json = await fetchCredits(page.request, mockBase(baseURL, "users=12;days=70"));
  await expect(page.locator(".credits-card")).toHaveAttribute("data-state", "table");
  expect(await creditRows(page)).toEqual(expectedRows(json.buckets));
});

test("a failed credits request leaves the dashboard whole and says so in the panel", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  const base = mockBase(baseURL, "users=15;days=40;credits=403");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day" });
  const rows = await fetchCountedRows(page.request, base, { granularity: "by_user_day" });
  expect(await cardNumber(page, "users")).toBe(expectedTotals(rows).users);
  await expect(page.locator(".error-panel")).toBeHidden();
  await expect(page.locator(".credits-card")).toHaveAttribute("data-state", "failed");
  await expect(page.locator(".credits-note")).toContainText("could not be fetched");
  await expect(page.locator("table.credits-table")).toBeHidden();
  await expect(page.locator(".credits-card")).not.toContainText(DEMO_TOKEN);
  expect(problems).toEqual([]);
});

test("a credits answer of an unknown shape is named as such", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  await page.goto("/");
  await connect(page, { base: mockBase(baseURL, "users=10;days=20;credits=odd"), granularity: "by_user_day" });
  await expect(page.locator(".credits-card")).toHaveAttribute("data-state", "unrecognised");
  await expect(page.locator(".credits-note")).toHaveText("No credit table: the credits answer is in an unrecognised format.");
  await expect(page.locator("table.credits-table")).toBeHidden();
  expect(problems).toEqual([]);
});

test("an export opened offline has no credits, and the panel says why", async ({ page }) => {
  await page.goto("/");
  await page.getByLabel("Open a CSV export").setInputFiles(path.join(FIXTURES, "by_user_day.csv"));
  await waitForDashboard(page);
  await expect(page.locator(".credits-card")).toHaveAttribute("data-state", "absent");
  await expect(page.locator(".credits-note")).toContainText("opened from a file");
  await expect(page.locator("table.credits-table")).toBeHidden();
});
