// The Adoption view: growth accounting, retention cohorts and inactive users, checked against a
// small reference computed here from the export's own CSV (helpers.js, adoptionReference), in the
// page and offline, with the view kept in the URL hash and the inactive list downloadable.

import { test, expect } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  DEMO_TOKEN,
  FIXTURES,
  adoptionReference,
  adoptionTables,
  connect,
  expectedAdoptionTables,
  fetchCounted,
  fetchExportRows,
  inactiveRows,
  mockBase,
  parseCsv,
  waitForDashboard,
  watchConsole,
} from "./helpers.js";

test.use({ locale: "en-US" });

async function expectAdoption(page, reference) {
  const expected = expectedAdoptionTables(reference);
  await expect.poll(async () => (await adoptionTables(page)).growth).toEqual(expected.growth);
  const tables = await adoptionTables(page);
  expect(tables.retention).toEqual(expected.retention);
  expect(inactiveRows(tables)).toEqual(expected.inactive);
}

test("the Adoption view shows the growth, retention and inactive users the export implies", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  const base = mockBase(baseURL, "users=60;days=120");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day" });
  const { rows, registry } = await fetchCounted(page.request, base, { granularity: "by_user_day" });

  await page.getByRole("button", { name: "Adoption", exact: true }).click();
  await expect(page.getByRole("button", { name: "Adoption", exact: true })).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator(".adoption-view")).toBeVisible();
  await expect(page.locator(".usage-view")).toBeHidden();
  await expect(page).toHaveURL(/view=adoption/);
  // Month is the default period; the registry was joined, so its never-seen users are inactive too.
  await expect(page.getByLabel("Period")).toHaveValue("month");
  const monthly = adoptionReference(rows, { period: "month", days: 30, registry });
  // The generated data has the cases the view is for: late joiners, churn and returns, idle seats.
  expect(monthly.growth.slice(1).some((g) => g.newUsers > 0)).toBe(true);
  expect(monthly.growth.some((g) => g.churnedUsers > 0)).toBe(true);
  expect(monthly.growth.some((g) => g.resurrectedUsers > 0)).toBe(true);
  expect(monthly.inactive.some((u) => u.lastActive === null)).toBe(true);
  await expectAdoption(page, monthly);
  await expect(page.locator(".inactive-summary")).toHaveText(`${monthly.inactive.length} users with no active day in the 30 days up to ${monthly.asOf}.`);
  await expect(page.locator(".growth-box canvas")).toHaveCount(5);
  for (const canvas of await page.locator(".growth-box canvas").all()) await expect(canvas).toBeVisible();

  // Weeks: the period picker offers them for a day-grain export.
  await page.getByLabel("Period").selectOption("week");
  await expect(page).toHaveURL(/period=week/);
  await expectAdoption(page, adoptionReference(rows, { period: "week", days: 30, registry }));

  // The days picker changes the inactive list only.
  await page.getByLabel("No active day in the last").selectOption("14");
  await expect(page).toHaveURL(/idle=14/);
  await expectAdoption(page, adoptionReference(rows, { period: "week", days: 14, registry }));

  // The filters are the other views' filters: a date range narrows every answer.
  const days = [...new Set(rows.map((r) => r["Timestamp Date"]))].sort();
  const [from, to] = [days[20], days[80]];
  await page.getByLabel("From", { exact: true }).fill(from);
  await page.getByLabel("To", { exact: true }).fill(to);
  await expect(page).toHaveURL(new RegExp(`to=${to}`));
  const kept = rows.filter((r) => r["Timestamp Date"] >= from && r["Timestamp Date"] <= to);
  await expectAdoption(page, adoptionReference(kept, { period: "week", days: 14, from, to, registry }));
  expect(problems).toEqual([]);
});

test("the view round-trips through the URL hash", async ({ page, baseURL }) => {
  const base = mockBase(baseURL, "users=30;days=60");
  await page.goto("/#view=adoption&period=week&idle=60");
  await connect(page, { base, granularity: "by_user_day" });
  await expect(page.locator(".adoption-view")).toBeVisible();
  await expect(page.getByRole("button", { name: "Adoption", exact: true })).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByLabel("Period")).toHaveValue("week");
  await expect(page.getByLabel("No active day in the last")).toHaveValue("60");
  const { rows, registry } = await fetchCounted(page.request, base, { granularity: "by_user_day" });
  await expectAdoption(page, adoptionReference(rows, { period: "week", days: 60, registry }));

  // Changing the hash (a pasted link in the same tab) changes the view.
  await page.evaluate(() => (location.hash = "#view=adoption&period=month&idle=7"));
  await expect(page.getByLabel("Period")).toHaveValue("month");
  await expect(page.getByLabel("No active day in the last")).toHaveValue("7");
  await expectAdoption(page, adoptionReference(rows, { period: "month", days: 7, registry }));

  // Back to the usage view, from the keyboard: the hash forgets the adoption view, the table is back.
  await page.getByRole("button", { name: "Adoption", exact: true }).focus();
  await page.keyboard.press("Shift+Tab");
  await expect(page.getByRole("button", { name: "Usage", exact: true })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.locator(".usage-view")).toBeVisible();
  await expect(page.locator(".adoption-view")).toBeHidden();
  await expect.poll(() => new URL(page.url()).hash).not.toContain("view=");
  expect(new URL(page.url()).hash).toContain("idle=7");
  expect(page.url()).not.toContain(DEMO_TOKEN);
});

test("the inactive users CSV holds what the list shows, formula-guarded", async ({ page, baseURL }) => {
  const base = mockBase(baseURL, "users=60;days=90");
  await page.goto("/#view=adoption&idle=14");
  await connect(page, { base, granularity: "by_user_day" });
  await expect(page.locator("table.inactive-table tbody tr").first()).toBeVisible();
  const shown = inactiveRows(await adoptionTables(page));
  expect(shown.length).toBeGreaterThan(0);
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Inactive users CSV" }).click()]);
  const text = fs.readFileSync(await file.path(), "utf8");
  const lastDay = (await fetchExportRows(page.request, base, { granularity: "by_user_day" })).map((r) => r["Timestamp Date"]).sort().at(-1);
  expect(file.suggestedFilename()).toMatch(new RegExp(`^sg-analytics_demo\\.sourcegraph\\.local_by_user_day_\\d{4}-\\d{2}-\\d{2}_to_${lastDay}_inactive-14-days\\.csv$`));
  expect(text.split("\n")[0]).toBe("user,email,username,lastActive,serviceAccount,siteAdmin");
  const downloaded = parseCsv(text);
  expect(downloaded.map((r) => [r.user, r.lastActive])).toEqual(shown);
  expect(text).not.toContain(DEMO_TOKEN);
  await expect(page.locator(".status")).toContainText("Downloaded");
});

test("a hostile name in the inactive CSV is formula-guarded", async ({ page }) => {
  await page.goto("/#view=adoption&idle=7");
  const csv =
    "Instance user ID,User Email,Username,Active Sourcegraph User,Timestamp Date,Chat Events\n" +
    "1,=HYPERLINK(\"http://x\"),@evil,true,2025-01-01,1\n" +
    "2,b@x.io,bob,true,2025-02-20,1\n" +
    "-3,c@x.io,+carol,true,2025-01-02,1\n";
  await page.getByLabel("Open a CSV export").setInputFiles({ name: "hostile-adoption.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await waitForDashboard(page);
  await expect(page.locator("table.inactive-table tbody tr")).toHaveCount(2);
  // Shown as text, exactly as written.
  await expect(page.locator("table.inactive-table tbody tr").first()).toContainText("=HYPERLINK(\"http://x\")");
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Inactive users CSV" }).click()]);
  const rows = parseCsv(fs.readFileSync(await file.path(), "utf8"));
  expect(rows).toEqual([
    { user: "1", email: "'=HYPERLINK(\"http://x\")", username: "'@evil", lastActive: "2025-01-01" },
    { user: "-3", email: "c@x.io", username: "'+carol", lastActive: "2025-01-02" },
  ]);
});
/** Downloads the file a button of the Adoption view makes: its name, and its text. */
async function downloadFrom(page, name) {
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name }).click()]);
  return { name: file.suggestedFilename(), text: fs.readFileSync(await file.path(), "utf8") };
}

/**
 * The growth and retention downloads hold exactly what the tables show: the same periods and
 * cohorts in the same order, each count the cell's (the page formats it, the file does not), the
 * quick ratio as shown ("—" in the table, blank in the file); and both equal the reference.
 */
async function expectDownloadsMatchTables(page, reference, period) {
  const count = (n) => new Intl.NumberFormat("en-US").format(Number(n));
  const shown = await adoptionTables(page);
  expect(shown.growth).toEqual(expectedAdoptionTables(reference).growth);
  expect(shown.retention).toEqual(expectedAdoptionTables(reference).retention);

  const growth = await downloadFrom(page, "Growth CSV");
  expect(growth.name).toMatch(new RegExp(`^sg-analytics_demo\\.sourcegraph\\.local_by_user_day_.*_growth-by-${period}\\.csv$`));
  expect(growth.text.split("\n")[0]).toBe("period,activeUsers,newUsers,retainedUsers,resurrectedUsers,churnedUsers,quickRatio,partial,smallSample");
  const growthRows = parseCsv(growth.text);
  // The table's columns: Period, Active, New, Resurrected, Retained, Churned, Quick ratio.
  expect(growthRows.map((r) => [r.period, count(r.activeUsers), count(r.newUsers), count(r.resurrectedUsers), count(r.retainedUsers), count(r.churnedUsers), r.quickRatio === "" ? "—" : r.quickRatio])).toEqual(shown.growth);
  expect(growthRows).toEqual(
    reference.growth.map((g) => ({
      period: g.period,
      activeUsers: String(g.activeUsers),
      newUsers: String(g.newUsers),
      retainedUsers: String(g.retainedUsers),
      resurrectedUsers: String(g.resurrectedUsers),
      churnedUsers: String(g.churnedUsers),
      quickRatio: g.quickRatio === null ? "" : g.quickRatio.toFixed(2),
      partial: String(g.partial),
      // The quick ratio stands on the churned users: under 50 (the default minimum), a small sample.
      smallSample: String(g.churnedUsers > 0 && g.churnedUsers < 50),
    })),
  );

  const retention = await downloadFrom(page, "Retention CSV");
  expect(retention.name).toMatch(new RegExp(`_retention-by-${period}\\.csv$`));
  const width = Math.max(...reference.retention.map((c) => c.active.length));
  expect(retention.text.split("\n")[0]).toBe(["cohort", "users", ...Array.from({ length: width }, (_, k) => `+${k}`), "smallSample"].join(","));
  const retentionRows = parseCsv(retention.text);
  // Each shown row: cohort, users, then [count, share] per period; a younger cohort's file row ends blank.
  const columns = (r) => Array.from({ length: width }, (_, k) => r[`+${k}`]);
  expect(retentionRows.map((r) => [r.cohort, count(r.users), ...columns(r).filter((n) => n !== "").map(count)])).toEqual(shown.retention.map(([cohort, users, ...cells]) => [cohort, users, ...cells.map(([n]) => n)]));
  expect(retentionRows.map((r) => columns(r).slice(columns(r).filter((n) => n !== "").length))).toEqual(reference.retention.map((c) => Array(width - c.active.length).fill("")));
  expect(retentionRows.map((r) => [r.cohort, Number(r.users), ...columns(r).filter((n) => n !== "").map(Number)])).toEqual(reference.retention.map((c) => [c.cohort, c.users, ...c.active]));
  expect(retentionRows.map((r) => r.smallSample)).toEqual(reference.retention.map((c) => String(c.users < 50)));
  for (const file of [growth, retention]) expect(file.text).not.toContain(DEMO_TOKEN);
}

test("the growth and retention CSVs hold what the tables show, for the view's period and filters", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  const base = mockBase(baseURL, "users=60;days=120");
  await page.goto("/#view=adoption&period=week");
  await connect(page, { base, granularity: "by_user_day" });
  const { rows, registry } = await fetchCounted(page.request, base, { granularity: "by_user_day" });
  await expectAdoption(page, adoptionReference(rows, { period: "week", days: 30, registry }));
  await expectDownloadsMatchTables(page, adoptionReference(rows, { period: "week", days: 30, registry }), "week");
  await expect(page.locator(".status")).toContainText("Downloaded");

  // Another period and a date range: the files follow the view.
  await page.getByLabel("Period").selectOption("month");
  const days = [...new Set(rows.map((r) => r["Timestamp Date"]))].sort();
  const [from, to] = [days[10], days[100]];
  await page.getByLabel("From", { exact: true }).fill(from);
  await page.getByLabel("To", { exact: true }).fill(to);
  await expect(page).toHaveURL(new RegExp(`to=${to}`));
  const kept = rows.filter((r) => r["Timestamp Date"] >= from && r["Timestamp Date"] <= to);
  const reference = adoptionReference(kept, { period: "month", days: 30, from, to, registry });
  await expectAdoption(page, reference);
  await expectDownloadsMatchTables(page, reference, "month");
  expect(problems).toEqual([]);
});


test("an export opened offline answers in the page, and nothing leaves it", async ({ page }) => {
  const problems = watchConsole(page);
  const requests = [];
  page.on("request", (request) => requests.push(request.url()));
  await page.goto("/");
  await page.getByLabel("Open a CSV export").setInputFiles(path.join(FIXTURES, "by_user_day.csv"));
  await waitForDashboard(page);
  await page.getByRole("button", { name: "Adoption", exact: true }).click();
  const rows = parseCsv(fs.readFileSync(path.join(FIXTURES, "by_user_day.csv"), "utf8"));
  await expectAdoption(page, adoptionReference(rows, { period: "month", days: 30 }));
  await page.getByLabel("Period").selectOption("week");
  await expectAdoption(page, adoptionReference(rows, { period: "week", days: 30 }));
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Inactive users CSV" }).click()]);
  expect(parseCsv(fs.readFileSync(await file.path(), "utf8")).map((r) => [r.user, r.lastActive])).toEqual(adoptionReference(rows, { period: "week", days: 30 }).inactive.map((u) => [u.user, u.lastActive ?? "never"]));
  // Only the page's own files were loaded (the file's bytes went to the worker, nowhere else).
  expect(requests.filter((url) => !url.startsWith(new URL(page.url()).origin) && !url.startsWith("blob:"))).toEqual([]);
  expect(requests.filter((url) => /\/api\/|_mock/.test(url))).toEqual([]);
  expect(problems).toEqual([]);
});

test("an export without dates says which granularity to fetch; a month export offers no weeks", async ({ page }) => {
  await page.goto("/#view=adoption&period=week");
  await page.getByLabel("Open a CSV export").setInputFiles(path.join(FIXTURES, "by_user.csv"));
  await waitForDashboard(page);
  await expect(page.locator(".adoption-problem")).toBeVisible();
  await expect(page.locator(".adoption-problem")).toContainText("by_user_day");
  await expect(page.locator(".adoption-answers")).toBeHidden();

  // A month-grain export: month periods only, the week in the link falls back to month.
  const csv =
    "Instance user ID,User Email,Username,Active Sourcegraph User,Timestamp Month,Chat Events\n" +
    "1,a@x.io,ann,true,2025-01-01,1\n2,b@x.io,bob,true,2025-01-01,1\n1,a@x.io,ann,true,2025-03-01,2\n3,c@x.io,cy,true,2025-02-01,1\n";
  await page.getByLabel("Open a CSV export").setInputFiles({ name: "months.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await expect(page.locator(".source-title")).toHaveText("months.csv (offline)");
  await expect(page.locator(".adoption-answers")).toBeVisible();
  await expect(page.getByLabel("Period").locator("option")).toHaveText(["by month"]);
  await expect(page).toHaveURL(/view=adoption/);
  expect(page.url()).not.toContain("period=week");
  // Jan: ann, bob new; Feb: cy new, ann and bob churned; Mar: ann back, cy churned.
  await expect.poll(async () => (await adoptionTables(page)).growth).toEqual([
    ["2025-01", "2", "2", "0", "0", "0", "—"],
    ["2025-02", "1", "1", "0", "0", "2", "0.50"],
    ["2025-03", "1", "0", "1", "0", "1", "1.00"],
  ]);
});

test("the demo data's Adoption view at the finest granularity (the README's picture)", async ({ page, baseURL }, testInfo) => {
  const problems = watchConsole(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("/#view=adoption");
  await connect(page, { granularity: "by_user_day_client_language" });
  const { rows, registry } = await fetchCounted(page.request, baseURL);
  await expectAdoption(page, adoptionReference(rows, { period: "month", days: 30, registry }));
  await expect(page.getByLabel("Period").locator("option")).toHaveText(["by month", "by week"]);
  // A test artifact; with SG_UPDATE_SCREENSHOT=1 also the README's picture of the Adoption view.
  const shot = path.join(testInfo.project.outputDir, "adoption.png");
  // The whole page, cut to the view switch and the Adoption view (the filter bar is sticky, so an
  // element screenshot, which scrolls, would draw it over the chart).
  await page.evaluate(() => window.scrollTo(0, 0));
  const top = (await page.locator(".tabs").boundingBox()).y - 12;
  const bottom = await page.locator(".adoption-view").evaluate((el) => el.getBoundingClientRect().bottom + window.scrollY);
  await page.screenshot({ path: shot, fullPage: true, clip: { x: 0, y: top, width: 1280, height: Math.min(1500, bottom + 12 - top) } });
  if (process.env.SG_UPDATE_SCREENSHOT === "1") {
    fs.copyFileSync(shot, path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "docs", "adoption.png"));
  }
  expect(problems).toEqual([]);
});

test("a long range by week: every retention column is in the table, and the cohorts stay in view while it scrolls sideways", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("/#view=adoption&period=week");
  await connect(page, { granularity: "by_user_day" });
  const { rows, registry } = await fetchCounted(page.request, baseURL, { granularity: "by_user_day" });
  const reference = adoptionReference(rows, { period: "week", days: 30, registry });
  await expectAdoption(page, reference);
  const width = Math.max(...reference.retention.map((c) => c.active.length));
  expect(width).toBeGreaterThan(20);
  await expect(page.locator(".retention-card .note").first()).toContainText(`${width} columns (+0 to +${width - 1})`);
  await expect(page.locator("table.retention-table thead th").last()).toHaveText(`+${width - 1}`);

  // Scrolled to the far end: the last period is in view, and so are each row's cohort and size.
  const scroller = page.locator(".retention-card .table-scroll");
  await scroller.evaluate((el) => el.scrollIntoView({ block: "center" }));
  expect(await scroller.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
  await scroller.evaluate((el) => (el.scrollLeft = el.scrollWidth));
  await expect.poll(() => scroller.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0);
  const box = await scroller.boundingBox();
  const inView = async (locator) => {
    const b = await locator.boundingBox();
    return b.x >= box.x - 1 && b.x + b.width <= box.x + box.width + 1;
  };
  expect(await inView(page.locator("table.retention-table thead th").last())).toBe(true);
  const first = page.locator("table.retention-table tbody tr").first();
  expect(await inView(first.locator("th"))).toBe(true);
  expect(await inView(first.locator("td").first())).toBe(true);
  // (The cohort's own text: a partial week's cohort is tagged "partial" beside it.)
  expect(await first.locator("th").evaluate((th) => th.firstChild.textContent)).toBe(reference.retention[0].cohort);
  // And they are drawn on top of the cells that scroll under them.
  const cohortBox = await first.locator("th").boundingBox();
  // (The page is an element with a shadow root: ask that root what is drawn there.)
  const onTop = await scroller.evaluate((el, [x, y]) => el.getRootNode().elementFromPoint(x, y)?.closest("th")?.firstChild.textContent, [cohortBox.x + 5, cohortBox.y + cohortBox.height / 2]);
  expect(onTop).toBe(reference.retention[0].cohort);
  expect(problems).toEqual([]);
});

test("each Adoption view change sends the real worker one message, for what it shows", async ({ page, baseURL }) => {
  // Every message the page posts to its worker, by type (the page's own code is not changed).
  await page.addInitScript(() => {
    window.__sent = [];
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (data, ...rest) {
      // A Report method goes as {type: "call", method, args}: it is counted by its method.
      if (data?.type && data.type !== "cancel") window.__sent.push({ type: data.method ?? data.type, parts: data.asks ? Object.keys(data.asks).sort() : undefined });
      return post.call(this, data, ...rest);
    };
  });
  const base = mockBase(baseURL, "users=20;days=40");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day" });
  const sent = async (action, settled) => {
    await page.evaluate(() => (window.__sent = []));
    await action();
    await settled();
    return page.evaluate(() => window.__sent);
  };
  const growthFirst = () => page.locator("table.growth-table tbody tr th").first().evaluate((th) => th.firstChild.textContent);
  expect(
    await sent(
      () => page.getByRole("button", { name: "Adoption", exact: true }).click(),
      () => expect(page.locator("table.growth-table tbody tr").first()).toBeVisible(),
    ),
  ).toEqual([{ type: "adoption", parts: ["features", "growth", "inactive", "retention", "stickiness"] }]);
  expect(
    await sent(
      () => page.getByLabel("Period").selectOption("week"),
      () => expect.poll(growthFirst).toMatch(/^\d{4}-\d{2}-\d{2}$/),
    ),
  ).toEqual([{ type: "adoption", parts: ["features", "growth", "retention", "stickiness"] }]);
  expect(
    await sent(
      () => page.getByLabel("No active day in the last").selectOption("7"),
      () => expect(page.locator(".inactive-summary")).toContainText("in the 7 days"),
    ),
  ).toEqual([{ type: "adoption", parts: ["inactive"] }]);
  expect(
    await sent(
      () => page.getByLabel("Active only").check(),
      () => expect(page).toHaveURL(/active=1/),
    ),
  ).toEqual([{ type: "adoption", parts: ["features", "growth", "inactive", "retention", "stickiness"] }]);
  // Each download is one message, for its own file.
  for (const [button, type] of [
    ["Growth CSV", "growthCsv"],
    ["Retention CSV", "retentionCsv"],
    ["Stickiness CSV", "stickinessCsv"],
    ["Feature depth CSV", "featuresCsv"],
  ]) {
    expect(
      await sent(
        () => Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: button }).click()]),
        () => expect(page.locator(".status")).toContainText(`_${type.slice(0, -3)}-by-week.csv`),
      ),
    ).toEqual([{ type, parts: undefined }]);
  }
});
