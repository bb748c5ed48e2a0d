// Opening an export from disk (file picker and drag and drop): nothing is fetched, the numbers
// match the file, warnings show their line numbers, and hostile cells stay text.

import { test, expect } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import { FIXTURES, cardNumber, cardText, expectedTotals, oneDecimal, parseCsv, tableRows, waitForDashboard, watchConsole } from "./helpers.js";

test.use({ locale: "en-US" });

const fixture = (name) => path.join(FIXTURES, name);

test("an export opened from disk is summarized without any request leaving the page", async ({ page }) => {
  const problems = watchConsole(page);
  await page.goto("/");
  const api = [];
  page.on("request", (request) => {
    if (/\/api\//.test(request.url())) api.push(request.url());
  });
  await page.getByLabel("Open a CSV export").setInputFiles(fixture("by_user_day.csv"));
  await waitForDashboard(page);

  const rows = parseCsv(fs.readFileSync(fixture("by_user_day.csv"), "utf8"));
  const expected = expectedTotals(rows);
  expect(await cardNumber(page, "users")).toBe(expected.users);
  expect(await cardNumber(page, "activeUsers")).toBe(expected.activeUsers);
  expect(await cardText(page, "hoursSaved")).toBe(oneDecimal(expected.hoursSaved));
  expect(await cardText(page, "Combined CAR")).toBe(oneDecimal(expected.car * 100, "%"));
  expect(await cardText(page, "avgDau")).toBe(oneDecimal(expected.avgDau));
  await expect(page.locator(".source-title")).toHaveText("by_user_day.csv (offline)");
  await expect(page.locator('[data-chart="time"] canvas')).toBeVisible();
  // No client column in a by_user_day export: no client filter, no client chart.
  await expect(page.locator('details[data-filter="clients"]')).toBeHidden();
  await expect(page.locator('[data-chart="clients"]')).toBeHidden();
  expect(api).toEqual([]);
  expect(problems).toEqual([]);
});

test("a file dropped on the drop zone is opened", async ({ page }) => {
  await page.goto("/");
  const text = fs.readFileSync(fixture("by_user.csv"), "utf8");
  const dataTransfer = await page.evaluateHandle((csv) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([csv], "dropped-by_user.csv", { type: "text/csv" }));
    return transfer;
  }, text);
  await page.locator(".dropzone").dispatchEvent("dragenter", { dataTransfer });
  await expect(page.locator(".dropzone")).toHaveClass(/dragging/);
  await page.locator(".dropzone").dispatchEvent("drop", { dataTransfer });
  await waitForDashboard(page);
  await expect(page.locator(".source-title")).toHaveText("dropped-by_user.csv (offline)");
  expect(await cardNumber(page, "users")).toBe(expectedTotals(parseCsv(text)).users);
  // by_user has no dates: the time chart is hidden and day-based numbers show "—".
  await expect(page.locator('[data-chart="time"]')).toBeHidden();
  await expect(page.locator('.card[data-metric="avgDau"] .card-value')).toHaveText("—");
});

test("hostile cells render as text and run nothing; warnings show their lines", async ({ page }) => {
  const problems = watchConsole(page);
  await page.goto("/");
  await page.getByLabel("Open a CSV export").setInputFiles(fixture("hostile.csv"));
  await waitForDashboard(page);

  const name = "<img src=x onerror=window.__pwned=1>";
  await expect(page.locator(".user-name").filter({ hasText: name })).toBeVisible();
  await expect(page.locator(".user-details").filter({ hasText: "<script>window.__pwned=2</script>@example.com" })).toBeVisible();
  // No element was made from the cells, in the document or in the element's shadow root.
  const injected = await page.evaluate(() => {
    const host = document.querySelector("sg-analytics-dashboard");
    const roots = [document, host.shadowRoot];
    return roots.flatMap((root) => [...root.querySelectorAll("img, svg, b, script:not([src])")].map((el) => el.outerHTML));
  });
  expect(injected).toEqual([]);

  // The client filter lists the hostile client name as a label's text.
  await page.locator('details[data-filter="clients"] > summary').click();
  await expect(page.locator('details[data-filter="clients"]').getByText("<b onmouseover=window.__pwned=3>vscode</b>")).toBeVisible();
  await page.locator('details[data-filter="clients"]').getByText("<b onmouseover=window.__pwned=3>vscode</b>").hover();
  await page.keyboard.press("Escape");

  // Group by language: the hostile language is a cell's text.
  await page.getByLabel("Group by").selectOption("language");
  expect((await tableRows(page)).map((r) => r[0])).toContain('"><svg onload=window.__pwned=4>');

  // The ragged row (line 4) was skipped and the bad number (line 5, Searches) reported.
  await expect(page.locator(".badge.warn")).toContainText("1 skipped row");
  await page.locator(".badge.warn").click();
  const warnings = page.locator("details.warnings tbody tr");
  await expect(warnings.filter({ hasText: /^4/ })).toHaveCount(1);
  await expect(warnings.filter({ hasText: /^5\s*Searches/ })).toHaveCount(1);

  await page.waitForTimeout(300);
  expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
  expect(problems).toEqual([]);
});

test("columns named like computed fields never overwrite the cards or the group labels", async ({ page }) => {
  const problems = watchConsole(page);
  await page.goto("/");
  const file = path.join(FIXTURES, "..", "..", "fixtures", "hostile", "structural_names.csv");
  await page.getByLabel("Open a CSV export").setInputFiles(file);
  await waitForDashboard(page);
  const rows = parseCsv(fs.readFileSync(file, "utf8"));
  const ids = [...new Set(rows.map((r) => r["Instance user ID"]))].sort();
  // The computed figures, not the columns named "users" and "hoursSaved".
  expect(await cardNumber(page, "users")).toBe(ids.length);
  const chat = rows.reduce((sum, r) => sum + Number(r["Chat Events"]), 0);
  expect(await cardText(page, "hoursSaved")).toBe(oneDecimal((chat * 5) / 60));
  // A column named "key" does not replace the groups' keys: each user keeps its label.
  await page.getByLabel("Group by").selectOption("user");
  expect((await tableRows(page)).map((r) => r[0]).sort()).toEqual(ids);
  // The renaming is said, on line 1.
  await page.locator(".badge.warn").click();
  const warnings = page.locator("details.warnings tbody tr");
  await expect(warnings.filter({ hasText: "users (column)" })).toHaveCount(1);
  expect(problems).toEqual([]);
});

test("a large file streams in chunks with progress while the page stays responsive", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  // ~30 MB: the sample's rows repeated under new user IDs.
  const [header, ...lines] = fs.readFileSync(fixture("by_user_day.csv"), "utf8").trim().split("\n");
  const copies = Math.ceil((30 * 1024 * 1024) / lines.join("\n").length);
  const parts = [header];
  for (let copy = 0; copy < copies; copy++) {
    for (const line of lines) parts.push(line.replace(/^(\d+)/, (id) => String(Number(id) + copy * 100000)));
  }
  const buffer = Buffer.from(parts.join("\n") + "\n");
  // A real file on disk, so the browser reads it itself (a buffer would be decoded by page script).
  const large = testInfo.outputPath("large.csv");
  fs.writeFileSync(large, buffer);
  const users = new Set(parts.slice(1).map((line) => line.slice(0, line.indexOf(",")))).size;

  await page.goto("/");
  // The element renders its view once it has started: wait for the progress line to exist.
  await page.locator(".progress-detail").waitFor({ state: "attached" });
  // Record every progress text with how many times, by then, a timer on the page's main thread
  // had run: a parse that held the main thread would let no timer run between its updates.
  await page.evaluate(() => {
    const root = document.querySelector("sg-analytics-dashboard").shadowRoot;
    window.__ticks = 0;
    window.__progress = [];
    new MutationObserver(() => window.__progress.push({ text: root.querySelector(".progress-detail").textContent, ticks: window.__ticks })).observe(root.querySelector(".progress-detail"), { childList: true, characterData: true, subtree: true });
    const tick = () => {
      window.__ticks += 1;
      if (!window.__done) setTimeout(tick, 0);
    };
    tick();
  });
  await page.getByLabel("Open a CSV export").setInputFiles(large);
  await waitForDashboard(page);
  await page.evaluate(() => (window.__done = true));
  expect(await cardNumber(page, "users")).toBe(users);
  const progress = await page.evaluate(() => window.__progress);
  const total = `of ${(buffer.length / 1024 / 1024).toFixed(0)} MB`;
  // Progress while rows were still coming in (some read, not all of the file).
  const partial = progress.filter(({ text }) => text.includes(total) && !/ 0 rows/.test(text));
  expect(partial.length).toBeGreaterThan(0);
  // Parsing happens in the worker: the page's own timers kept running while the file was read,
  // from the first progress text to the last partial one (no threshold on time: a count of turns).
  expect(partial[partial.length - 1].ticks).toBeGreaterThan(progress[0].ticks);
});

test("a file that is not an export says so", async ({ page }) => {
  await page.goto("/");
  await page.getByLabel("Open a CSV export").setInputFiles({ name: "notes.csv", mimeType: "text/csv", buffer: Buffer.from("hello,world\n1,2\n") });
  await expect(page.locator(".error-panel")).toBeVisible();
  await expect(page.locator(".error-panel")).toHaveAttribute("data-kind", "input");
  await expect(page.locator(".error-title")).toHaveText("This file is not a usable export");
  await expect(page.locator(".error-message")).toContainText("hello");
  await expect(page.locator(".dashboard")).toBeHidden();
  await page.getByLabel("Open a CSV export").setInputFiles({ name: "empty.csv", mimeType: "text/csv", buffer: Buffer.alloc(0) });
  await expect(page.locator(".error-message")).toContainText("empty");
});

test("the cards say how each figure changed from the equally long range before", async ({ page }) => {
  await page.goto("/");
  await page.getByLabel("Open a CSV export").setInputFiles(fixture("by_user_day.csv"));
  await waitForDashboard(page);
  const rows = parseCsv(fs.readFileSync(fixture("by_user_day.csv"), "utf8"));
  // Ten days, and the ten days before them.
  const inRange = (from, to) => rows.filter((r) => r["Timestamp Date"] >= from && r["Timestamp Date"] <= to);
  const now = expectedTotals(inRange("2025-03-20", "2025-03-29"));
  const before = expectedTotals(inRange("2025-03-10", "2025-03-19"));
  await page.getByLabel("From", { exact: true }).fill("2025-03-20");
  await page.getByLabel("To", { exact: true }).fill("2025-03-29");
  await page.getByLabel("To", { exact: true }).press("Enter");
  const note = (metric) => page.locator(`.card[data-metric="${metric}"] .card-note`);
  const change = (a, b) => `${a > b ? "▲" : a < b ? "▼" : "="} ${Math.abs(Math.round((100 * (a - b)) / b))}% vs 2025-03-10 – 2025-03-19`;
  await expect(note("hoursSaved")).toHaveText(change(now.hoursSaved, before.hoursSaved));
  await expect(note("activeUsers")).toHaveText(change(now.activeUsers, before.activeUsers));
  // A rate says what it was.
  await expect(note("Combined CAR")).toHaveText(new RegExp(`^[▲▼=] from ${oneDecimal(before.car * 100, "%").replace(".", "\\.")} \\(2025-03-10 – 2025-03-19\\)$`));
  // The whole export (Mar 1 to Apr 14) has nothing before it: the cards compare what it holds,
  // its last whole week (Apr 7-13; April is not whole, so there are no two whole months) with
  // the one before (Mar 31 - Apr 6), and one line says so instead of every card.
  await page.getByLabel("From", { exact: true }).fill("");
  await page.getByLabel("To", { exact: true }).fill("");
  await page.getByLabel("To", { exact: true }).press("Enter");
  const latest = expectedTotals(inRange("2025-04-07", "2025-04-13"));
  const prior = expectedTotals(inRange("2025-03-31", "2025-04-06"));
  const weekly = (a, b) => `${a > b ? "▲" : a < b ? "▼" : "="} ${Math.abs(Math.round((100 * (a - b)) / b))}% 2025-04-07 vs 2025-03-31`;
  await expect(note("activeUsers")).toHaveText(weekly(latest.activeUsers, prior.activeUsers));
  await expect(note("hoursSaved")).toHaveText(weekly(latest.hoursSaved, prior.hoursSaved));
  const car = (x) => oneDecimal(x * 100, "%");
  await expect(note("Combined CAR")).toHaveText(`${latest.car > prior.car ? "▲" : latest.car < prior.car ? "▼" : "="} ${car(latest.car)} in 2025-04-07, from ${car(prior.car)}`);
  await expect(page.locator(".cards-compare")).toHaveText(
    "Changes compare the last whole week (2025-04-07) with the one before (2025-03-31): the range before this one (2025-01-15 – 2025-02-28) has no data to compare with.",
  );
  await expect(page.locator(".card-note", { hasText: "no data for" })).toHaveCount(0);
});

test("a people file groups the dashboard by team and never leaves the page", async ({ page }) => {
  await page.goto("/");
  const requests = [];
  page.on("request", (request) => requests.push(request.url()));
  await page.getByLabel("Open a CSV export").setInputFiles(fixture("by_user_day.csv"));
  await waitForDashboard(page);
  const rows = parseCsv(fs.readFileSync(fixture("by_user_day.csv"), "utf8"));
  const users = [...new Set(rows.map((r) => r["Instance user ID"]))].sort();
  // Every user but the last on a team, alternately; the last has no line.
  const teamOf = new Map(users.slice(0, -1).map((u, i) => [u, i % 2 ? "Search" : "Code Intel"]));
  const csv = "Instance user ID,Team\n" + [...teamOf].map(([u, t]) => `${u},${t}`).join("\n") + "\n";
  const before = requests.length;
  await page.getByLabel("People file").setInputFiles({ name: "teams.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await expect(page.locator(".status")).toContainText(`${users.length - 1} users matched, 1 unmapped`);
  await page.getByLabel("Group by").selectOption("Team");
  const table = await tableRows(page);
  const expected = (team) => rows.filter((r) => (teamOf.get(r["Instance user ID"]) ?? null) === team);
  for (const team of ["Code Intel", "Search", null]) {
    const row = table.find((r) => r[0] === (team ?? "(unmapped)"));
    expect(row, `a row for ${team}`).toBeTruthy();
    expect(row).toContain(String(new Set(expected(team).map((r) => r["Instance user ID"])).size));
  }
  // Only the page's own files were requested after the export was opened: no request carries the file.
  expect(requests.slice(before).filter((url) => !/\/(www|pkg)\//.test(url))).toEqual([]);
});
