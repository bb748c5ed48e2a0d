// Plain HTTP servers the tests start and stop themselves on 127.0.0.1: a portal page on an origin
// of its own, a static host for the dashboard's files, dist/ as any static host serves it. They
// send only the headers a test asks for (no CSP unless given), so what a test checks is the policy
// it chose. And the policies docs/embedding.md documents, read from that page itself.

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".ts": "text/plain; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/**
 * Serves `pages` (path → HTML) and the files of directories (`mounts`: URL prefix ending in `/` →
 * directory), with `headers` on every answer; anything else is a 404. Resolves with `{url, close}`.
 */
export async function staticServer({ pages = {}, mounts = {}, headers = {} } = {}) {
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url, "http://127.0.0.1");
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (Object.hasOwn(pages, pathname)) {
      res.setHeader("content-type", TYPES[".html"]);
      res.end(pages[pathname]);
      return;
    }
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (!pathname.startsWith(prefix)) continue;
      const rel = decodeURIComponent(pathname.slice(prefix.length)) || "index.html";
      const file = path.resolve(dir, rel.endsWith("/") ? `${rel}index.html` : rel);
      if (!file.startsWith(path.resolve(dir) + path.sep) || !fs.statSync(file, { throwIfNoEntry: false })?.isFile()) break;
      res.setHeader("content-type", TYPES[path.extname(file)] ?? "application/octet-stream");
      fs.createReadStream(file).pipe(res);
      return;
    }
    res.statusCode = 404;
    res.end("not found\n");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

/** The example origins the documented policies name, and what a test puts in their place. */
export const DOCS_API_ORIGIN = "https://analytics.sourcegraph.com";
export const DOCS_MODULE_ORIGIN = "https://static.example.com";

/**
 * The portal policies of docs/embedding.md's "Content-Security-Policy for a portal" section, in order:
 * `{sameOrigin, otherOrigin}`, with the example origins replaced by the test's.
 */
export function portalPolicies({ apiOrigin, moduleOrigin }) {
  const page = fs.readFileSync(path.join(ROOT, "docs", "embedding.md"), "utf8");
  const section = page.split(/^#{1,4} Content-Security-Policy for a portal$/m)[1]?.split(/^#{1,4} /m)[0] ?? "";
  const policies = [...section.matchAll(/^Content-Security-Policy: (.+)$/gm)].map((m) => m[1].trim());
  if (policies.length !== 2) throw new Error(`docs/embedding.md: expected two policies in "Content-Security-Policy for a portal", found ${policies.length}`);
  const fill = (policy) => policy.replaceAll(DOCS_API_ORIGIN, apiOrigin).replaceAll(DOCS_MODULE_ORIGIN, moduleOrigin ?? DOCS_MODULE_ORIGIN);
  return { sameOrigin: fill(policies[0]), otherOrigin: fill(policies[1]), raw: policies };
}

/** `policy` with `source` taken out of `directive`. */
export function withoutSource(policy, directive, source) {
  return policy
    .split(";")
    .map((part) => {
      const [name, ...sources] = part.trim().split(/\s+/);
      return name === directive ? [name, ...sources.filter((s) => s !== source)].join(" ") : part.trim();
    })
    .join("; ");
}
