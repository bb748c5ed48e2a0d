// Typed code against the package as a portal writes it: `cargo xtask test` runs `tsc --noEmit` on
// this file with the package installed beside it (node_modules/sg-analytics). Every result is
// used through its declared type; each `@ts-expect-error` is a misuse the types must refuse.

import init, { fetchReport, planFetch, Registry, Report, ReportBuilder, type AnalyticsError, type ErrorCode, type FetchErrorCode } from "sg-analytics";
import { AnalyticsClient, CspError, type ClientErrorCode } from "sg-analytics/worker";
import "sg-analytics/element";

/** Fails to compile unless `code` has been narrowed to nothing: every code was handled. */
function unreachable(code: never): never {
  throw new Error(`unhandled ${String(code)}`);
}

/** A portal's message for each fetch error code: the switch must cover the whole union. */
function advice(code: FetchErrorCode): string {
  switch (code) {
    case "invalid_options":
    case "bad_request":
      return "check the settings";
    case "network":
    case "redirected":
      return "use a proxy";
    case "unauthorized":
      return "new token";
    case "forbidden":
    case "not_found":
      return "check the instance";
    case "rate_limited":
    case "server_error":
    case "http_error":
      return "later";
    case "cut_short":
    case "stalled":
    case "not_csv":
    case "bad_window":
    case "invalid_input":
      return "fetch again";
    case "too_large":
    case "out_of_memory":
      return "a coarser granularity or a shorter range";
    case "aborted":
      return "";
    default:
      return unreachable(code);
  }
}

function isCoded(e: unknown): e is AnalyticsError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === "string";
}

export async function moduleUsage(csv: string, token: string): Promise<number> {
  await init({ module_or_path: new URL("/sg-analytics/pkg/sg_analytics_bg.wasm", location.href) });
  const report = Report.fromCsv(csv);
  const info = report.info();
  const rows: number = info.rows;
  const keys: string[] = info.groupKeys;
  const summary = report.summarize({ groupBy: ["month"], filter: { activeOnly: true }, sort: { by: "users", desc: true } });
  const users: number | null = summary.totals["users"];
  const month: string | boolean | null = summary.groups[0].key["month"];
  const growth = report.growth({ period: "week" });
  const quick: number | null = growth.periods[0].quickRatio;
  const cohortUsers: number = report.retention().cohorts[0].users;
  const inactive = report.inactiveUsers({ days: 30 });
  const lastActive: string | null = inactive.users[0].lastActive;
  // @ts-expect-error: inactiveUsers needs its query (how many days).
  report.inactiveUsers();
  // @ts-expect-error: a query's limit is a number.
  report.summarize({ limit: "10" });
  const joined = report.joinAttributes("Instance user ID,Team\n1,Search\n");
  const teams: string[] = joined.attributes;
  const registry = Registry.fromCsv("Instance user ID,Service Account,Site Admin\n1,false,false\n");
  report.joinRegistry(registry);
  // @ts-expect-error: joinRegistry takes a Registry.
  report.joinRegistry({});

  const builder = new ReportBuilder();
  builder.push(new TextEncoder().encode(csv));
  // @ts-expect-error: push takes bytes.
  builder.push(csv);
  const built: Report = builder.finish();

  const plan = planFetch({ instanceUrl: "example.sourcegraphcloud.com" });
  if (plan.ok) {
    const url: string = plan.url;
    const windows: number = plan.windows;
    void [url, windows];
  } else if (plan.field === "instanceUrl" || plan.field === "maxRetries") {
    const problem: string = plan.problem;
    void problem;
  }
  // @ts-expect-error: an option that does not exist.
  planFetch({ instanceUrl: "x", instanceURL: "x" });
  try {
    const fetched = await fetchReport({ instanceUrl: "x", token, maxRetries: 0, onProgress: (p) => console.log(p.bytes, p.rows, p.window) });
    return fetched.rows;
  } catch (e) {
    if (isCoded(e)) {
      const code: ErrorCode = e.code;
      if (code !== "invalid_query" && code !== "invalid_argument" && code !== "not_ready" && code !== "freed") return advice(code).length;
    }
    return [rows, keys, users, month, quick, cohortUsers, lastActive, teams, built].length;
  }
}

export async function clientUsage(file: File, token: string): Promise<string> {
  const client = new AnalyticsClient({ assetsUrl: "/static/sg-analytics/" });
  const controller = new AbortController();
  const fetched = await client.fetchReport({ instanceUrl: "x", token, withCredits: false }, { signal: controller.signal, onProgress: (p) => console.log(p.bytes) });
  const granularity: string = fetched.info.granularity;
  if (fetched.credits.loaded) {
    const data = fetched.credits.data;
    if (Array.isArray(data)) console.log(data.length);
  } else if (fetched.credits.code === "rate_limited") {
    console.log(fetched.credits.status);
  }
  const opened = await client.openFile(file);
  const summary = await client.summarize({ groupBy: ["user"], limit: 10 });
  const many = await client.summarizeMany([{ groupBy: ["week"] }, { metrics: ["activeUsers"] }]);
  const plan = await client.planFetch({ instanceUrl: "x" });
  const growth = await client.growth({ period: "month" });
  const inactive = await client.inactiveUsers({ days: 14 });
  // @ts-expect-error: the query is required.
  await client.inactiveUsers();
  const adoption = await client.adoption({ growth: { period: "week" }, inactive: { days: 7 }, stickiness: { period: "week" }, features: {} });
  // Stickiness and features answer a problem instead where the export has no days.
  const sticky = adoption.stickiness && "problem" in adoption.stickiness ? adoption.stickiness.problem : adoption.stickiness?.periods[0]?.dauOverMau;
  const stickinessCsv: string = await client.stickinessCsv({ period: "week" });
  const html: string = await client.reportHtml({ period: "week", generated: "2025-07-01" });
  // @ts-expect-error: a report's period is a week or a month.
  await client.reportHtml({ period: "day" });
  const join = await client.joinAttributes(file);
  const csv: string = await client.filteredCsv({ clients: ["vscode"] });
  // Any Report method the worker answers, by name or as a method: typed as the Report's own.
  const weeks = await client.call("summarize", { groupBy: ["week"] });
  const stickiness = await client.stickiness({ period: "week" });
  const info = await client.call("info");
  const growthCsv: string = await client.call("growthCsv", { period: "month" });
  // @ts-expect-error: free is not a call the worker answers.
  await client.call("free");
  // @ts-expect-error: nor joinRegistry (a Registry cannot cross to the worker).
  await client.call("joinRegistry", Registry.fromCsv(""));
  // @ts-expect-error: the query of inactiveUsersCsv is required, by name too.
  await client.call("inactiveUsersCsv");
  try {
    await client.summarize();
  } catch (e) {
    if (e instanceof CspError) return e.advice.fix ?? e.advice.message;
    const code = (e as { code?: ClientErrorCode }).code;
    if (code === "not_loaded" || code === "worker") return code;
  }
  client.terminate();
  return [granularity, opened.info.rows, summary.groupsTotal, many.length, plan.ok, growth.periods.length, inactive.days, adoption.growth?.period, sticky, stickinessCsv, html, join.join.matched, csv, weeks.groupsTotal, stickiness.periods.length, info.rows, growthCsv].join();
}

export function elementUsage(): void {
  const dashboard = document.createElement("sg-analytics-dashboard");
  dashboard.setAttribute("assets-url", "/static/sg-analytics/");
  dashboard.addEventListener("sg-analytics-loaded", (event) => {
    const rows: number = event.detail.rows;
    const columns: string[] = event.detail.columns;
    console.log(rows, columns);
  });
  document.addEventListener("sg-analytics-loaded", (event) => console.log(event.detail.firstDate));
  document.body.append(dashboard);
}
