// The grouped table a person can read, from the keyboard and on a phone: a few columns by default
// (the module's choice: info().defaultColumns), a column chooser whose choice is kept in the URL
// (`col=`) and held by the downloads, the key column that stays while the rest scrolls sideways,
// focus that follows the new content, and axe over each of these views (issue "Trusted at first
// sight").

import { test, expect } from "@playwright/test";
import fs from "node:fs";
import { axeViolations, connect, mockBase, parseCsv, watchConsole } from "./helpers.js";

test.use({ locale: "en-US", viewport: { width: 1280, height: 900 } });

const TABLE = "table.grid:not(.compact)";

/** The grouped table's column headings. */
const headings = (page) => page.locator(`${TABLE} thead th`).evaluateAll((cells) => cells.map((c) => c.querySelector("button")?.firstChild?.textContent.trim() ?? c.textContent.trim()));

/** The column chooser's boxes: `[label, ticked]`. */
const boxes = (page) => page.locator("details[data-filter=columns] input[type=checkbox]").evaluateAll((inputs) => inputs.map((i) => [i.closest("label").textContent.trim(), i.checked]));

/** Clicks a download button; returns the file's name and text. */
async function download(page, label) {
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: label, exact: true }).click()]);
  return { name: file.suggestedFilename(), text: fs.readFileSync(await file.path(), "utf8") };
}

/**
 * Whether `shown` (headings on screen, in order) name `names` (the summary's metric keys): a
 * figure's heading is its label (`labels`, the downloads' header); a rate's label adds its scale
 * to the name the screen shows, whose values are formatted.
 */
function names(shown, names, labels) {
  const same = (heading, name) => heading === labels[name] || labels[name].startsWith(`${heading.replace(/ \(approx\.\)$/, "")} (`);
  return shown.length === names.length && names.every((name, i) => same(shown[i], name));
}

async function expectNoViolations(page, what) {
  const violations = await axeViolations(page);
  expect(violations, `${what}: ${JSON.stringify(violations, null, 2)}`).toEqual([]);
}

test("a few columns by default, chosen from the keyboard, kept in the URL and held by the downloads", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  const base = mockBase(baseURL, "users=30;days=40");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day_client_language" });
  // The module's summary says what the groups carry and what could be chosen: the table shows the
  // first, the chooser offers the second with the first ticked.
  const summary = JSON.parse((await download(page, "Grouped JSON")).text);
  const label = (name) => summary.labels[name];
  expect(summary.columnChoices.length).toBeGreaterThan(summary.groupMetrics.length + 10);
  const [key, ...shown] = await headings(page);
  expect(key).toBe("User");
  expect(names(shown, summary.groupMetrics, summary.labels)).toBe(true);
  const offered = await boxes(page);
  expect(names(offered.map(([text]) => text), summary.columnChoices, summary.labels)).toBe(true);
  expect(offered.map(([, ticked]) => ticked)).toEqual(summary.columnChoices.map((name) => summary.groupMetrics.includes(name)));
  const boxOf = (name) => offered[summary.columnChoices.indexOf(name)][0];
  const chooser = page.locator("details[data-filter=columns]");
  await expect(chooser.locator("summary")).toHaveText(`Columns: ${summary.groupMetrics.length} of ${summary.columnChoices.length}`);
  await expect(page.getByRole("button", { name: "Default columns" })).toBeHidden();

  // From the keyboard: open the chooser, tick a column that is not shown, untick one that is.
  const added = summary.columnChoices.find((name) => !summary.groupMetrics.includes(name));
  const removed = summary.groupMetrics.find((name) => name !== "hoursSaved");
  await chooser.locator("summary").focus();
  await page.keyboard.press("Enter");
  await expect(chooser).toHaveAttribute("open", "");
  for (const name of [added, removed]) {
    const box = chooser.getByLabel(boxOf(name), { exact: true });
    await box.focus();
    await page.keyboard.press("Space");
    await expect(box).toBeFocused(); // the box stays where it was: only the ticks change
  }
  const chosen = [...summary.groupMetrics.filter((name) => name !== removed), added];
  const inOrder = summary.columnChoices.filter((name) => chosen.includes(name));
  const showsChosen = async (first) => {
    const [k, ...rest] = await headings(page);
    return k === first && names(rest, inOrder, summary.labels);
  };
  await expect.poll(() => showsChosen("User")).toBe(true);
  // The link holds the choice: what is shown, and the default columns this grouping cannot show
  // (users per user), kept for the groupings that can.
  const linked = new URLSearchParams(new URL(page.url()).hash.slice(1)).getAll("col");
  expect(linked).toEqual(expect.arrayContaining(chosen));
  expect(linked.filter((name) => !chosen.includes(name)).every((name) => !summary.columnChoices.includes(name))).toBe(true);
  await page.keyboard.press("Escape");
  await expect(chooser).not.toHaveAttribute("open", "");
  await expect(chooser.locator("summary")).toBeFocused();

  // The downloads hold the columns shown, under the screen's headings (each rate with its scale),
  // and say what they hold: the filters and the range in the name and in the JSON.
  await page.getByLabel("Active only").check();
  await expect(page).toHaveURL(/active=1/);
  const csv = await download(page, "Grouped CSV");
  expect(csv.name).toMatch(/_active-users-only_by-user\.csv$/);
  const header = Object.keys(parseCsv(csv.text)[0]);
  const metrics = header.slice(header.indexOf(label(inOrder[0])));
  expect(metrics.filter((h) => h !== "Small sample")).toEqual(inOrder.map(label));
  // Each column's rate (a column with a denominator) says its scale.
  const rates = inOrder.filter((name) => summary.denominators[name] && label(name).startsWith(name));
  expect(rates.length).toBeGreaterThan(0);
  for (const name of rates) expect(label(name)).toMatch(/(ratio 0–1|%)\)$/);
  const json = await download(page, "Grouped JSON");
  expect(json.name).toMatch(/_active-users-only_by-user\.json$/);
  const held = JSON.parse(json.text);
  expect(held.groupMetrics).toEqual(inOrder);
  expect(Object.keys(held.groups[0]).filter((k) => k !== "key" && k !== "smallSample")).toEqual(inOrder);
  expect(held.filter).toMatchObject({ activeOnly: true });
  expect(held.range).toEqual({ from: summary.range.from, to: summary.range.to });
  // The totals keep every figure: the cards do not depend on the columns.
  expect(Object.keys(held.totals)).toEqual(Object.keys(summary.totals));

  // A shared link brings the same columns back.
  const link = page.url();
  await page.goto("about:blank");
  await page.goto(link);
  await connect(page, { base, granularity: "by_user_day_client_language" });
  await expect.poll(() => showsChosen("User")).toBe(true);
  // Grouped by month the users' counts mean something, and the choice still holds: what the link
  // names is shown, in the module's order.
  await page.getByLabel("Group by").selectOption("month");
  await expect(page.locator(`${TABLE} thead`)).toContainText("Month");
  const month = JSON.parse((await download(page, "Grouped JSON")).text);
  expect(month.groupMetrics).toEqual(month.columnChoices.filter((name) => linked.includes(name)));
  expect(month.groupMetrics).toEqual(expect.arrayContaining([...chosen, "users"]));
  const [monthKey, ...monthColumns] = await headings(page);
  expect(monthKey).toBe("Month");
  expect(names(monthColumns, month.groupMetrics, month.labels)).toBe(true);
  // "Default columns" goes back to the module's set, and off the URL.
  await page.getByRole("button", { name: "Default columns" }).click();
  await expect(page).not.toHaveURL(/col=/);
  const byMonth = JSON.parse((await download(page, "Grouped JSON")).text);
  const [key2, ...columns] = await headings(page);
  expect(key2).toBe("Month");
  expect(names(columns, byMonth.groupMetrics, byMonth.labels)).toBe(true);
  expect(byMonth.groupMetrics).toContain("users");
  expect(problems).toEqual([]);
  // axe (whose own styles the page's CSP refuses: after the check above) over the chooser open.
  await chooser.locator("summary").click();
  await expect(chooser).toHaveAttribute("open", "");
  await expectNoViolations(page, "column chooser open");
});

test("every column chosen: the key column stays in view while the rest scroll sideways", async ({ page, baseURL }) => {
  await page.goto("/");
  await connect(page, { base: mockBase(baseURL, "users=30;days=20"), granularity: "by_user_day_client_language" });
  const chooser = page.locator("details[data-filter=columns]");
  await chooser.locator("summary").click();
  const unticked = chooser.locator("input[type=checkbox]:not(:checked)");
  while ((await unticked.count()) > 0) await unticked.first().check();
  await page.keyboard.press("Escape");
  const scroller = page.locator(".table-card .table-scroll");
  await expect.poll(() => scroller.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
  await scroller.evaluate((el) => (el.scrollLeft = el.scrollWidth));
  await expect.poll(() => scroller.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0);
  const box = await scroller.boundingBox();
  const key = await scroller.locator("tbody tr").first().locator("th").boundingBox();
  expect(key.x).toBeGreaterThanOrEqual(box.x - 1);
  expect(key.x).toBeLessThan(box.x + 10);
  await expectNoViolations(page, "every column chosen");
});

test("keyboard focus follows the new content: after Load usage, after paging, to the last page", async ({ page, baseURL }) => {
  await page.goto("/");
  await page.getByLabel("Instance URL").fill("demo.sourcegraph.local");
  await page.getByLabel("Access token").fill("sgdemo-local-token");
  await page.getByLabel("Granularity").selectOption("by_user_day");
  await page.locator("details.advanced > summary").click();
  await page.getByLabel("API base URL").fill(mockBase(baseURL, "users=60;days=10"));
  await page.getByRole("button", { name: "Load usage" }).focus();
  await page.keyboard.press("Enter");
  await expect(page.locator(".status")).toContainText("Loaded");
  await expect(page.locator(".source-title")).toBeFocused();
  // More than a page of users: Next (from the keyboard) takes focus to the new rows, and on the
  // last page, where the button it was on is disabled, not to the page's body.
  const next = page.getByRole("button", { name: "Next →" });
  let pages = 0;
  while (await next.isEnabled()) {
    await next.focus();
    await page.keyboard.press("Enter");
    await expect(page.locator(".page-info")).toContainText(`page ${++pages + 1} of`);
    await expect(page.locator(".table-card .table-scroll")).toBeFocused();
  }
  expect(pages).toBeGreaterThan(0);
  expect(await page.evaluate(() => document.activeElement === document.body)).toBe(false);
  await expectNoViolations(page, "the last page");
});

test("on a phone (390×844) each group is a card: its key and the chosen columns, named, nothing wider than the screen", async ({ page, baseURL }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const problems = watchConsole(page);
  // A shared link with a choice of columns, opened on a phone; a column this export lacks goes.
  await page.goto("/#col=hoursSaved&col=Chat+Events&col=No+such+column&col=Combined+CAR");
  await connect(page, { base: mockBase(baseURL, "users=40;days=10"), granularity: "by_user_day" });
  await expect(page).not.toHaveURL(/No\+such/);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  const summary = JSON.parse((await download(page, "Grouped JSON")).text);
  expect(summary.groupMetrics).toEqual(["hoursSaved", "Chat Events", "Combined CAR"]);
  const row = page.locator(".table-card tbody tr").first();
  const key = row.locator("th");
  const cells = row.locator("td[data-label]");
  await expect(cells).toHaveCount(3);
  // The key and every value on screen, each value beside its column's name.
  for (const box of [await key.boundingBox(), ...(await Promise.all([0, 1, 2].map((i) => cells.nth(i).boundingBox())))]) {
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390 + 1);
  }
  expect(names(await cells.evaluateAll((tds) => tds.map((td) => td.dataset.label)), summary.groupMetrics, summary.labels)).toBe(true);
  expect(problems).toEqual([]); // (axe's own styles are refused by the page's CSP: checked before)
  await expectNoViolations(page, "phone table with chosen columns");
  // The chooser fits the phone too.
  const chooser = page.locator("details[data-filter=columns]");
  await chooser.locator("summary").click();
  const list = await chooser.locator("fieldset").boundingBox();
  expect(list.x).toBeGreaterThanOrEqual(0);
  expect(list.x + list.width).toBeLessThanOrEqual(390 + 1);
  await expectNoViolations(page, "phone column chooser");
  // Paging from the keyboard takes focus to the new rows.
  await page.keyboard.press("Escape");
  const next = page.getByRole("button", { name: "Next →" });
  await next.focus();
  await page.keyboard.press("Enter");
  await expect(page.locator(".page-info")).toContainText("page 2 of");
  await expect(page.locator(".table-card .table-scroll")).toBeFocused();
});
