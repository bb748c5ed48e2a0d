"""The metrics as SQL (sql/*.sql), held to the CLI's answers on DuckDB and on Spark (local mode).

For each export given, the CLI writes Parquet (`sg-analytics convert`: month partitions, or one
file for a by_user export) and answers as JSON (summarize, summarize --by month, growth,
retention, inactive --days 30); every SQL file then runs over that Parquet as the table `usage`
on each engine, and each answer must equal the CLI's: counts and sums exactly, rates to 1e-9.

    python tests/sql/check.py --cli target/debug/sg-analytics --work DIR EXPORT.csv...

Run by `cargo xtask test` (its "sql" step) in the virtual environment it makes.
"""

import argparse
import datetime
import decimal
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

SQL = Path(__file__).resolve().parents[2] / "sql"
DAY_GRAINS = ("by_user_day", "by_user_day_client_language")


def cli(binary, *args):
    done = subprocess.run([binary, *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"sg-analytics {' '.join(args)} failed: {done.stderr}")
    return json.loads(done.stdout) if done.stdout else None


def sql_text(name, marks):
    """The file, with each line marked `-- MARK: TEXT` (for a MARK in `marks`) replaced by TEXT,
    as the file's header tells a reader to do for that kind of export."""
    lines = []
    for line in (SQL / name).read_text().splitlines():
        code, _, note = line.partition(" -- ")
        mark, _, text = note.partition(": ")
        if note and mark in marks:
            indent = code[: len(code) - len(code.lstrip())]
            line = indent + text
        lines.append(line)
    return "\n".join(lines)


def plain(value):
    """A value as JSON would carry it: dates as `YYYY-MM-DD`, decimals as numbers."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def same(expected, got, where):
    """Counts and sums exactly, floats to 1e-9 (relative), NULL as NULL."""
    if expected is None or isinstance(expected, (bool, str)):
        ok = got == expected and type(got) is type(expected)
    elif isinstance(expected, int):
        ok = isinstance(got, int) and not isinstance(got, bool) and got == expected
    else:
        ok = isinstance(got, (int, float)) and math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12)
    if not ok:
        raise AssertionError(f"{where}: SQL gives {got!r}, the CLI {expected!r}")


def same_rows(expected, got, where):
    if len(got) != len(expected):
        raise AssertionError(f"{where}: SQL gives {len(got)} rows, the CLI {len(expected)}")
    for i, (e, g) in enumerate(zip(expected, got)):
        if list(g) != list(e):
            raise AssertionError(f"{where} row {i}: SQL columns {list(g)}, the CLI's {list(e)}")
        for key in e:
            same(e[key], g[key], f"{where} row {i} {key}")


class DuckDB:
    name = "DuckDB"

    def __init__(self):
        import duckdb

        self.db = duckdb.connect()

    def use(self, parquet):
        files = f"{parquet}/**/*.parquet" if parquet.is_dir() else str(parquet)
        self.db.execute(
            f"CREATE OR REPLACE VIEW usage AS SELECT * FROM read_parquet('{files}', hive_partitioning = true)"
        )

    def query(self, sql):
        cursor = self.db.execute(sql)
        names = [d[0] for d in cursor.description]
        return [{n: plain(v) for n, v in zip(names, row)} for row in cursor.fetchall()]


class Spark:
    name = "Spark"

    def __init__(self):
        from pyspark.sql import SparkSession

        # Local mode on the loopback only, no UI; double-quoted identifiers as standard SQL has them.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        self.spark = (
            SparkSession.builder.master("local[1]")
            .appName("sg-analytics-sql-check")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            # Small data: one partition, no compiled stages (compiling costs more than it saves).
            .config("spark.sql.shuffle.partitions", "1")
            .config("spark.default.parallelism", "1")
            .config("spark.sql.codegen.wholeStage", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.ansi.enabled", "true")
            .config("spark.sql.ansi.doubleQuotedIdentifiers", "true")
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("ERROR")

    def use(self, parquet):
        self.spark.read.parquet(str(parquet)).createOrReplaceTempView("usage")

    def query(self, sql):
        return [{k: plain(v) for k, v in row.asDict().items()} for row in self.spark.sql(sql).collect()]

    def close(self):
        self.spark.stop()


def answers(binary, export, work):
    """The CLI's Parquet and JSON answers for one export."""
    summary = cli(binary, "summarize", str(export), "--format", "json")
    granularity = summary["input"]["granularity"]
    out = work / export.stem
    if granularity == "by_user":
        parquet = out / "usage.parquet"
        out.mkdir(parents=True, exist_ok=True)
        cli(binary, "convert", str(export), "-o", str(parquet))
    else:
        parquet = out / "usage"
        cli(binary, "convert", str(export), "--out-dir", str(parquet))
    expected = {"summary.sql": [summary["totals"]]}
    if granularity != "by_user":
        by_month = cli(binary, "summarize", str(export), "--by", "month", "--format", "json")
        expected["by_month.sql"] = [{"month": g["key"]["month"], **{k: v for k, v in numbers(g).items() if k != "key"}} for g in by_month["groups"]]
        # The SQL carries the numbers, not the small-sample marks.
        growth = cli(binary, "growth", str(export), "--period", "month", "--format", "json")
        expected["growth.sql"] = [numbers(p) for p in growth["periods"]]
        retention = cli(binary, "retention", str(export), "--period", "month", "--format", "json")
        expected["retention.sql"] = retention_rows(retention, month_after)
        if granularity in DAY_GRAINS:
            # Weeks: the lines marked `week:`.
            growth = cli(binary, "growth", str(export), "--period", "week", "--format", "json")
            expected["growth.sql week"] = [numbers(p) for p in growth["periods"]]
            retention = cli(binary, "retention", str(export), "--period", "week", "--format", "json")
            expected["retention.sql week"] = retention_rows(retention, week_after)
        inactive = cli(binary, "inactive", str(export), "--days", "30", "--format", "json")
        expected["inactive.sql"] = [
            {"user": u["user"], "email": u.get("email"), "username": u.get("username"),
             "lastActive": u["lastActive"], "asOf": inactive["asOf"]}
            for u in inactive["users"]
        ]
    return granularity, parquet, expected


def numbers(period):
    """A period of the CLI's answer without its small-sample mark: a flag of the CLI's
    presentation (whether a rate stands on fewer users than --min-sample), not a metric; the SQL
    gives the figures it is judged from."""
    return {k: v for k, v in period.items() if k != "smallSample"}


def retention_rows(retention, after):
    """The CLI's cohorts in the SQL's long form: one row per cohort and k."""
    rows = []
    for c in retention["cohorts"]:
        for k, active in enumerate(c["active"]):
            period = after(c["cohort"], k)
            rows.append({"cohort": c["cohort"], "users": c["users"], "k": k, "period": period,
                         "partial": period in retention["partialPeriods"], "active": active})
    return rows


def week_after(monday, k):
    return (datetime.date.fromisoformat(monday) + datetime.timedelta(weeks=k)).isoformat()


def month_after(month, k):
    year, m = int(month[:4]), int(month[5:7]) - 1 + k
    return f"{year + m // 12:04d}-{m % 12 + 1:02d}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", required=True, help="the sg-analytics binary")
    parser.add_argument("--work", required=True, help="a folder for the Parquet files")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("exports", nargs="+", type=Path, help="exports checked on every engine")
    parser.add_argument("--duckdb-only", action="append", default=[], type=Path, metavar="EXPORT",
                        help="an export checked on DuckDB alone (Spark takes seconds a query)")
    args = parser.parse_args()
    work = Path(args.work)
    exports = args.exports + args.duckdb_only
    cases = [(export, *answers(args.cli, export, work)) for export in exports]
    engines = [{"duckdb": DuckDB, "spark": Spark}[e]() for e in args.engines.split(",")]
    checked = failed = 0
    for engine in engines:
        for export, granularity, parquet, expected in cases:
            if export in args.duckdb_only and engine.name != "DuckDB":
                continue
            engine.use(parquet)
            marks = () if granularity in DAY_GRAINS else ("without days", granularity)
            for key, rows in expected.items():
                name, _, variant = key.partition(" ")
                where = f"{engine.name}, {key}, {export.name}"
                started = time.monotonic()
                try:
                    text = sql_text(name, marks + ((variant,) if variant else ()))
                    same_rows(rows, engine.query(text), where)
                    checked += 1
                    print(f"ok {where} ({time.monotonic() - started:.1f} s)", flush=True)
                except Exception as e:  # an engine's error is a failure of that check alone
                    failed += 1
                    print(f"FAILED {where}: {e}", file=sys.stderr)
        if hasattr(engine, "close"):
            engine.close()
    print(f"sql: {checked} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
