// The Report's methods that the worker helper answers by name: `client.call(method, ...args)`, and
// `client[method](...args)` for each. The worker holds the Report and calls the method with the
// same arguments; the answer comes back as a promise. This list is the one place that says which
// methods cross: the client builds its methods from it and hands it to the worker, which refuses
// every other name. tests/e2e/calls.spec.js holds it equal to the methods the module's Report
// has (every one is here or in NOT_CALLED) and to the TypeScript declarations.

/** The Report's methods the worker answers by name, with the same arguments and answers. */
export const REPORT_CALLS = Object.freeze([
  "info",
  "summarize",
  "summarizeMany",
  "toCsv",
  "toJson",
  "filteredCsv",
  "growth",
  "retention",
  "stickiness",
  "features",
  "cost",
  "growthCsv",
  "retentionCsv",
  "stickinessCsv",
  "featuresCsv",
  "inactiveUsers",
  "inactiveUsersCsv",
  "reportHtml",
]);

/**
 * The calls whose first argument cannot be left out, and what it is: the client refuses the call
 * without it (coded `invalid_argument`) before asking the worker, whether an export is loaded or not.
 */
export const REQUIRED = Object.freeze({
  inactiveUsers: "a query: { days, filter? } (days: a whole number, 1 or more)",
  inactiveUsersCsv: "a query: { days, filter? } (days: a whole number, 1 or more)",
});

/** The Report's methods the worker does not answer by name, and why. */
export const NOT_CALLED = Object.freeze({
  free: "the worker frees its Report itself, when another export replaces it",
  joinRegistry: "a Registry cannot cross to the worker: fetchReport joins the one it fetched",
  joinAttributes: "the worker reads the people file first: client.joinAttributes(file)",
  summarizeManyJson: "the worker answers summarizeMany with it: the same answers, as JSON text the client parses",
});
