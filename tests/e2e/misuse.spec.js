// Every misuse of the JS API a portal can make gets a coded Error in plain words, never the
// engine's (`Cannot read properties of undefined`) nor Rust's (`expected usize`, `null pointer
// passed to rust`): the module as the package exports it (www/module.js), and the worker helper.

import { test, expect } from "@playwright/test";
import { mockBase } from "./helpers.js";

const CSV = "Instance user ID,Active Sourcegraph User,Timestamp Date,Chat Events\n1,true,2025-01-02,3\n";
const RUST_WORDS = /usize|u32|u64|f64|a sequence|a map|null pointer|expected instance|rust|line 1 column|Cannot read properties/i;

/** Runs each named misuse in the page; resolves with `{name: {code, field, message, name}}` (or `{ok}` when it did not throw). */
async function misuses(page, script, args = {}) {
  return page.evaluate(
    async ({ script, args }) => {
      const cases = await new Function("args", `return (async () => { ${script} })()`)(args);
      const out = {};
      for (const [name, run] of Object.entries(cases)) {
        try {
          out[name] = { ok: await run() };
        } catch (e) {
          out[name] = { code: e?.code, field: e?.field, message: String(e?.message), name: e?.name };
        }
      }
      return out;
    },
    { script, args },
  );
}

test("the module: a call before init, a freed handle, a wrong argument: each a coded error in plain words", async ({ page, baseURL }) => {
  await page.goto("/");
  const results = await misuses(
    page,
    `
    const m = await import("/www/module.js");
    const early = {};
    for (const [name, run] of Object.entries({
      fromCsvBeforeInit: () => m.Report.fromCsv(args.csv),
      planFetchBeforeInit: () => m.planFetch({ instanceUrl: "x.example.com" }),
      builderBeforeInit: () => new m.ReportBuilder(),
      fetchReportBeforeInit: () => m.fetchReport({ instanceUrl: "x.example.com", token: "t" }),
    })) {
      try { await run(); early[name] = "no error"; } catch (e) { early[name] = e; }
    }
    await m.default();
    const report = m.Report.fromCsv(args.csv);
    const freed = m.Report.fromCsv(args.csv);
    freed.free();
    const builder = new m.ReportBuilder();
    const cases = Object.fromEntries(Object.entries(early).map(([k, e]) => [k, () => { throw e; }]));
    return {
      ...cases,
      joinRegistryPlainObject: () => report.joinRegistry({}),
      summarizeLimitText: () => report.summarize({ limit: "x" }),
      summarizeLimitNegative: () => report.summarize({ limit: -1 }),
      summarizeGroupByText: () => report.summarize({ groupBy: "month" }),
      summarizeFilterDateNumber: () => report.summarize({ filter: { from: 5 } }),
      inactiveWithoutQuery: () => report.inactiveUsers(),
      inactiveDaysText: () => report.inactiveUsers({ days: "x" }),
      growthPeriodYear: () => report.growth({ period: "year" }),
      pushText: () => builder.push("a,b\\n"),
      pushNumber: () => builder.push(42),
      summarizeAfterFree: () => freed.summarize(),
      rowsAfterFree: () => freed.rows,
      secondFree: () => (freed.free(), "fine"),
      fetchReportNothing: () => m.fetchReport(),
      fetchReportMaxRetriesText: () => m.fetchReport({ instanceUrl: "x.example.com", token: "t", maxRetries: "x" }),
      fetchReportNoToken: () => m.fetchReport({ instanceUrl: "x.example.com" }),
      fetchReportServerErrorNoRetries: () => m.fetchReport({ instanceUrl: "x.example.com", token: "sgdemo-local-token", baseUrl: args.failing, maxRetries: 0 }),
    };
    `,
    { csv: CSV, failing: mockBase(baseURL, "fault=500") },
  );
  const expected = {
    fromCsvBeforeInit: ["not_ready"],
    planFetchBeforeInit: ["not_ready"],
    builderBeforeInit: ["not_ready"],
    fetchReportBeforeInit: ["not_ready"],
    joinRegistryPlainObject: ["invalid_argument"],
    summarizeLimitText: ["invalid_query", "limit"],
    summarizeLimitNegative: ["invalid_query", "limit"],
    summarizeGroupByText: ["invalid_query", "groupBy"],
    summarizeFilterDateNumber: ["invalid_query", "filter.from"],
    inactiveWithoutQuery: ["invalid_argument"],
    inactiveDaysText: ["invalid_query", "days"],
    growthPeriodYear: ["invalid_query", "period"],
    pushText: ["invalid_argument"],
    pushNumber: ["invalid_argument"],
    summarizeAfterFree: ["freed"],
    rowsAfterFree: ["freed"],
    fetchReportNothing: ["invalid_options"],
    fetchReportMaxRetriesText: ["invalid_options", "maxRetries"],
    fetchReportNoToken: ["invalid_options", "token"],
    fetchReportServerErrorNoRetries: ["server_error"],
  };
  for (const [name, [code, field]] of Object.entries(expected)) {
    const r = results[name];
    expect(r?.code, `${name}: ${JSON.stringify(r)}`).toBe(code);
    if (field) expect(r.field, name).toBe(field);
    expect(r.message, name).not.toMatch(RUST_WORDS);
  }
  expect(results.secondFree).toEqual({ ok: "fine" });
  expect(results.summarizeLimitText.message).toContain("limit must be a whole number");
  expect(results.pushText.message).toContain("TextEncoder");
  expect(results.fromCsvBeforeInit.message).toContain("await init()");
  // Not retried, so no retries claimed.
  expect(results.fetchReportServerErrorNoRetries.message).not.toMatch(/retr/i);
});

test("planFetch names the option at fault, a missing one too", async ({ page }) => {
  await page.goto("/");
  const plans = await page.evaluate(async () => {
    const m = await import("/www/module.js");
    await m.default();
    return [m.planFetch({}), m.planFetch({ instanceUrl: "x.example.com", maxRetries: 99 }), m.planFetch({ instanceUrl: "x.example.com", monthWindows: "yes" }), m.planFetch({ instanceUrl: "x.example.com", token: 5 })];
  });
  expect(plans.map((p) => [p.ok, p.field])).toEqual([
    [false, "instanceUrl"],
    [false, "maxRetries"],
    [false, "monthWindows"],
    [false, "token"],
  ]);
});

test("the worker helper: wrong arguments and a query before any export are coded", async ({ page }) => {
  await page.goto("/");
  const results = await misuses(
    page,
    `
    const { AnalyticsClient } = await import("/www/client.js");
    const client = new AnalyticsClient();
    const stopped = new AnalyticsClient();
    stopped.terminate();
    return {
      openFileText: () => client.openFile("export.csv"),
      joinAttributesText: () => client.joinAttributes("people.csv"),
      fetchReportNothing: () => client.fetchReport(),
      inactiveNothing: () => client.inactiveUsers(),
      planFetchNothing: () => client.planFetch(),
      summarizeBeforeExport: () => client.summarize({}),
      afterTerminate: () => stopped.summarize({}),
    };
    `,
  );
  const expected = {
    openFileText: "invalid_argument",
    joinAttributesText: "invalid_argument",
    fetchReportNothing: "invalid_argument",
    inactiveNothing: "invalid_argument",
    planFetchNothing: "invalid_argument",
    summarizeBeforeExport: "not_loaded",
    afterTerminate: "worker",
  };
  for (const [name, code] of Object.entries(expected)) {
    expect(results[name]?.code, `${name}: ${JSON.stringify(results[name])}`).toBe(code);
    expect(results[name].message, name).not.toMatch(RUST_WORDS);
  }
});
