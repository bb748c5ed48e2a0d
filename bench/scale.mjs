// How the page fares as exports grow: for each size, generates the export (finest granularity,
// one year) into bench/data/ when missing, opens it through the page's file picker in headless
// Chromium, and records what the user gets: the dashboard (time from choosing the file, rows, and
// the worker round trip of a few view changes) or the page's error panel (its kind, the time it
// took to appear, and its message). Results go to bench/results/scale.{md,json}.
//
//   node bench/scale.mjs [--users 3000,30000,300000] [--days 365] [--no-build] [--keep]
//
// A size's export is deleted after its run unless --keep (the largest take gigabytes of disk).
// Not part of `cargo xtask test`.

import { spawn } from "node:child_process";
import { mkdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "@playwright/test";
import { BENCH, ROOT, exportFile, flag, opt, run } from "./prepare.mjs";

const USERS = String(opt("--users", "3000,30000,300000")).split(",").map(Number);
const DAYS = Number(opt("--days", 365));
const PORT = Number(opt("--port", 8098));
const KEEP = flag("--keep");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const BASE = `http://127.0.0.1:${PORT}`;
const log = (...a) => console.error("scale:", ...a);

if (!flag("--no-build")) run("cargo", ["xtask", "build"]);
const server = spawn("cargo", ["xtask", "serve", "--no-build", "--port", String(PORT)], { cwd: ROOT, stdio: "ignore" });

async function waitForServer() {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(BASE + "/")).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the server did not start");
}

/** Waits for a new `sg-analytics:query` measure after `action`: the worker round trip, in ms. */
async function roundTrip(page, action) {
  const before = await page.evaluate(() => performance.getEntriesByName("sg-analytics:query").length);
  await action();
  await page.waitForFunction((n) => performance.getEntriesByName("sg-analytics:query").length > n, before, { timeout: 120_000 });
  return page.evaluate(() => performance.getEntriesByName("sg-analytics:query").at(-1).duration);
}

const CHANGES = [
  ['tick "Active only"', (p) => p.getByLabel("Active only").check()],
  ['untick "Active only"', (p) => p.getByLabel("Active only").uncheck()],
  ["group by week", (p) => p.getByLabel("Group by").selectOption("week")],
  ['"Next →"', (p) => p.getByRole("button", { name: "Next →" }).click()],
];

const results = [];
let browser;
try {
  await waitForServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  for (const users of USERS) {
    const csv = exportFile(users, DAYS, log);
    const bytes = statSync(csv).size;
    const context = await browser.newContext({ reducedMotion: "reduce", locale: "en-US" });
    const page = await context.newPage();
    await page.goto(BASE + "/");
    await page.waitForTimeout(1000);
    const started = Date.now();
    await page.getByLabel("Open a CSV export").setInputFiles(csv);
    const loaded = page.locator(".status").filter({ hasText: "Loaded" });
    const panel = page.locator(".error-panel");
    await Promise.race([loaded.waitFor({ timeout: 900_000 }), panel.waitFor({ timeout: 900_000 })]);
    const seconds = (Date.now() - started) / 1000;
    const row = { users, days: DAYS, bytes, seconds };
    if (await panel.isVisible()) {
      row.panel = await panel.getAttribute("data-kind");
      row.message = await page.locator(".error-message").textContent();
      log(`${users} users, ${(bytes / 1e9).toFixed(2)} GB: panel ${row.panel} after ${seconds.toFixed(1)} s: ${row.message}`);
    } else {
      row.status = await page.locator(".status").textContent();
      row.changes = {};
      for (const [name, action] of CHANGES) {
        try {
          row.changes[name] = await roundTrip(page, () => action(page));
        } catch (e) {
          row.changes[name] = null;
          log(`${name}: ${e.message.split("\n")[0]}`);
        }
      }
      log(`${users} users, ${(bytes / 1e9).toFixed(2)} GB: dashboard after ${seconds.toFixed(1)} s (${row.status}); worker round trips ${JSON.stringify(row.changes)}`);
    }
    results.push(row);
    await context.close();
    if (!KEEP) unlinkSync(csv);
  }
} finally {
  await browser?.close();
  server.kill();
}

const out = join(BENCH, "results");
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "scale.json"), JSON.stringify(results, null, 2));
const md = [
  "| export | CSV | outcome | seconds from choosing the file | worker round trip per view change (ms) |",
  "| --- | ---: | --- | ---: | --- |",
  ...results.map((r) => {
    const changes = r.changes ? Object.entries(r.changes).map(([k, v]) => `${k} ${v === null ? "—" : v.toFixed(0)}`).join("; ") : "";
    return `| ${r.users} users × ${r.days} days | ${(r.bytes / 1e9).toFixed(2)} GB | ${r.panel ? `panel \`${r.panel}\`` : "dashboard"} | ${r.seconds.toFixed(1)} | ${changes || r.message} |`;
  }),
].join("\n");
writeFileSync(join(out, "scale.md"), md + "\n");
console.log(md);
