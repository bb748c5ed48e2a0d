// The page asks the module: the worker helper answers the Report's methods by name over one path
// (`client.call`), through one list (www/calls.js). These tests hold that list equal to the methods
// the module's Report has and to the TypeScript declarations, check that each call through the
// worker answers what the Report answers on the main thread, and that the worker refuses a name
// outside the list even when the client's own check is bypassed.

import { readFileSync } from "node:fs";
import path from "node:path";
import { test, expect } from "@playwright/test";
import { NOT_CALLED, REPORT_CALLS, REQUIRED } from "../../www/calls.js";
import { FIXTURES, watchConsole } from "./helpers.js";

/** The arguments each call is tried with below (a new call needs an entry: the test says so). */
const ARGS = {
  info: [],
  summarize: [{ groupBy: ["week"], sort: { by: "users", desc: true } }],
  summarizeMany: [[{ groupBy: ["user"], limit: 3 }, { filter: { activeOnly: true } }]],
  toCsv: [{ groupBy: ["user"], headers: "labels" }],
  toJson: [{ groupBy: ["month"] }],
  filteredCsv: [{ from: "2025-03-10" }],
  growth: [{ period: "week" }],
  retention: [{ period: "week" }],
  stickiness: [{ period: "week" }],
  features: [{ period: "month" }],
  cost: [{ unit: "credits", buckets: [{ month: "2025-03", creditsUsed: 120 }] }, {}],
  growthCsv: [{ period: "month" }],
  retentionCsv: [],
  stickinessCsv: [{ period: "week" }],
  featuresCsv: [{ period: "week" }],
  inactiveUsers: [{ days: 7 }],
  inactiveUsersCsv: [{ days: 3 }],
  reportHtml: [{ period: "week", generated: "2025-07-01" }],
};

test("www/calls.js names every method of the module's Report once: a call, or not called and why", async ({ page }) => {
  await page.goto("/");
  const methods = await page.evaluate(async () => {
    const { Report } = await import("/pkg/sg_analytics.js");
    const proto = Report.prototype;
    return Object.getOwnPropertyNames(proto)
      .filter((key) => key !== "constructor" && !key.startsWith("__") && typeof Object.getOwnPropertyDescriptor(proto, key).value === "function")
      .sort();
  });
  expect(methods).toContain("summarize");
  const listed = [...REPORT_CALLS, ...Object.keys(NOT_CALLED)];
  expect(new Set(listed).size, "a name listed twice").toBe(listed.length);
  expect([...listed].sort()).toEqual(methods);
  for (const method of Object.keys(REQUIRED)) expect(REPORT_CALLS).toContain(method);
  expect(Object.keys(ARGS).sort(), "each call is tried below").toEqual([...REPORT_CALLS].sort());
});

test("the TypeScript declarations leave out the same methods as www/calls.js", () => {
  const types = readFileSync(new URL("../../npm/types/client.d.ts", import.meta.url), "utf8");
  const union = /export type NotCalled = ([^;]+);/.exec(types)?.[1];
  expect(union, "npm/types/client.d.ts declares NotCalled").toBeTruthy();
  expect([...union.matchAll(/"(\w+)"/g)].map((m) => m[1]).sort()).toEqual(Object.keys(NOT_CALLED).sort());
});

test("each call through the worker answers what the Report answers; other names are refused", async ({ page }) => {
  const problems = watchConsole(page);
  await page.goto("/");
  const csv = readFileSync(path.join(FIXTURES, "by_user_day.csv"), "utf8");
  const result = await page.evaluate(
    async ({ csv, args, calls }) => {
      const outcome = async (run) => {
        try {
          return { ok: await run() };
        } catch (e) {
          return { code: e?.code, message: String(e?.message) };
        }
      };
      const m = await import("/www/module.js");
      await m.default();
      const report = m.Report.fromCsv(csv);
      const { AnalyticsClient } = await import("/www/client.js");
      const client = new AnalyticsClient();
      await client.openFile(new File([csv], "export.csv"));
      const answers = {};
      for (const method of calls) {
        answers[method] = {
          direct: await outcome(() => report[method](...args[method])),
          called: await outcome(() => client.call(method, ...args[method])),
          named: await outcome(() => client[method](...args[method])),
        };
      }
      const refused = {
        free: await outcome(() => client.call("free")),
        joinRegistry: await outcome(() => client.call("joinRegistry", {})),
        unknown: await outcome(() => client.call("summarise", {})),
        // Past the client's check: the worker refuses on its own.
        freeInWorker: await outcome(() => client.request("call", { method: "free", args: [] })),
        glueInWorker: await outcome(() => client.request("call", { method: "__destroy_into_raw", args: [] })),
        inheritedInWorker: await outcome(() => client.request("call", { method: "constructor", args: [] })),
      };
      // The worker's report is still there after the refusals.
      const rowsAfter = (await client.info()).rows;
      client.terminate();
      return { answers, refused, rowsAfter, rows: report.rows };
    },
    { csv, args: ARGS, calls: REPORT_CALLS },
  );
  for (const method of REPORT_CALLS) {
    const { direct, called, named } = result.answers[method];
    expect(direct.ok, `${method}: ${JSON.stringify(direct)}`).toBeDefined();
    expect(called, method).toEqual(direct);
    expect(named, method).toEqual(direct);
  }
  expect(result.answers.summarize.direct.ok.groups.length).toBeGreaterThan(1);
  expect(result.refused.free).toMatchObject({ code: "invalid_argument" });
  expect(result.refused.free.message).toContain(NOT_CALLED.free);
  expect(result.refused.joinRegistry.message).toContain(NOT_CALLED.joinRegistry);
  expect(result.refused.unknown).toMatchObject({ code: "invalid_argument" });
  expect(result.refused.unknown.message).toContain("summarizeMany");
  for (const name of ["freeInWorker", "glueInWorker", "inheritedInWorker"]) expect(result.refused[name], name).toMatchObject({ code: "invalid_argument" });
  expect(result.rowsAfter).toBe(result.rows);
  expect(result.rows).toBeGreaterThan(0);
  expect(problems).toEqual([]);
});
