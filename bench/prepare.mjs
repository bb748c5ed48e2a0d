// What the browser benchmarks share: their command-line options, and the export they measure
// (generated into bench/data/ with `cargo xtask gen` when missing).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(BENCH, "..");

const argv = process.argv.slice(2);

/** The value after `--name` on the command line, or `dflt`. */
export const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};

/** Whether `--name` is on the command line. */
export const flag = (name) => argv.includes(name);

/** Runs a command in the project's root, its output on this one's. */
export const run = (cmd, args, cwd = ROOT) => execFileSync(cmd, args, { cwd, stdio: ["ignore", "inherit", "inherit"] });

/** The export to measure: `--csv FILE`, else bench/data/export-<users>u-<days>d.csv, generated at
 * the finest granularity when missing. */
export function exportFile(users, days, log) {
  const csv = resolve(opt("--csv", join(BENCH, "data", `export-${users}u-${days}d.csv`)));
  if (!existsSync(csv)) {
    mkdirSync(dirname(csv), { recursive: true });
    log(`generating ${csv}`);
    run("cargo", ["xtask", "gen", "--users", String(users), "--days", String(days), "--granularity", "by_user_day_client_language", "--out", csv]);
  }
  return csv;
}

/** What the export is, for a results table: the file given with `--csv`, else the generated
 * export's users and days (`--csv` makes `--users`/`--days` unused). */
export function exportLabel(users, days) {
  const csv = opt("--csv", null);
  return csv ? `the file ${basename(csv)}` : `${users} users × ${days} days`;
}
