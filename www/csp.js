// Reads a `securitypolicyviolation` event as advice: which directive of the page's
// Content-Security-Policy blocked the dashboard, and which source to add to it. Pure functions: no
// DOM, so the worker's violations (forwarded as plain objects) read the same as the page's.

/** The fields of a violation event that the advice needs, as a plain object that can be posted. */
export function violationRecord(event) {
  return {
    directive: event.effectiveDirective || event.violatedDirective || "",
    blocked: event.blockedURI ?? "",
    policy: event.originalPolicy ?? "",
    disposition: event.disposition ?? "enforce",
  };
}

// Where a fetch directive falls back to when the policy does not name it (CSP Level 3).
const FALLBACKS = {
  "script-src-elem": ["script-src-elem", "script-src", "default-src"],
  "script-src-attr": ["script-src-attr", "script-src", "default-src"],
  "style-src-elem": ["style-src-elem", "style-src", "default-src"],
  "style-src-attr": ["style-src-attr", "style-src", "default-src"],
  "worker-src": ["worker-src", "child-src", "script-src", "default-src"],
  "frame-src": ["frame-src", "child-src", "default-src"],
};

/** The directives of a serialized policy: name → source list. */
function parsePolicy(policy) {
  const directives = new Map();
  for (const part of String(policy).split(";")) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name && !directives.has(name.toLowerCase())) directives.set(name.toLowerCase(), sources);
  }
  return directives;
}

/** The source expression that allows what was blocked (`blob:`, an origin, a keyword). */
function sourceFor(blocked, pageOrigin) {
  if (blocked === "wasm-eval") return "'wasm-unsafe-eval'";
  if (blocked === "eval") return "'unsafe-eval'";
  if (blocked === "inline") return null;
  if (/^(blob|data)(:|$)/.test(blocked)) return `${blocked.replace(/:.*$/, "")}:`;
  try {
    const { origin } = new URL(blocked);
    return origin === pageOrigin ? "'self'" : origin;
  } catch {
    return null;
  }
}

/**
 * Advice for one violation record: `{directive, blocked, source, fix, what}`, where `directive` is
 * the directive of the policy that decided (the blocked kind's own, or the one it falls back to),
 * `source` what to add to it, `fix` that directive with the source added, and `what` the blocked
 * thing in words, `message` all of it in a sentence. Null for a report-only violation (it blocked nothing).
 */
export function explainViolation(record, { pageOrigin } = {}) {
  if (!record || record.disposition === "report") return null;
  const effective = String(record.directive).toLowerCase();
  const directives = parsePolicy(record.policy);
  const directive = (FALLBACKS[effective] ?? [effective, "default-src"]).find((name) => directives.has(name)) ?? effective;
  const source = sourceFor(record.blocked, pageOrigin);
  const current = (directives.get(directive) ?? []).filter((s) => s !== "'none'");
  const fix = source ? [directive, ...current, source].join(" ") : null;
  const what = blockedThing(effective, record.blocked);
  const message = `This page’s Content-Security-Policy blocked ${what}: its ${directive} directive does not allow ${source ?? record.blocked}.`;
  return { directive, blocked: record.blocked, source, fix, what, message };
}

function blockedThing(effective, blocked) {
  if (blocked === "wasm-eval") return "compiling the WebAssembly module";
  if (effective === "worker-src") return `starting the analytics worker (${blocked.startsWith("blob") ? "a blob: URL" : blocked})`;
  let url = null;
  try {
    url = new URL(blocked);
  } catch {
    return `loading ${blocked}`;
  }
  if (effective === "connect-src") {
    return url.pathname.endsWith(".wasm") ? `loading the WebAssembly file ${url.origin}${url.pathname}` : `the request to ${url.origin}`;
  }
  return `loading ${url.origin}${url.pathname}`;
}
