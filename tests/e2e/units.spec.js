// The page's modules on their own: the controller against a stub view and a stub client (the
// TodoMVC lesson: it is testable without a DOM), the hash round trip, file names, error panels,
// and a static check that no page code builds HTML from strings.

import { test, expect } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..");

test("no page code builds HTML from strings; index.html has no inline script or style", async () => {
  const www = path.join(root, "www");
  for (const name of fs.readdirSync(www).filter((n) => n.endsWith(".js"))) {
    const source = fs.readFileSync(path.join(www, name), "utf8");
    expect(source, name).not.toMatch(/\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|createContextualFragment|\beval\(|new Function\(/);
  }
  const html = fs.readFileSync(path.join(root, "index.html"), "utf8");
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is a file
  expect(html).not.toMatch(/\sstyle=|<style/);
  expect(html).not.toMatch(/\son[a-z]+=/i);
  const csp = html.match(/http-equiv="Content-Security-Policy" content="([^"]+)"/)[1];
  // The header `cargo xtask serve` sends (xtask/src/server.rs) is the one source; a meta tag
  // cannot carry frame-ancestors.
  const server = fs.readFileSync(path.join(root, "xtask/src/server.rs"), "utf8");
  const header = server.match(/pub const CSP: &str = "((?:[^"\\]|\\\n)*)";/)[1].replace(/\\\n/g, "");
  expect(csp).toBe(header.split("; ").filter((d) => !d.startsWith("frame-ancestors")).join("; "));
  expect(csp).toMatch(/worker-src [^;]*blob:/); // the worker starts from a blob: URL (www/client.js)
  // No form may submit anywhere (a form sent without its script would put the token in a URL).
  expect(csp).toContain("form-action 'none'");
});

// A small day-grain export: what the page is told about it comes from the real module's info().
const DAY_EXPORT =
  "Instance user ID,User Email,Username,Active Sourcegraph User,Timestamp Date,Chat Events,Combined Completion Suggestions,Combined Completion Acceptances,Combined CAR,Total Characters Written by Cody,Total Characters Written,Percentage of Code Written by Cody\n" +
  "1,a@x.io,ann,true,2025-01-01,3,10,3,0.3,10,100,10\n" +
  "2,b@x.io,bob,true,2025-01-02,4,0,0,,0,0,\n";

test.describe("modules in the browser", () => {
  test.beforeEach(async ({ page }) => {
    await page.goto("/");
    await page.evaluate(async (csv) => {
      const module = await import("/pkg/sg_analytics.js");
      await module.default({ module_or_path: "/pkg/sg_analytics_bg.wasm" });
      globalThis.sga = module;
      globalThis.dayInfo = module.Report.fromCsv(csv).info();
    }, DAY_EXPORT);
  });

  test("the hash round-trips a view and never carries a token", async ({ page }) => {
    const result = await page.evaluate(async () => {
      const { defaultView, encodeHash, decodeHash, fitAttributesToFile, fitView, filterOf, pendingAttributes } = await import("/www/state.js");
      const view = {
        ...defaultView(),
        groupBy: ["client", "week"],
        from: "2025-03-01",
        to: "2025-03-31",
        userSearch: "eva & co",
        clients: ["vscode.cody", "a,b"],
        languages: [""],
        activeOnly: true,
        includeServiceAccounts: true,
        sort: { by: "Chat Events", desc: false },
        page: 3,
        pageSize: 50,
        metric: "Searches",
        timeKey: "day",
        minutes: { "Chat Events": 7.5 },
        // People-file filters and chart column: any names and values, "" the unmapped.
        attributes: { Team: ["Search", ""], "R&D, West": ["a=b&c", "#1"] },
        chartBy: "R&D, West",
      };
      const source = { instanceUrl: "example.sourcegraphcloud.com", granularity: "by_user_day", startDate: "2025-01-01", token: "secret-token" };
      const hash = encodeHash(view, source);
      const back = decodeHash(`#${hash}`);
      return {
        hash,
        same: JSON.stringify(back.view) === JSON.stringify(view),
        source: back.source,
        fitted: fitView(view, globalThis.dayInfo),
        filterWithout: filterOf(view, {}),
        filterWithTeam: filterOf(view, { attributes: ["Team"] }),
        // Service accounts: left out by the module's default; the view only ever asks to count them.
        filterWithRegistry: filterOf(view, { registryLoaded: true }),
        filterDefault: filterOf(defaultView(), { registryLoaded: true }),
        pending: pendingAttributes(view, { attributes: ["Team"] }),
        // A file whose users are all on a team (no unmapped), and without the other column.
        toFile: fitAttributesToFile(view, [{ name: "Team", values: ["Cloud", "Search"] }]),
        toNoFile: fitAttributesToFile(view, []),
        garbage: decodeHash("#group=drop%20table&page=-4&size=7&from=yesterday&attr.__proto__=x&attr.=y"),
      };
    });
    expect(result.same).toBe(true);
    expect(result.hash).not.toContain("secret");
    expect(result.source).toEqual({ instanceUrl: "example.sourcegraphcloud.com", granularity: "by_user_day", startDate: "2025-01-01" });
    // A by_user_day export has no clients: the grouping and the client filter fall back.
    expect(result.fitted.groupBy).toEqual(["week"]);
    expect(result.fitted.clients).toEqual([]);
    expect(result.garbage.view.groupBy).toEqual(["user"]);
    expect(result.garbage.view.page).toBe(0);
    expect(result.garbage.view.pageSize).toBe(25);
    expect(result.garbage.view.from).toBe("");
    expect(result.garbage.view.attributes).toEqual({});
    // Filters on people-file columns wait for a file with those columns; the module's info() decides.
    expect(result.fitted.attributes).toEqual({ Team: ["Search", ""], "R&D, West": ["a=b&c", "#1"] });
    expect(result.filterWithout.attributes).toBeUndefined();
    expect(result.filterWithTeam.attributes).toEqual({ Team: ["Search", ""] });
    expect(result.filterWithout.excludeServiceAccounts).toBeUndefined();
    expect(result.filterWithRegistry.excludeServiceAccounts).toBe(false);
    expect(result.filterDefault).toEqual({});
    expect(result.hash).toContain("service=1");
    expect(result.pending).toEqual(["R&D, West"]);
    // Joining a file keeps the chosen values its users have and drops the rest, saying which.
    expect(result.toFile.view.attributes).toEqual({ Team: ["Search"] });
    expect(result.toFile.dropped).toEqual([
      { name: "Team", values: [""], column: true },
      { name: "R&D, West", values: ["a=b&c", "#1"], column: false },
    ]);
    expect(result.toNoFile.view.attributes).toEqual({});
    expect(result.toNoFile.dropped.map((d) => d.name)).toEqual(["Team", "R&D, West"]);
  });

  test("formatting: null rates show —, file names say what they hold", async ({ page }) => {
    const result = await page.evaluate(async () => {
      const f = await import("/www/format.js");
      const meta = (name) => globalThis.dayInfo.metrics.find((m) => m.name === name);
      return {
        car: f.formatMetric("Combined CAR", 0.27, meta("Combined CAR")),
        carNull: f.formatMetric("Combined CAR", null, meta("Combined CAR")),
        pct: f.formatMetric("Percentage of Code Written by Cody", 14.79, meta("Percentage of Code Written by Cody")),
        chat: f.formatMetric("Chat Events", 1234, meta("Chat Events")),
        dau: f.formatMetric("avgDau", null),
        name: f.downloadName({ source: "https://Example.sourcegraphcloud.com/", granularity: "by_user_day", from: "2025-01-01", to: "2025-01-31", what: "by-week", ext: "csv" }),
        hostile: f.downloadName({ source: "../../etc/passwd<x>.csv", granularity: "", what: "rows", ext: "csv" }),
      };
    });
    expect(result.car).toBe("27.0%");
    expect(result.carNull).toBe("—");
    expect(result.pct).toBe("14.8%");
    expect(result.chat).toBe("1,234");
    expect(result.dau).toBe("—");
    expect(result.name).toBe("sg-analytics_Example.sourcegraphcloud.com_by_user_day_2025-01-01_to_2025-01-31_by-week.csv");
    expect(result.hostile).toMatch(/^sg-analytics_[A-Za-z0-9._-]+_all-dates_rows\.csv$/);
    expect(result.hostile).not.toContain("/");
  });

  test("morph brings a table up to date in place: unchanged cells stay the same nodes", async ({ page }) => {
    const result = await page.evaluate(async () => {
      const { h, morph } = await import("/www/dom.js");
      const row = (name, value, extra) => h("tr", {}, h("th", { class: "key" }, name), h("td", { class: value === null ? "num none" : "num", title: extra }, value ?? "—"));
      const live = h("tbody", {}, row("ann", "3"), row("bob", "4", "small sample"), row("cy", "5"));
      const [annCell, bobRow, bobCell] = [live.rows[0].cells[1], live.rows[1], live.rows[1].cells[1]];
      const annText = annCell.firstChild;
      // ann unchanged; bob's value and attributes change; cy's row goes; a span replaces a text.
      const fresh = h("tbody", {}, row("ann", "3"), row("bob", null), h("tr", {}, h("th", {}, h("span", {}, "dee"))));
      const expected = fresh.outerHTML;
      morph(live, fresh);
      const first = { html: live.outerHTML, keptAnn: live.rows[0].cells[1] === annCell && annCell.firstChild === annText, keptBob: live.rows[1] === bobRow && live.rows[1].cells[1] === bobCell };
      const grown = h("tbody", {}, row("ann", "3"), row("bob", "6"), row("cy", "7"), row("dee", "8"));
      const expectedGrown = grown.outerHTML;
      const before = live.rows[0];
      morph(live, grown);
      return {
        ...first,
        expected,
        grown: live.outerHTML === expectedGrown,
        rows: live.rows.length,
        firstKept: live.rows[0] === before,
      };
    });
    expect(result.html).toBe(result.expected);
    expect(result.keptAnn).toBe(true);
    expect(result.keptBob).toBe(true);
    expect(result.grown).toBe(true);
    expect(result.rows).toBe(4);
    expect(result.firstKept).toBe(true);
  });

  test("morph's result is the fresh tree, attribute for attribute", async ({ page }) => {
    const result = await page.evaluate(async () => {
      const { h, morph } = await import("/www/dom.js");
      const live = h("div", {}, h("p", { class: "a", "data-x": "1" }, "one"), "text", h("span", {}, "two"));
      const fresh = h("div", {}, h("p", { title: "t" }, "uno"), h("b", {}, "bold"));
      const want = fresh.outerHTML;
      const p = live.firstChild;
      morph(live, fresh);
      return { html: live.outerHTML, want, keptP: live.firstChild === p };
    });
    expect(result.html).toBe(result.want);
    expect(result.keptP).toBe(true);
  });

  test("the credits panel reads any answer without throwing, and names what it cannot read", async ({ page }) => {
    const result = await page.evaluate(async () => {
      const { creditsTable } = await import("/www/credits.js");
      // The buckets as the module finds them in the answer (fetchDashboard hands them over so).
      const m = await import("/www/module.js");
      await m.default();
      const loaded = (data) => creditsTable({ loaded: true, data, buckets: m.creditBuckets(data) });
      const odd = [null, undefined, 5, "text", true, [1, 2], {}, { status: "ok", total: 3 }, { buckets: [1, 2] }, [[1], [2]], { buckets: "none" }];
      return {
        odd: odd.map((data) => loaded(data).state),
        empty: [loaded([]).state, loaded({ buckets: [] }).state],
        json: loaded({ unit: "credits", buckets: [{ month: "2025-01", creditsUsed: 1234, chatCredits: 1000.5, note: null }, { month: "2025-02", creditsUsed: 0, extra: { deep: 1 } }] }),
        // A CSV answer: objects keyed by the header, every cell text; the period column leads.
        csv: loaded([{ "Credits Used": "12", Month: "2025-03", kind: "chat" }]),
        failed: creditsTable({ loaded: false, error: "the API answered 403" }),
        offline: creditsTable(undefined, { offline: true }),
        none: creditsTable(undefined),
      };
    });
    expect(result.odd).toEqual(Array(11).fill("unrecognised"));
    expect(result.empty).toEqual(["empty", "empty"]);
    expect(result.json.state).toBe("table");
    expect(result.json.unit).toBe("credits");
    expect(result.json.columns.map((c) => [c.label, c.numeric])).toEqual([["Month", false], ["Credits used", true], ["Chat credits", true], ["Note", true], ["Extra", false]]);
    expect(result.json.rows).toEqual([["2025-01", "1,234", "1,000.5", "", ""], ["2025-02", "0", "", "", '{"deep":1}']]);
    expect(result.csv.columns.map((c) => c.label)).toEqual(["Month", "Credits Used", "Kind"]);
    expect(result.csv.rows).toEqual([["2025-03", "12", "chat"]]);
    expect(result.failed).toEqual({ state: "failed", message: "the API answered 403" });
    expect(result.offline).toEqual({ state: "absent", reason: "offline" });
    expect(result.none).toEqual({ state: "absent", reason: "not-fetched" });
  });

  test("only an abort is a cancel, whatever a message says", async ({ page }) => {
    const result = await page.evaluate(async () => {
      const { isCancel } = await import("/www/errors.js");
      const named = Object.assign(new Error("The user aborted a request."), { name: "AbortError" });
      return {
        abortError: isCancel(named),
        abortCode: isCancel(Object.assign(new Error("stopped"), { code: "aborted" })),
        messageOnly: isCancel(new Error("the upload was aborted by the proxy")),
        otherCode: isCancel(Object.assign(new Error("aborted"), { code: "unauthorized" })),
        text: isCancel("aborted"),
      };
    });
    expect(result).toEqual({ abortError: true, abortCode: true, messageOnly: false, otherCode: false, text: false });
  });

  test("a CSP violation reads as the directive that decided and the source to add", async ({ page }) => {
    const result = await page.evaluate(async () => {
      const { explainViolation } = await import("/www/csp.js");
      const { explainError } = await import("/www/errors.js");
      const { CspError } = await import("/www/client.js");
      const pageOrigin = "https://portal.example";
      const advice = (directive, blocked, policy, disposition = "enforce") => explainViolation({ directive, blocked, policy, disposition }, { pageOrigin });
      const api = advice("connect-src", "https://analytics.sourcegraph.com/api/reports/by-user-client-date?instanceURL=x", "default-src 'self'; connect-src 'self'");
      return {
        api,
        // No worker-src: worker-src falls back to child-src, then script-src, then default-src.
        fallback: advice("worker-src", "blob", "default-src 'self'; script-src 'self' https://cdn.example"),
        none: advice("worker-src", "blob", "worker-src 'none'"),
        self: advice("script-src-elem", "https://portal.example/sg/www/worker.js", "default-src 'none'; script-src 'none'"),
        wasm: advice("script-src", "wasm-eval", "script-src 'self'"),
        reportOnly: advice("connect-src", "https://x.example/", "connect-src 'self'", "report"),
        panel: explainError(new CspError(api, new Error("Failed to fetch"))),
      };
    });
    expect(result.api).toMatchObject({ directive: "connect-src", source: "https://analytics.sourcegraph.com", fix: "connect-src 'self' https://analytics.sourcegraph.com" });
    expect(result.api.message).toContain("the request to https://analytics.sourcegraph.com");
    expect(result.api.message).not.toContain("instanceURL");
    expect(result.fallback).toMatchObject({ directive: "script-src", source: "blob:", fix: "script-src 'self' https://cdn.example blob:" });
    expect(result.none.fix).toBe("worker-src blob:");
    expect(result.self).toMatchObject({ directive: "script-src", source: "'self'", fix: "script-src 'self'" });
    expect(result.wasm).toMatchObject({ directive: "script-src", source: "'wasm-unsafe-eval'", fix: "script-src 'self' 'wasm-unsafe-eval'" });
    expect(result.reportOnly).toBeNull();
    expect(result.panel.kind).toBe("csp");
    expect(result.panel.next).toBe("Add https://analytics.sourcegraph.com to the page’s connect-src directive, so that it reads: connect-src 'self' https://analytics.sourcegraph.com");
  });

  test("each Adoption view change is one round trip, asking only for what it shows", async ({ page }) => {
    const result = await page.evaluate(async () => {
      const { Dashboard } = await import("/www/app.js");
      const handlers = {};
      const drawn = [];
      const view = new Proxy(
        { on: (event, fn) => ((handlers[event] = fn), view), renderAdoption: (parts) => drawn.push(parts), download: (file) => drawn.push({ file }) },
        { get: (target, name) => target[name] ?? (() => {}) },
      );
      // The real module answers: a small day-grain export, asked through a client that logs trips.
      const report = globalThis.sga.Report.fromCsv(
        "Instance user ID,User Email,Username,Active Sourcegraph User,Timestamp Date,Chat Events\n" +
          "1,a@x.io,ann,true,2025-01-06,1\n2,b@x.io,=bob,true,2025-01-07,1\n1,a@x.io,ann,true,2025-02-20,1\n3,c@x.io,cy,false,2025-02-21,1\n",
      );
      const info = report.info();
      const trips = [];
      const client = {
        summarizeMany: async (queries) => (trips.push(["summarizeMany", queries.map((q) => q.groupBy.join(","))]), queries.map((q) => report.summarize(q))),
        adoption: async (asks) => {
          trips.push(["adoption", Object.keys(asks).sort(), JSON.parse(JSON.stringify(asks))]);
          const answer = {};
          if (asks.growth) answer.growth = report.growth(asks.growth);
          if (asks.retention) answer.retention = report.retention(asks.retention);
          if (asks.inactive) answer.inactive = report.inactiveUsers(asks.inactive);
          if (asks.stickiness) answer.stickiness = report.stickiness(asks.stickiness);
          if (asks.features) answer.features = report.features(asks.features);
          return answer;
        },
        inactiveUsersCsv: async (query) => (trips.push(["inactiveUsersCsv", JSON.parse(JSON.stringify(query))]), report.inactiveUsersCsv(query)),
      };
      const store = { loadSettings: () => null, saveSettings: () => {}, loadToken: () => null, saveToken: () => {}, clearToken: () => {} };
      const hashes = [];
      const url = { read: () => "", write: (h) => hashes.push(h), listen: () => {} };
      const dashboard = new Dashboard({ view, client, store, url, env: { origin: "https://portal.example" } });
      dashboard.start();
      await dashboard.show({ info, registry: { loaded: false } }, { kind: "file", name: "x.csv", settings: {} });
      const step = async (fn) => {
        const before = trips.length;
        await fn();
        await new Promise((r) => setTimeout(r, 50));
        return trips.slice(before);
      };
      const toAdoption = await step(() => handlers.chooseTab({ tab: "adoption" }));
      const afterTab = drawn.at(-1);
      const period = await step(() => handlers.choosePeriod({ period: "week" }));
      const idle = await step(() => handlers.chooseIdleDays({ days: 7 }));
      const filter = await step(() => handlers.changeFilter({ from: "2025-01-07" }));
      const shown = drawn.filter((d) => d.inactive).at(-1).inactive.users.map((u) => u.user);
      const download = await step(() => handlers.download({ what: "inactive-csv" }));
      const file = drawn.at(-1).file;
      const toUsage = await step(() => handlers.chooseTab({ tab: "usage" }));
      return { toAdoption, afterTab, period, idle, filter, download, file, shown, toUsage, hashes };
    });
    const month = { period: "month", filter: {} };
    expect(result.toAdoption).toEqual([["adoption", ["features", "growth", "inactive", "retention", "stickiness"], { growth: month, retention: month, inactive: { days: 30, filter: {} }, stickiness: month, features: month }]]);
    // Stickiness and feature depth reach the view as the module gave them (engagement.js words
    // them): Jan, ann and bob on one day each; Feb, ann (cy's row is not active).
    expect(result.afterTab.stickiness.periods.map((p) => [p.period, p.activeUsers, p.daysActive.slice(0, 2)])).toEqual([
      ["2025-01", 2, [2, 0]],
      ["2025-02", 1, [1, 0]],
    ]);
    // Chat needs both its columns (Chat Events and Command Events): this export has no feature,
    // so every active user uses 0 of them.
    expect(result.afterTab.features.features).toEqual([]);
    expect(result.afterTab.features.periods.map((p) => p.breadth)).toEqual([[2], [1]]);
    // What the view was handed: the module's growth as a chart spec (churn below the axis is the
    // chart's business), the cohorts with shares, the inactive users with "never" for no active day.
    // Small multiples, one per series, each on its own scale; the quick ratio against a line at 1.
    const multiples = Object.fromEntries(result.afterTab.growth.multiples.map((m) => [m.name, m]));
    // The range's first month is the baseline (its active users all count as new).
    for (const m of Object.values(multiples)) expect(m.labels).toEqual(["2025-01 (baseline)", "2025-02"]);
    expect(Object.fromEntries(Object.entries(multiples).map(([name, m]) => [name, m.values]))).toEqual({
      "growth-new": [2, 0],
      "growth-resurrected": [0, 0],
      "growth-retained": [0, 1],
      "growth-churned": [0, 1],
      "growth-quick": [null, 0],
    });
    expect(multiples["growth-quick"].reference.value).toBe(1);
    expect(result.afterTab.retention.cohorts.map((c) => [c.cohort, c.users, c.cells.map((cell) => cell.count)])).toEqual([["2025-01", 2, [2, 1]]]);
    expect(result.afterTab.inactive.users.map((u) => [u.user, u.lastActive])).toEqual([["3", "never"], ["2", "2025-01-07"]]);
    const week = { period: "week", filter: {} };
    expect(result.period).toEqual([["adoption", ["features", "growth", "retention", "stickiness"], { growth: week, retention: week, stickiness: week, features: week }]]);
    expect(result.idle).toEqual([["adoption", ["inactive"], { inactive: { days: 7, filter: {} } }]]);
    expect(result.filter.map(([kind, parts]) => [kind, parts])).toEqual([["adoption", ["features", "growth", "inactive", "retention", "stickiness"]]]);
    expect(result.filter[0][2].growth.filter).toEqual({ from: "2025-01-07" });
    // The download is the list shown, written by the module: one round trip with the list's own
    // query (the CLI's columns, formula-guarded cells).
    expect(result.download).toEqual([["inactiveUsersCsv", { days: 7, filter: { from: "2025-01-07" } }]]);
    expect(result.file.text).toContain("'=bob");
    expect(result.file.text.split("\n")[0]).toBe("user,email,username,lastActive");
    expect(result.file.text.trim().split("\n").slice(1).map((line) => line.split(",")[0])).toEqual(result.shown);
    expect(result.file.name).toContain("inactive-7-days");
    expect(result.toUsage).toEqual([["summarizeMany", ["user", "week", "user"]]]);
    expect(result.hashes).toContain("from=2025-01-07&view=adoption&period=week&idle=7");
  });

  test("a module that traps (out of memory) is a coded error, never its glue's message, and a fresh worker takes over", async ({ page }) => {
    // A stand-in for the module whose push traps as an allocation that failed does, and whose
    // objects then throw wasm-bindgen's internal message (as the real glue does after a trap).
    await page.route("**/trap-module/sg_analytics.js", (route) =>
      route.fulfill({
        contentType: "text/javascript",
        body: `export default async function init() {}
export function warmUp() {}
export function allocationFailed() { return true; }
export class ReportBuilder {
  expectBytes() {}
  get rows() { throw new Error("attempted to take ownership of Rust value while it was borrowed"); }
  push() { throw new WebAssembly.RuntimeError("unreachable"); }
  free() { throw new Error("attempted to take ownership of Rust value while it was borrowed"); }
}`,
      }),
    );
    const result = await page.evaluate(async () => {
      const { AnalyticsClient } = await import("/www/client.js");
      const { explainError } = await import("/www/errors.js");
      const client = new AnalyticsClient({ moduleUrl: new URL("/trap-module/sg_analytics.js", location.href) });
      await client.ready;
      const first = client.worker;
      const file = new File(["Instance user ID,Chat Events\n1,2\n"], "export.csv");
      const failure = (promise) => promise.then(() => null, (e) => ({ code: e.code, reportLost: e.reportLost, message: e.message }));
      const error = await failure(client.openFile(file));
      const replaced = client.worker !== first;
      await client.ready;
      // The fresh worker answers (the stand-in traps again, as the real module would not).
      const again = await failure(client.openFile(file));
      client.terminate();
      return { error, replaced, again, panel: explainError(error) };
    });
    expect(result.error).toMatchObject({ code: "out_of_memory", reportLost: true });
    expect(result.error.message).toContain("ran out of memory");
    expect(result.error.message).not.toContain("borrowed");
    expect(result.replaced).toBe(true);
    expect(result.again?.code).toBe("out_of_memory");
    expect(result.panel.kind).toBe("out-of-memory");
    expect(result.panel.title).toBe("The page ran out of memory");
  });

  test("the controller drives a stub view and a stub client", async ({ page }) => {
    const result = await page.evaluate(async () => {
      const { Dashboard } = await import("/www/app.js");
      const calls = [];
      const handlers = {};
      const view = new Proxy(
        { on: (event, fn) => ((handlers[event] = fn), view) },
        { get: (target, name) => target[name] ?? ((...args) => calls.push([name, ...args])) },
      );
      const info = globalThis.dayInfo;
      const summary = (query) => ({
        input: info,
        totals: { rows: 3, users: 2, activeUsers: 2, avgDau: 1.5, avgDaysActivePerUser: 1.5, hoursSaved: 1, "Chat Events": 12, "Combined CAR": null },
        groups: (query.groupBy ?? []).length ? [{ key: { [query.groupBy[0]]: "k" }, users: 2, activeUsers: 2, hoursSaved: 1, "Chat Events": 12 }] : [],
        groupsTotal: 1,
        groupMetrics: ["users", "activeUsers", "hoursSaved", "Chat Events"],
      });
      const requests = [];
      // One entry per round trip to the worker; the options are checked by the real module.
      const client = {
        planFetch: async (options) => (requests.push(["planFetch", { ...options }]), globalThis.sga.planFetch(options)),
        fetchReport: async (options) => {
          requests.push(["fetchReport", { ...options }]);
          // The module's error: its message says "aborted", its code says what it is.
          if (options.token === "bad") throw Object.assign(new Error("The request was aborted by the server: 401"), { status: 401, code: "unauthorized" });
          return { info, registry: { loaded: false } };
        },
        summarizeMany: async (queries) => (requests.push(["summarizeMany", queries]), queries.map(summary)),
      };
      const saved = [];
      const session = {};
      const store = {
        loadSettings: () => null,
        saveSettings: (s) => saved.push(JSON.stringify(s)),
        loadToken: () => session.token ?? null,
        saveToken: (t) => (session.token = t),
        clearToken: () => delete session.token,
      };
      const hashes = [];
      const url = { read: () => "#group=month", write: (h) => hashes.push(h), listen: () => {} };
      const dashboard = new Dashboard({ view, client, store, url, env: { origin: "https://portal.example" } });
      dashboard.start();
      // A token pasted into the instance field as URL credentials: typed, then connected.
      const settings = { instanceUrl: "https://me:pasted-s3cret@Example.sourcegraphcloud.com/search?q=1", granularity: "by_user_day", startDate: "", endDate: "", baseUrl: "", monthWindows: false };
      handlers.editSettings(settings);

      await dashboard.connect({ ...settings, token: "t0ken", remember: false });
      const afterConnect = { requests: requests.map(([k, v]) => [k, k === "summarizeMany" ? v.map((q) => q.groupBy) : v]), hashes: [...hashes] };

      await dashboard.connect({ ...settings, baseUrl: "http://evil.example", token: "t0ken" });
      const refused = calls.filter(([name]) => name === "renderError").at(-1)[1];

      await dashboard.connect({ ...settings, token: "bad" });
      const rejected = calls.filter(([name]) => name === "renderError").at(-1)[1];

      // Each view change is one round trip, asking only for what it changes.
      const trips = async (fn) => {
        const before = requests.length;
        await fn();
        await new Promise((r) => setTimeout(r, 50));
        return requests.slice(before).map(([k, v]) => [k, k === "summarizeMany" ? v.map((q) => q.groupBy.join(",")) : v]);
      };
      const sortTrips = await trips(() => handlers.sortBy({ by: "Chat Events" }));
      const sorted = requests.filter(([k]) => k === "summarizeMany").at(-1)[1][0];
      const pageTrips = await trips(() => handlers.turnPage({ page: 1 }));
      const filterTrips = await trips(() => handlers.changeFilter({ activeOnly: true }));
      const metricTrips = await trips(() => handlers.chooseMetric({ metric: "Chat Events" }));
      const timeTrips = await trips(() => handlers.chooseTimeKey({ timeKey: "day" }));
      return { afterConnect, refused, rejected, sorted, saved, session, hashes, cards: calls.filter(([n]) => n === "renderCards").length, sortTrips, pageTrips, filterTrips, metricTrips, timeTrips };
    });
    const fetches = result.afterConnect.requests.filter(([k]) => k === "fetchReport");
    expect(fetches).toHaveLength(1);
    expect(fetches[0][1]).toMatchObject({ instanceUrl: "example.sourcegraphcloud.com", token: "t0ken", granularity: "by_user_day", baseUrl: "https://analytics.sourcegraph.com" });
    // One round trip drew the whole first view; the view from the hash (group=month) drove the table.
    const views = result.afterConnect.requests.filter(([k]) => k === "summarizeMany");
    expect(views).toHaveLength(1);
    expect(views[0][1][0]).toEqual(["month"]);
    // Sorting and paging ask for the table alone (with, as the view starts on the data's first
    // day, the cards' last two whole periods: no groupBy); a filter for everything; the chart
    // metric for the time chart and the bar charts; the time key for the time chart: one message
    // each.
    expect(result.sortTrips).toEqual([["summarizeMany", ["month", ""]]]);
    expect(result.pageTrips).toEqual([["summarizeMany", ["month", ""]]]);
    expect(result.filterTrips).toEqual([["summarizeMany", ["month", "", "week", "user"]]]);
    expect(result.metricTrips).toEqual([["summarizeMany", ["week", "user"]]]);
    expect(result.timeTrips).toEqual([["summarizeMany", ["day"]]]);
    expect(result.refused).toMatchObject({ kind: "input", title: "The API base URL is not allowed" });
    // The panel follows the code, whatever the message says ("aborted" here is not a cancel).
    expect(result.rejected).toMatchObject({ kind: "unauthorized", title: "The token was rejected" });
    expect(result.sorted.sort).toEqual({ by: "Chat Events", desc: true });
    expect(result.hashes.at(-1)).toContain("sort=-Chat+Events");
    expect(result.cards).toBeGreaterThan(0);
    // Settings were saved, never with the token; the token was not remembered.
    expect(result.saved.length).toBeGreaterThan(0);
    for (const s of result.saved) expect(s).not.toContain("t0ken");
    // Nor what was pasted as URL credentials: only the module's normalized instance is kept.
    for (const s of [...result.saved, ...result.hashes]) expect(s).not.toContain("s3cret");
    expect(JSON.parse(result.saved.at(-1)).instanceUrl).toBe("example.sourcegraphcloud.com");
    expect(result.session).toEqual({});
  });
});
