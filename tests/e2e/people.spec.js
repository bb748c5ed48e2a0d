// A people file in the page: filter by its columns' values (kept in the URL hash, the file itself
// never), and chart a metric by one of its columns, checked against sums computed here from the
// export's own CSV and the people file the test writes.

import { test, expect } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import { FIXTURES, adoptionReference, adoptionTables, cardNumber, cardText, connect, expectedAdoptionTables, expectedTotals, fetchCounted, fetchExportRows, inactiveRows, mockBase, oneDecimal, parseCsv, tableRows, waitForDashboard, watchConsole } from "./helpers.js";

test.use({ locale: "en-US", viewport: { width: 1280, height: 900 } });

const TEAMS = ["Search", "Code Intel", "Cloud"];

/**
 * A people file for `rows`: every user but the last three on a team (unevenly, so the teams have
 * different sizes) and a site; the last three have no line ("(unmapped)").
 */
function peopleFile(rows) {
  const users = [...new Set(rows.map((r) => r["Instance user ID"]))].sort();
  const mapped = users.slice(0, -3);
  const team = (i) => TEAMS[i % 5 === 0 ? 2 : i % 2];
  const site = (i) => (i % 3 === 0 ? "EU" : "US");
  const teamOf = new Map(mapped.map((u, i) => [u, team(i)]));
  const siteOf = new Map(mapped.map((u, i) => [u, site(i)]));
  const csv = "Instance user ID,Team,Site\n" + mapped.map((u, i) => `${u},${team(i)},${site(i)}`).join("\n") + "\n";
  return { users, teamOf, siteOf, csv, file: { name: "people.csv", mimeType: "text/csv", buffer: Buffer.from(csv) } };
}

/** The values a filter offers, by the rule info() follows: most users first (ties in file order), "" last. */
function expectedChoices(users, of, fileOrder) {
  const count = new Map();
  for (const u of users) if (of.has(u)) count.set(of.get(u), (count.get(of.get(u)) ?? 0) + 1);
  const values = [...count.keys()].sort((a, b) => count.get(b) - count.get(a) || fileOrder.indexOf(a) - fileOrder.indexOf(b));
  return users.some((u) => !of.has(u)) ? [...values, "(unmapped)"] : values;
}

/** A filter's multi-select in the filter bar, by its column's name. */
const multi = (page, name) => page.locator(`details.multi[data-attribute="${name}"]`);

test("a people file's columns filter the dashboard and the Adoption view, kept in the URL hash", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  const base = mockBase(baseURL, "users=40;days=60");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day" });
  const { rows, all: everyRow, registry: countedRegistry } = await fetchCounted(page.request, base, { granularity: "by_user_day" });
  const people = peopleFile(everyRow);
  const requests = [];
  page.on("request", (request) => requests.push(request.url()));

  // No people file: no column filters.
  await expect(page.locator("details.multi[data-attribute]")).toHaveCount(0);
  await expect(page.locator(".people-name")).toHaveText(/^none/);
  await page.getByLabel("People file").setInputFiles(people.file);
  await expect(page.locator(".status")).toContainText(`${people.users.length - 3} users matched, 3 unmapped`);
  // The picker names the joined file (its input is emptied after each pick).
  await expect(page.locator(".people-name")).toHaveText("people.csv");

  // One multi-select per column, offering the values the module lists for it.
  await expect(multi(page, "Team").locator("summary")).toHaveText("Team: all");
  await expect(multi(page, "Site").locator("summary")).toHaveText("Site: all");
  const fileOrder = (of) => [...new Set(people.users.filter((u) => of.has(u)).map((u) => of.get(u)))];
  await multi(page, "Team").locator("summary").click();
  await expect(multi(page, "Team").locator("label.check")).toHaveText(expectedChoices(people.users, people.teamOf, fileOrder(people.teamOf)));
  await multi(page, "Team").getByLabel("Search", { exact: true }).check();
  await multi(page, "Team").getByLabel("(unmapped)").check();
  await expect(multi(page, "Team").locator("summary")).toHaveText(`Team: 2 of ${TEAMS.length + 1}`);

  // The hash names the choice ("" is the unmapped); the cards count only those users' rows.
  await expect.poll(() => new URLSearchParams(new URL(page.url()).hash.slice(1)).getAll("attr.Team")).toEqual(["Search", ""]);
  const kept = (r) => ["Search", undefined].includes(people.teamOf.get(r["Instance user ID"]));
  const expected = expectedTotals(rows.filter(kept));
  await expect.poll(() => cardNumber(page, "users")).toBe(expected.users);
  expect(await cardNumber(page, "activeUsers")).toBe(expected.activeUsers);
  expect(await cardText(page, "hoursSaved")).toBe(oneDecimal(expected.hoursSaved));

  // The Adoption view answers for the same users. The registry's seats are idle only when their
  // users pass the filter too: its users absent from the export have no line in the people file,
  // so they count under "(unmapped)" and under no team.
  const registry = countedRegistry;
  expect(registry.some((r) => !people.users.includes(r["Instance user ID"]))).toBe(true);
  await page.getByRole("button", { name: "Adoption", exact: true }).click();
  const adoption = (keep) => expectedAdoptionTables(adoptionReference(rows.filter(keep), { period: "month", days: 30, registry: registry.filter(keep) }));
  const reference = adoption(kept);
  await expect.poll(async () => (await adoptionTables(page)).growth).toEqual(reference.growth);
  expect((await adoptionTables(page)).retention).toEqual(reference.retention);
  expect(inactiveRows(await adoptionTables(page))).toEqual(reference.inactive);
  // One team only: neither the other teams' seats nor the unmapped ones are its idle seats.
  if (!(await multi(page, "Team").evaluate((d) => d.open))) await multi(page, "Team").locator("summary").click();
  await multi(page, "Team").getByLabel("(unmapped)").uncheck();
  const search = (r) => people.teamOf.get(r["Instance user ID"]) === "Search";
  const searchOnly = adoption(search);
  await expect.poll(async () => inactiveRows(await adoptionTables(page))).toEqual(searchOnly.inactive);
  expect(searchOnly.inactive.length).toBeGreaterThan(0);
  // (The list the page gave before: every registry seat outside the team as never active.)
  const everySeat = expectedAdoptionTables(adoptionReference(rows.filter(search), { period: "month", days: 30, registry }));
  expect(everySeat.inactive).not.toEqual(searchOnly.inactive);
  await multi(page, "Team").getByLabel("(unmapped)").check();
  await expect.poll(async () => inactiveRows(await adoptionTables(page))).toEqual(reference.inactive);
  await page.getByRole("button", { name: "Usage", exact: true }).click();
  await expect(page.locator(".usage-view")).toBeVisible();

  // The file's contents went nowhere: no request after the export carries any of it.
  expect(requests.filter((url) => /\/api\/|_mock/.test(url))).toEqual([]);
  expect(page.url()).not.toContain("Code%20Intel");

  // A reload keeps the hash but not the file: the filter waits, and the page says so.
  await page.reload();
  await connect(page, { base, granularity: "by_user_day" });
  await expect(page.locator(".pending-filters")).toBeVisible();
  await expect(page.locator(".pending-filters")).toContainText("filters by Team");
  await expect(page.locator(".pending-filters")).toContainText("needs a people file");
  await expect(page.locator(".people-name")).toHaveText(/^none/);
  expect(await cardNumber(page, "users")).toBe(expectedTotals(rows).users);
  expect(new URLSearchParams(new URL(page.url()).hash.slice(1)).getAll("attr.Team")).toEqual(["Search", ""]);
  // Opening the file applies it.
  await page.getByLabel("People file").setInputFiles(people.file);
  await expect(page.locator(".pending-filters")).toBeHidden();
  await expect.poll(() => cardNumber(page, "users")).toBe(expected.users);
  await multi(page, "Team").locator("summary").click();
  await expect(multi(page, "Team").getByLabel("Search", { exact: true })).toBeChecked();

  // Reset view clears it.
  await page.getByRole("button", { name: "Reset view" }).click();
  await expect.poll(() => cardNumber(page, "users")).toBe(expectedTotals(rows).users);
  expect(new URL(page.url()).hash).not.toContain("attr.");
  expect(problems).toEqual([]);
});

test("a chart of the chosen metric by a people-file column, in the view's one request", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  // Every message the page posts to its worker (the page's own code is not changed).
  await page.addInitScript(() => {
    window.__sent = [];
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (data, ...rest) {
      // A Report method goes as {type: "call", method, args}: it is counted by its method.
      if (data?.type && data.type !== "cancel") window.__sent.push({ type: data.method ?? data.type, groupBys: data.args?.[0]?.map?.((q) => q.groupBy.join(",")) });
      return post.call(this, data, ...rest);
    };
  });
  const base = mockBase(baseURL, "users=40;days=60");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day" });
  const { rows, all: everyRow } = await fetchCounted(page.request, base, { granularity: "by_user_day" });
  const people = peopleFile(everyRow);
  const chart = page.locator('[data-chart="people"]');
  await expect(chart).toBeHidden();

  await page.getByLabel("People file").setInputFiles(people.file);
  await expect(chart).toBeVisible();
  await expect(chart.locator(".chart-title")).toHaveText("Hours saved by Team");
  await expect(page.getByLabel("People-file column")).toHaveValue("Team");

  /** The chart's bars as [label, value], read from Chart.js. */
  const bars = () =>
    chart.locator("canvas").evaluate((canvas) => {
      const drawn = window.Chart.getChart(canvas);
      return drawn.data.labels.map((label, i) => [label, drawn.data.datasets[0].data[i]]);
    });
  /** The reference: per value of `of` ("(unmapped)" for none), the metric summed, largest first. */
  const expectedBars = (of, value) => {
    const by = new Map();
    for (const r of rows) {
      const key = of.get(r["Instance user ID"]) ?? "(unmapped)";
      by.set(key, (by.get(key) ?? 0) + value(r));
    }
    return [...by].sort((a, b) => b[1] - a[1]);
  };
  const hours = (r) => expectedTotals([r]).hoursSaved;
  const close = (got, want) => {
    expect(got.map(([label]) => label)).toEqual(want.map(([label]) => label));
    got.forEach(([, value], i) => expect(value).toBeCloseTo(want[i][1], 6));
  };
  await expect.poll(async () => (await bars()).length).toBe(TEAMS.length + 1);
  close(await bars(), expectedBars(people.teamOf, hours));

  const sent = async (action, settled) => {
    await page.evaluate(() => (window.__sent = []));
    await action();
    await settled();
    return page.evaluate(() => window.__sent);
  };
  // Another metric: the time chart and the bar charts (a by_user_day export: top users, and this
  // one) in one round trip.
  const metricTrips = await sent(
    () => page.getByLabel("Chart metric").selectOption("Chat Events"),
    () => expect(chart.locator(".chart-title")).toHaveText("Chat Events by Team"),
  );
  expect(metricTrips).toEqual([{ type: "summarizeMany", groupBys: ["week", "user", "Team"] }]);
  close(await bars(), expectedBars(people.teamOf, (r) => Number(r["Chat Events"] || 0)));

  // Another column: this chart alone, one round trip, and the hash says which column.
  const columnTrips = await sent(
    () => page.getByLabel("People-file column").selectOption("Site"),
    () => expect(chart.locator(".chart-title")).toHaveText("Chat Events by Site"),
  );
  expect(columnTrips).toEqual([{ type: "summarizeMany", groupBys: ["Site"] }]);
  await expect(page).toHaveURL(/chartby=Site/);
  close(await bars(), expectedBars(people.siteOf, (r) => Number(r["Chat Events"] || 0)));

  // A filter redraws it for the users kept, in the same one request as the rest of the view.
  const filterTrips = await sent(
    () => multi(page, "Site").locator("summary").click().then(() => multi(page, "Site").getByLabel("EU").check()),
    () => expect.poll(async () => (await bars()).map(([label]) => label)).toEqual(["EU"]),
  );
  expect(filterTrips).toHaveLength(1);
  expect(filterTrips[0].type).toBe("summarizeMany");
  expect(filterTrips[0].groupBys).toContain("Site");
  close(await bars(), expectedBars(people.siteOf, (r) => (people.siteOf.get(r["Instance user ID"]) === "EU" ? Number(r["Chat Events"] || 0) : 0)).filter(([label]) => label === "EU"));
  expect(problems).toEqual([]);
});

test("opening another people file drops the filter values it does not have, says so, and keeps the rest", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  const base = mockBase(baseURL, "users=40;days=60");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day" });
  const { rows, all: everyRow } = await fetchCounted(page.request, base, { granularity: "by_user_day" });
  const a = peopleFile(everyRow);
  // File B: every user mapped, to "Search" or "Infra" (no "Cloud", no one unmapped), and no Site column.
  const teamB = new Map(a.users.map((u, i) => [u, i % 2 ? "Search" : "Infra"]));
  const csvB = "Instance user ID,Team\n" + a.users.map((u) => `${u},${teamB.get(u)}`).join("\n") + "\n";
  const fileB = { name: "people-b.csv", mimeType: "text/csv", buffer: Buffer.from(csvB) };
  const hashValues = (name) => new URLSearchParams(new URL(page.url()).hash.slice(1)).getAll(name);
  const all = expectedTotals(rows);

  // File A: keep only Cloud (a team B lacks) and only EU (a column B lacks).
  await page.getByLabel("People file").setInputFiles(a.file);
  await multi(page, "Team").locator("summary").click();
  await multi(page, "Team").getByLabel("Cloud", { exact: true }).check();
  await multi(page, "Site").locator("summary").click();
  await multi(page, "Site").getByLabel("EU", { exact: true }).check();
  await expect.poll(() => hashValues("attr.Team")).toEqual(["Cloud"]);
  await expect.poll(() => hashValues("attr.Site")).toEqual(["EU"]);
  const inA = (r) => a.teamOf.get(r["Instance user ID"]) === "Cloud" && a.siteOf.get(r["Instance user ID"]) === "EU";
  const filteredA = expectedTotals(rows.filter(inA));
  expect(filteredA.users).toBeLessThan(all.users);
  await expect.poll(() => cardNumber(page, "users")).toBe(filteredA.users);

  // File B: neither choice can keep anyone, so both go (from the filter and the hash), the page
  // names them, and the cards count every row again.
  await page.getByLabel("People file").setInputFiles(fileB);
  await expect(page.locator(".status")).toContainText(`${a.users.length} users matched, 0 unmapped`);
  await expect(page.locator(".status")).toContainText("Dropped from the filter");
  await expect(page.locator(".people-name")).toHaveText("people-b.csv");
  await expect(page.locator(".status")).toContainText("Team = Cloud");
  await expect(page.locator(".status")).toContainText("Site (no such column)");
  // The note stays beside the filters after the status line moves on.
  await expect(page.locator(".dropped-filters")).toHaveText(/^Dropped from the filter.*Team = Cloud.*Site \(no such column\)/);
  await expect.poll(() => hashValues("attr.Team")).toEqual([]);
  expect(hashValues("attr.Site")).toEqual([]);
  await expect(multi(page, "Site")).toHaveCount(0);
  await expect(multi(page, "Team").locator("summary")).toHaveText("Team: all");
  await expect(page.locator(".pending-filters")).toBeHidden();
  await expect.poll(() => cardNumber(page, "users")).toBe(all.users);
  expect(await cardNumber(page, "activeUsers")).toBe(all.activeUsers);
  expect(await cardText(page, "hoursSaved")).toBe(oneDecimal(all.hoursSaved));

  // A value the next file also has stays: Search in B, then back to A (which has Search too, and
  // unmapped users, but no Infra).
  await multi(page, "Team").locator("summary").click();
  await multi(page, "Team").getByLabel("Search", { exact: true }).check();
  await multi(page, "Team").getByLabel("Infra", { exact: true }).check();
  await expect.poll(() => hashValues("attr.Team").sort()).toEqual(["Infra", "Search"]);
  await page.getByLabel("People file").setInputFiles(a.file);
  await expect(page.locator(".status")).toContainText("Team = Infra");
  await expect(page.locator(".dropped-filters")).toHaveText(/Team = Infra/);
  await expect(page.locator(".dropped-filters")).not.toContainText("Cloud");
  await expect.poll(() => hashValues("attr.Team")).toEqual(["Search"]);
  const searchInA = expectedTotals(rows.filter((r) => a.teamOf.get(r["Instance user ID"]) === "Search"));
  await expect.poll(() => cardNumber(page, "users")).toBe(searchInA.users);
  expect(await cardText(page, "hoursSaved")).toBe(oneDecimal(searchInA.hoursSaved));
  await multi(page, "Team").locator("summary").click();
  await expect(multi(page, "Team").getByLabel("Search", { exact: true })).toBeChecked();
  await expect(multi(page, "Team").locator("summary")).toHaveText(`Team: 1 of ${TEAMS.length + 1}`);
  expect(problems).toEqual([]);
});

test("the mock's demo people file maps most of the export's users, not all, to teams of different sizes", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  await page.goto("/");
  await connect(page, { granularity: "by_user_day" });
  const rows = await fetchExportRows(page.request, baseURL, { granularity: "by_user_day" });
  const response = await page.request.get(`${baseURL}/demo/people.csv`);
  expect(response.ok()).toBe(true);
  const csv = await response.text();
  const [header, ...lines] = csv.trim().split("\n");
  expect(header).toBe("Instance user ID,Team,Department");
  const teamOf = new Map(lines.map((line) => line.split(",")).map(([user, team]) => [user, team]));
  const users = [...new Set(rows.map((r) => r["Instance user ID"]))];
  const matched = users.filter((u) => teamOf.has(u)).length;
  expect(matched).toBeGreaterThan(users.length / 2);
  expect(matched).toBeLessThan(users.length);

  await page.getByLabel("People file").setInputFiles({ name: "people.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await expect(page.locator(".status")).toContainText(`${matched} users matched, ${users.length - matched} unmapped`);
  // The filter offers the teams the export's users are on, most users first, then "(unmapped)".
  await multi(page, "Team").locator("summary").click();
  const fileOrder = [...new Set(lines.map((line) => line.split(",")[1]))];
  const choices = expectedChoices(users.sort(), teamOf, fileOrder);
  await expect(multi(page, "Team").locator("label.check")).toHaveText(choices);
  expect(choices.length).toBeGreaterThanOrEqual(4);
  expect(problems).toEqual([]);
});

test("downloads grouped by a people-file column and filtered by it hold what the view shows", async ({ page, baseURL }) => {
  const problems = watchConsole(page);
  const base = mockBase(baseURL, "users=30;days=40");
  await page.goto("/");
  await connect(page, { base, granularity: "by_user_day" });
  const { rows, all: everyRow } = await fetchCounted(page.request, base, { granularity: "by_user_day" });
  const people = peopleFile(everyRow);
  await page.getByLabel("People file").setInputFiles(people.file);
  await page.getByLabel("Group by").selectOption("Team");
  await multi(page, "Team").locator("summary").click();
  await multi(page, "Team").getByLabel("Search", { exact: true }).check();
  await multi(page, "Team").getByLabel("(unmapped)").check();
  await expect.poll(() => new URLSearchParams(new URL(page.url()).hash.slice(1)).getAll("attr.Team")).toEqual(["Search", ""]);
  const team = (r) => people.teamOf.get(r["Instance user ID"]);
  const kept = rows.filter((r) => ["Search", undefined].includes(team(r)));
  await expect.poll(() => cardNumber(page, "users")).toBe(expectedTotals(kept).users);

  const download = async (label) => {
    const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: label, exact: true }).click()]);
    return fs.readFileSync(await file.path(), "utf8");
  };
  // The original rows: exactly the kept users' rows, in the export's columns.
  const filtered = parseCsv(await download("Filtered rows CSV"));
  expect(filtered.length).toBe(kept.length);
  expect(Object.keys(filtered[0])).toEqual(Object.keys(rows[0]));
  expect(new Set(filtered.map((r) => r["Instance user ID"]))).toEqual(new Set(kept.map((r) => r["Instance user ID"])));
  // Grouped by Team: one group per kept team (the unmapped under an empty key), each with its users and chats.
  const groups = parseCsv(await download("Grouped CSV"));
  const byTeam = (value) => kept.filter((r) => (team(r) ?? "") === value);
  expect(groups.map((g) => g.Team).sort()).toEqual(["", "Search"]);
  for (const g of groups) {
    const expected = expectedTotals(byTeam(g.Team));
    expect(Number(g.Users)).toBe(expected.users);
    expect(Number(g["Chat Events"])).toBe(expected.chatEvents);
  }
  expect(problems).toEqual([]);
});

test("a people file chosen beside Open an export is joined when the export opens, and onto the one shown; it never leaves the page", async ({ page }) => {
  const problems = watchConsole(page);
  const requests = [];
  page.on("request", (request) => requests.push({ url: request.url(), body: request.postData() ?? "" }));
  await page.goto("/");
  const exportPath = path.join(FIXTURES, "by_user_day.csv");
  const rows = parseCsv(fs.readFileSync(exportPath, "utf8"));
  const people = peopleFile(rows);

  // Chosen first, with no export open: the panel names it, nothing is joined yet.
  await page.getByLabel("People CSV (optional)").setInputFiles(people.file);
  await expect(page.locator(".open-people-name")).toHaveText("people.csv");
  await expect(page.locator(".status")).toContainText("will be joined onto the export when it opens");

  // Opening the export joins it before the dashboard is drawn: the filter bar's picker names it,
  // Group by offers its columns, and the status says how many users matched.
  await page.getByLabel("Open a CSV export").setInputFiles(exportPath);
  await waitForDashboard(page);
  await expect(page.locator(".status")).toContainText(`${people.users.length - 3} users matched, 3 unmapped`);
  await expect(page.locator(".people-name")).toHaveText("people.csv");
  const groupBy = page.getByLabel("Group by");
  const offered = await groupBy.locator("option").evaluateAll((options) => options.map((o) => o.value));
  expect(offered).toEqual(expect.arrayContaining(["Team", "Site"]));

  // By team: one row per team and one for the unmapped, each with the team's users (the reference
  // counts them from the export's CSV and the people file written here).
  await groupBy.selectOption("Team");
  const usersOf = (team) => new Set(rows.filter((r) => people.teamOf.get(r["Instance user ID"]) === team).map((r) => r["Instance user ID"])).size;
  await expect.poll(async () => (await tableRows(page)).map((r) => r[0]).sort()).toEqual([...TEAMS, "(unmapped)"].sort());
  const table = await tableRows(page);
  for (const team of [...TEAMS, undefined]) {
    const row = table.find((r) => r[0] === (team ?? "(unmapped)"));
    expect(row, `a row for ${team}`).toContain(String(usersOf(team)));
  }
  // Filtered by one team: the cards count that team's rows only.
  await multi(page, "Team").locator("summary").click();
  await multi(page, "Team").getByLabel("Search", { exact: true }).check();
  const kept = rows.filter((r) => people.teamOf.get(r["Instance user ID"]) === "Search");
  await expect.poll(() => cardNumber(page, "users")).toBe(expectedTotals(kept).users);
  expect(await cardText(page, "hoursSaved")).toBe(oneDecimal(expectedTotals(kept).hoursSaved));

  // With an export shown, another file chosen there is joined at once (the filter bar's join).
  const sites = { name: "sites.csv", mimeType: "text/csv", buffer: Buffer.from("Instance user ID,Region\n" + people.users.map((u, i) => `${u},${i % 2 ? "EMEA" : "AMER"}`).join("\n") + "\n") };
  await page.getByLabel("People CSV (optional)").setInputFiles(sites);
  await expect(page.locator(".status")).toContainText(`People file sites.csv: ${people.users.length} users matched, 0 unmapped`);
  await expect(page.locator(".people-name")).toHaveText("sites.csv");
  await expect(page.locator(".open-people-name")).toHaveText("sites.csv");
  await expect(groupBy.locator('option[value="Region"]')).toHaveCount(1);

  // Opening an export again joins the chosen file again; "Don’t join" forgets it for the next one.
  await page.getByLabel("Open a CSV export").setInputFiles(exportPath);
  await expect(page.locator(".status")).toHaveText(new RegExp(`^Loaded .* People file sites\\.csv: ${people.users.length} users matched, 0 unmapped`));
  await expect(page.locator(".people-name")).toHaveText("sites.csv");
  await expect(groupBy.locator('option[value="Region"]')).toHaveCount(1);
  await page.getByRole("button", { name: "Don’t join" }).click();
  await expect(page.locator(".open-people-name")).toHaveText("none");
  await expect(page.locator(".status")).toHaveText("No people file will be joined onto the exports opened.");
  await page.getByLabel("Open a CSV export").setInputFiles(exportPath);
  await expect(page.locator(".status")).toHaveText(/^Loaded [^]*\)\.$/);
  await expect(page.locator(".people-name")).toHaveText("none");
  await expect(groupBy.locator('option[value="Region"]')).toHaveCount(0);

  // Nothing of either file left the page: only the page's own files were requested, none with a body.
  const origin = new URL(page.url()).origin;
  expect(requests.filter((r) => !r.url.startsWith(origin) && !r.url.startsWith("blob:"))).toEqual([]);
  expect(requests.filter((r) => /\/api\/|_mock/.test(r.url))).toEqual([]);
  expect(requests.filter((r) => r.body !== "")).toEqual([]);
  expect(requests.filter((r) => r.url.includes("Search") || r.url.includes("EMEA"))).toEqual([]);
  expect(page.url()).not.toContain("people.csv");
  expect(problems).toEqual([]);
});

// Regression: a people file opened as an export showed a dashboard of zeros with a small warning
// badge. It is refused, in the user's words, with the one click that joins it where it belongs.
test("a people file opened as an export is refused, and one click joins it onto the export", async ({ page }) => {
  const problems = watchConsole(page);
  await page.goto("/");
  const exportPath = path.join(FIXTURES, "by_user_day.csv");
  const people = peopleFile(parseCsv(fs.readFileSync(exportPath, "utf8")));
  await page.getByLabel("Open a CSV export").setInputFiles(people.file);
  const panel = page.locator(".error-panel");
  await expect(panel).toHaveAttribute("data-kind", "people-file");
  await expect(page.locator(".error-title")).toHaveText("This is a people file, not a usage export");
  await expect(page.locator(".error-title")).toBeFocused();
  await expect(page.locator(".dashboard")).toBeHidden();
  // The module's own words (what and where) are in the details.
  await page.locator(".error-detail > summary").click();
  await expect(page.locator(".error-technical")).toContainText("line 1");
  await expect(page.locator(".error-technical")).toContainText("Instance user ID");
  await page.getByRole("button", { name: "Join it onto the next export opened" }).click();
  await expect(panel).toBeHidden();
  await expect(page.locator(".open-people-name")).toHaveText("people.csv");
  await page.getByLabel("Open a CSV export").setInputFiles(exportPath);
  await waitForDashboard(page);
  await expect(page.locator("details.multi[data-attribute=\"Team\"]")).toBeVisible();
  expect(problems).toEqual([]);
});
