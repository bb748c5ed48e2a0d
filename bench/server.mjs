// A small static server for the browser benchmark, on 127.0.0.1 only.
//
//   /                         bench/index.html
//   /bench/...                files of bench/ (the page's scripts)
//   /pkg/...                  the built module (pkg/)
//   /node_modules/...         bench/node_modules (Papa Parse, DuckDB-wasm and its Apache Arrow)
//   /data.csv                 the generated export, streamed from disk
//   /api/reports/by-user-client-date
//                             the same export, answered like the Analytics API (text/csv,
//                             Content-Length), so that fetchReport() streams it from a real Response
import { createServer } from "node:http";
import { createReadStream, readFileSync, statSync } from "node:fs";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const BENCH = resolve(fileURLToPath(new URL(".", import.meta.url)));
const ROOT = resolve(BENCH, "..");

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".cjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
  ".csv": "text/csv; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
};

/** Resolves `rest` under `base`, refusing anything that climbs out of it. */
function under(base, rest) {
  const path = normalize(join(base, decodeURIComponent(rest)));
  return path === base || path.startsWith(base + sep) ? path : null;
}

function sendFile(req, res, path, type) {
  let size;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new Error("not a file");
    size = st.size;
  } catch {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    return;
  }
  res.writeHead(200, {
    "content-type": type ?? MIME[extname(path)] ?? "application/octet-stream",
    "content-length": String(size),
    "cache-control": "no-store",
  });
  if (req.method === "HEAD") return res.end();
  // 1 MiB reads: the browser still sees the body as a stream of network chunks.
  createReadStream(path, { highWaterMark: 1 << 20 }).pipe(res);
}

/** Starts the server; resolves to { url, close() }. */
export function startServer({ csvPath, port = 0 }) {
  // The export for the API path is held in memory and written in one go: a real API server's
  // work is not on the client's machine, so the server here does as little as it can. Node
  // holds at most 2 GiB in one buffer: a larger export is streamed from the file.
  const exportBytes = statSync(csvPath).size < 2 ** 31 ? readFileSync(csvPath) : null;
  const sendExport = (req, res) => {
    if (!exportBytes) return sendFile(req, res, csvPath, MIME[".csv"]);
    res.writeHead(200, {
      "content-type": MIME[".csv"],
      "content-length": String(exportBytes.length),
      "cache-control": "no-store",
    });
    if (req.method === "HEAD") return res.end();
    res.end(exportBytes);
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    const p = url.pathname;
    if (p === "/" || p === "/index.html") return sendFile(req, res, join(BENCH, "index.html"));
    if (p === "/data.csv") return sendFile(req, res, csvPath, MIME[".csv"]);
    if (p === "/api/reports/by-user-client-date") {
      if (req.headers.authorization !== "Bearer bench-token") {
        res.writeHead(401, { "content-type": "text/plain" }).end("bad token\n");
        return;
      }
      return sendExport(req, res);
    }
    let path = null;
    if (p.startsWith("/bench/")) path = under(BENCH, p.slice("/bench/".length));
    else if (p.startsWith("/pkg/")) path = under(join(ROOT, "pkg"), p.slice("/pkg/".length));
    else if (p.startsWith("/node_modules/"))
      path = under(join(BENCH, "node_modules"), p.slice("/node_modules/".length));
    if (!path) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    sendFile(req, res, path);
  });
  return new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", () => {
      const { port } = server.address();
      ok({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}
