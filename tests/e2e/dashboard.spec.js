// The demo fetch through the mock API, the numbers it shows, grouping, filtering, sorting, paging,
// and the screenshot for the README.

import { test, expect } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cardNumber, cardText, connect, expectedTotals, fetchCounted, fetchCountedRows, mockBase, oneDecimal, tableRows, watchConsole } from "./helpers.js";

test.use({ locale: "en-US", viewport: { width: 1280, height: 900 } });

const accounts = (n) => `${n} service account${n === 1 ? "" : "s"}`;

test("the demo fetch shows the numbers the export implies", async ({ page, baseURL }, testInfo) => {
  const problems = watchConsole(page);
  await page.goto("/");
  // Served locally: the demo instance and base URL are prefilled, the demo token is one click away.
  await expect(page.getByLabel("Instance URL")).toHaveValue("demo.sourcegraph.local");
  await expect(page.getByText("Local demo server detected")).toBeVisible();
  await page.getByRole("button", { name: "Use demo token" }).click();
  await expect(page.getByLabel("Access token")).toHaveValue("sgdemo-local-token");
  await page.getByRole("button", { name: "Load usage" }).click();
  await expect(page.locator(".status")).toContainText("Loaded", { timeout: 30_000 });

  // The registry is fetched with the export: its service accounts are left out, and the page says so.
  const { rows, all, bots } = await fetchCounted(page.request, baseURL);
  expect(bots.size).toBeGreaterThan(0);
  await expect(page.locator(".service-note")).toHaveText(`Excludes ${accounts(bots.size)} (marked in the user registry). Include them`);
  const expected = expectedTotals(rows);
  expect(await cardNumber(page, "users")).toBe(expected.users);
  expect(await cardNumber(page, "activeUsers")).toBe(expected.activeUsers);
  expect(await cardText(page, "hoursSaved")).toBe(oneDecimal(expected.hoursSaved));
  expect(await cardText(page, "avgDau")).toBe(oneDecimal(expected.avgDau));
  expect(await cardText(page, "avgDaysActivePerUser")).toBe(oneDecimal(expected.avgDaysActivePerUser));
  expect(await cardText(page, "Combined CAR")).toBe(oneDecimal(expected.car * 100, "%"));
  expect(await cardText(page, "Percentage of Code Written by Cody")).toBe(oneDecimal(expected.percentByCody, "%"));
  expect(await cardText(page, "Auto-edit acceptance rate")).toBe(oneDecimal(expected.autoEditRate * 100, "%"));
  await expect(page.locator(".source-meta")).toContainText(`${all.length.toLocaleString("en-US")} rows`);

  // The connect panel folds away; charts are drawn (Chart.js sized the canvases).
  await expect(page.locator("details.connect")).not.toHaveAttribute("open", "");
  for (const chart of ["time", "clients", "languages", "users"]) {
    const canvas = page.locator(`[data-chart="${chart}"] canvas`);
    await expect(canvas).toBeVisible();
    expect((await canvas.boundingBox()).height).toBeGreaterThan(100);
  }

  // The screenshot is a test artifact (test-results/dashboard.png); with SG_UPDATE_SCREENSHOT=1
  // it also replaces the README's picture, so an ordinary test run leaves the tree clean.
  const shot = path.join(testInfo.project.outputDir, "dashboard.png");
  await page.screenshot({ path: shot, fullPage: true });
  if (process.env.SG_UPDATE_SCREENSHOT === "1") {
    const docs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "docs");
    fs.mkdirSync(docs, { recursive: true });
    fs.copyFileSync(shot, path.join(docs, "screenshot.png"));
  }
  await testInfo.attach("dashboard", { path: shot, contentType: "image/png" });
  expect(problems).toEqual([]);
});

test("group, filter, sort and page the grouped result", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  const base = mockBase(baseURL, "users=40;days=60");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day" });
  const rows = await fetchCountedRows(page.request, base, { granularity: "by_user_day" });

  // Grouped by user, 25 a page: the pager counts every user.
  const users = new Set(rows.map((r) => r["Instance user ID"]));
  await expect(page.locator(".page-info")).toContainText(`of ${users.size} groups`);
  expect((await tableRows(page)).length).toBe(25);
  await page.getByRole("button", { name: "Next →" }).click();
  await expect(page.locator(".page-info")).toContainText(`26–${users.size} of`);
  expect((await tableRows(page)).length).toBe(users.size - 25);

  // Group by month: one row per month in the data, with the month's distinct users.
  await page.getByLabel("Group by").selectOption("month");
  const months = [...new Set(rows.map((r) => r["Timestamp Date"].slice(0, 7)))].sort();
  await expect(page.locator(".page-info")).toContainText(`of ${months.length} groups`);
  await page.getByRole("button", { name: /^Month/ }).click(); // sort by month, A→Z
  await expect(page.locator('th[aria-sort="ascending"]')).toHaveText(/Month/);
  const byMonth = await tableRows(page);
  expect(byMonth.map((r) => r[0])).toEqual(months);
  const firstMonthUsers = new Set(rows.filter((r) => r["Timestamp Date"].startsWith(months[0])).map((r) => r["Instance user ID"]));
  expect(Number(byMonth[0][1].replace(/,/g, ""))).toBe(firstMonthUsers.size);

  // A user search narrows every number to the matching users.
  const someone = rows[0]["Username"];
  await page.getByLabel("User", { exact: true }).fill(someone);
  await page.getByLabel("User", { exact: true }).press("Enter");
  const matching = rows.filter((r) => [r["Instance user ID"], r["User Email"], r["Username"]].some((v) => v.toLowerCase().includes(someone.toLowerCase())));
  await expect.poll(() => cardNumber(page, "users")).toBe(new Set(matching.map((r) => r["Instance user ID"])).size);
  expect(await cardNumber(page, "activeUsers")).toBe(expectedTotals(matching).activeUsers);

  // A date range narrows to the days in it.
  await page.getByLabel("User", { exact: true }).fill("");
  await page.getByLabel("User", { exact: true }).press("Enter");
  const days = [...new Set(rows.map((r) => r["Timestamp Date"]))].sort();
  const [from, to] = [days[10], days[20]];
  await page.getByLabel("From", { exact: true }).fill(from);
  await page.getByLabel("To", { exact: true }).fill(to);
  const inRange = rows.filter((r) => r["Timestamp Date"] >= from && r["Timestamp Date"] <= to);
  await expect.poll(() => cardNumber(page, "users")).toBe(expectedTotals(inRange).users);
  expect(await cardText(page, "hoursSaved")).toBe(oneDecimal(expectedTotals(inRange).hoursSaved));

  // Sorting by a metric column, largest first, then flipped.
  await page.getByLabel("Group by").selectOption("user");
  await page.getByRole("button", { name: /^Chat Events/ }).click();
  await expect(page.locator('th[aria-sort="descending"]')).toHaveText(/Chat Events/);
  const chatColumn = async () => {
    const header = await page.locator("table.grid:not(.compact) thead th").allTextContents();
    const index = header.findIndex((h) => h.startsWith("Chat Events"));
    return (await tableRows(page)).map((r) => Number(r[index].replace(/,/g, "")));
  };
  const descending = await chatColumn();
  expect(descending).toEqual([...descending].sort((a, b) => b - a));
  await page.getByRole("button", { name: /^Chat Events/ }).click();
  await expect(page.locator('th[aria-sort="ascending"]')).toHaveText(/Chat Events/);
  const ascending = await chatColumn();
  expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
  expect(problems).toEqual([]);
});

test("clients, languages and service accounts filter the client-level export", async ({ page, baseURL }) => {
  const base = mockBase(baseURL, "users=20;days=20");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day_client_language" });
  const { rows, all, bots } = await fetchCounted(page.request, base);

  // The client choices are the clients present in the export.
  const clients = [...new Set(all.map((r) => r["Client Name"]))].sort();
  await page.locator('details[data-filter="clients"] > summary').click();
  const offered = await page.locator('details[data-filter="clients"] input[type="checkbox"]').evaluateAll((inputs) => inputs.map((i) => i.value));
  expect([...offered].sort()).toEqual(clients);

  const client = clients[0];
  await page.locator('details[data-filter="clients"]').getByLabel(client, { exact: true }).check();
  await page.keyboard.press("Escape");
  const ofClient = rows.filter((r) => r["Client Name"] === client);
  await expect.poll(() => cardNumber(page, "users")).toBe(expectedTotals(ofClient).users);
  await expect(page.locator('details[data-filter="clients"] > summary')).toHaveText(`Clients: 1 of ${clients.length}`);

  // Group by client: only the chosen client is left.
  await page.getByLabel("Group by").selectOption("client");
  expect((await tableRows(page)).map((r) => r[0])).toEqual([client]);

  // Service accounts (the registry was joined) are left out by default; one click counts them,
  // and the note and the filter bar's box follow.
  await page.getByRole("button", { name: "Reset view" }).click();
  await expect.poll(() => cardNumber(page, "users")).toBe(expectedTotals(rows).users);
  expect(bots.size).toBeGreaterThan(0);
  expect(expectedTotals(all).users).toBe(expectedTotals(rows).users + bots.size);
  await expect(page.getByLabel("Exclude service accounts")).toBeChecked();
  await page.locator(".service-note").getByRole("button", { name: "Include them" }).click();
  await expect.poll(() => cardNumber(page, "users")).toBe(expectedTotals(all).users);
  await expect(page.locator(".service-note")).toHaveText(`Includes ${accounts(bots.size)} (marked in the user registry). Exclude them`);
  await expect(page.getByLabel("Exclude service accounts")).not.toBeChecked();
  await expect(page).toHaveURL(/service=1/);
  await page.getByLabel("Exclude service accounts").check();
  await expect.poll(() => cardNumber(page, "users")).toBe(expectedTotals(rows).users);
  await expect(page.locator(".service-note")).toContainText(`Excludes ${accounts(bots.size)}`);
});

test("minutes saved per feature change hours saved", async ({ page, baseURL }) => {
  const base = mockBase(baseURL, "users=10;days=15");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day" });
  const rows = await fetchCountedRows(page.request, base, { granularity: "by_user_day" });
  const before = expectedTotals(rows).hoursSaved;
  expect(await cardText(page, "hoursSaved")).toBe(oneDecimal(before));

  await page.locator("details.minutes > summary").click();
  const chat = page.locator('input[data-feature="Chat Events"]');
  await expect(chat).toHaveValue("5");
  await chat.fill("15");
  await chat.press("Enter");
  await chat.blur();
  const chatEvents = expectedTotals(rows).chatEvents;
  await expect.poll(() => cardText(page, "hoursSaved")).toBe(oneDecimal(before + (chatEvents * 10) / 60));
  await page.getByRole("button", { name: "Restore defaults" }).click();
  await expect.poll(() => cardText(page, "hoursSaved")).toBe(oneDecimal(before));
});

test("a granularity without days hides the time chart and shows — for day-based numbers", async ({ page, baseURL }) => {
  const base = mockBase(baseURL, "users=8;days=40");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user" });
  await expect(page.locator('[data-chart="time"]')).toBeHidden();
  await expect(page.locator('[data-chart="clients"]')).toBeHidden();
  await expect(page.locator('[data-chart="users"]')).toBeVisible();
  await expect(page.locator('.card[data-metric="avgDau"] .card-value')).toHaveText("—");
  await expect(page.locator('.card[data-metric="avgDaysActivePerUser"] .card-value')).toHaveText("—");
  // Only the keys this granularity can answer are offered.
  expect(await page.getByLabel("Group by").locator("option").allTextContents()).toEqual(["User"]);
  await expect(page.getByLabel("From", { exact: true })).toBeHidden();
});

test("the connect form offers the granularities the module names, finest (the API's default) selected", async ({ page }) => {
  await page.goto("/");
  const select = page.getByLabel("Granularity");
  await expect(select.locator("option")).not.toHaveCount(0);
  const offered = await select.locator("option").evaluateAll((options) => options.map((o) => [o.value, o.textContent]));
  const named = await page.evaluate(async () => {
    const m = await import("/www/module.js");
    await m.default();
    return m.granularities();
  });
  // As many as the API has, each once, the label as the module says it (capitalized).
  expect(named.map((g) => g.name).sort()).toEqual(["by_user", "by_user_day", "by_user_day_client_language", "by_user_month"]);
  expect(offered).toEqual(named.map((g) => [g.name, g.label[0].toUpperCase() + g.label.slice(1)]));
  await expect(select).toHaveValue("by_user_day_client_language");
});

test("the dashboard is usable on a narrow screen", async ({ page, baseURL }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/");
  await connect(page, { base: mockBase(baseURL, "users=10;days=10"), granularity: "by_user_day" });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await expect(page.locator(".card").first()).toBeVisible();
  // Keyboard: the sort buttons are reachable and work with Enter.
  // (A user's row has no user count: the module says which metrics mean something per user.)
  await page.getByRole("button", { name: /^Days active per user/ }).focus();
  await page.keyboard.press("Enter");
  await expect(page.locator('th[aria-sort="descending"]')).toHaveText(/Days active per user/);
});

test("month-by-month fetching loads the same numbers as one request", async ({ page, baseURL }) => {
  const base = mockBase(baseURL, "users=15;days=100");
  const range = { startDate: "2025-01-20", endDate: "2025-03-10" };
  await page.goto("/");
  await page.locator("details.advanced > summary").click();
  await page.getByLabel(/Fetch month by month/).check();
  await connect(page, { base, granularity: "by_user_day", ...range });
  // Three calendar months were asked for, one request each (and one for the registry, one for the
  // credits).
  const { hits } = await (await page.request.get(`${base}/_hits`)).json();
  expect(hits).toBe(5);
  const { rows, all } = await fetchCounted(page.request, base, { granularity: "by_user_day", ...range });
  const expected = expectedTotals(rows);
  expect(await cardNumber(page, "users")).toBe(expected.users);
  expect(await cardText(page, "hoursSaved")).toBe(oneDecimal(expected.hoursSaved));
  await expect(page.locator(".source-meta")).toContainText(`${all.length.toLocaleString("en-US")} rows`);
});

// A filter change redraws every chart; a caption or note that stays the same is not written again
// (the canvases' text alternatives, which say the values, are), so that Chart.js measures its
// labels' text on a page the browser has nothing to lay out for (a rewritten caption would cost
// a layout of its own before the frame's).
test("a filter change redraws the charts and leaves their unchanged captions alone", async ({ page, baseURL }) => {
  const base = mockBase(baseURL, "users=20;days=20");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day_client_language" });
  const charts = page.locator("[data-chart]:visible");
  const names = await charts.evaluateAll((figures) => figures.map((f) => f.dataset.chart));
  expect(names.length).toBeGreaterThanOrEqual(4);
  const values = () => charts.locator("canvas").evaluateAll((canvases) => canvases.map((c) => JSON.stringify(window.Chart.getChart(c).data.datasets.map((d) => d.data))));
  const before = await values();
  const captions = await charts.locator(".chart-title").allTextContents();
  // Every mutation inside the chart cards from here on (the cards live in the page's root).
  await charts.first().evaluate((figure) => {
    window.__chartMutations = [];
    const observer = new MutationObserver((records) => window.__chartMutations.push(...records.map((r) => `${r.type} ${r.attributeName ?? ""} of ${r.target.nodeName} in ${r.target.parentElement?.closest("[data-chart]")?.dataset.chart ?? r.target.closest?.("[data-chart]")?.dataset.chart}`)));
    for (const card of figure.getRootNode().querySelectorAll("[data-chart]")) observer.observe(card, { subtree: true, childList: true, characterData: true, attributes: true });
  });

  await page.locator('details[data-filter="clients"] > summary').click();
  await page.locator('details[data-filter="clients"] input[type="checkbox"]').first().check();
  await page.keyboard.press("Escape");
  // Redrawn: each chart's values follow the one client.
  await expect.poll(async () => (await values()).filter((v, i) => v !== before[i]).length).toBe(names.length);
  expect(await charts.locator(".chart-title").allTextContents()).toEqual(captions);
  // What changes is each canvas's text alternative, which says the values; nothing else is written.
  const mutations = await page.evaluate(() => window.__chartMutations);
  expect(mutations.filter((m) => !/^attributes aria-label of CANVAS /.test(m))).toEqual([]);
  expect(new Set(mutations)).toEqual(new Set(names.map((name) => `attributes aria-label of CANVAS in ${name}`)));
});

// A chart asked to show what it shows already is not drawn again (Chart.js would resolve its
// options, lay it out and draw it anew); a chart whose answer changes is drawn once.
test("a filter that keeps the charts' answers leaves them as drawn; one that changes them redraws each once", async ({ page, baseURL }) => {
  const base = mockBase(baseURL, "users=20;days=20");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day_client_language" });
  const charts = page.locator("[data-chart]:visible canvas");
  // Counts each chart's updates from here on.
  const names = await charts.evaluateAll((canvases) => {
    window.__updates = {};
    return canvases.map((canvas) => {
      const chart = window.Chart.getChart(canvas);
      const name = canvas.closest("[data-chart]").dataset.chart;
      window.__updates[name] = 0;
      const update = chart.update.bind(chart);
      chart.update = (...args) => {
        window.__updates[name] += 1;
        return update(...args);
      };
      return name;
    });
  });
  const values = async () => Object.fromEntries(await charts.evaluateAll((canvases) => canvases.map((c) => [c.closest("[data-chart]").dataset.chart, JSON.stringify(window.Chart.getChart(c).data)])));
  const before = await values();
  // The page measures each redraw ("sg-analytics:render", for DevTools and the benchmarks).
  const redraws = () => page.evaluate(() => performance.getEntriesByName("sg-analytics:render").length);
  const drawn = await redraws();

  await page.getByLabel("Active only").check();
  await expect.poll(redraws).toBe(drawn + 1);
  const after = await values();
  // This export's users are all active: the view is redrawn with the answers it had.
  expect(after).toEqual(before);
  expect(await page.evaluate(() => window.__updates)).toEqual(Object.fromEntries(names.map((name) => [name, 0])));

  await page.locator('details[data-filter="clients"] > summary').click();
  await page.locator('details[data-filter="clients"] input[type="checkbox"]').first().check();
  await expect.poll(redraws).toBe(drawn + 2);
  const ofClient = await values();
  expect(names.filter((name) => ofClient[name] !== after[name])).toEqual(names);
  expect(await page.evaluate(() => window.__updates)).toEqual(Object.fromEntries(names.map((name) => [name, 1])));
});
