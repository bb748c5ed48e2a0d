-- sql/summary.sql: the summary's totals over the table `usage`, one row whose columns are named as
-- `sg-analytics summarize --format json` names its totals. `usage` is the Parquet that
-- `sg-analytics convert` writes (one file, or the month=YYYY-MM partitions), with its own columns.
--
-- The numbers, as sg-analytics computes them:
--   rows                  the rows kept
--   users                 distinct `Instance user ID`
--   activeUsers           distinct users with a TRUE `Active Sourcegraph User` on a kept row
--   avgDau                day-grain exports: the mean, over every calendar day of the range, of the
--                         distinct active users that day (a day without rows counts as 0); the range
--                         is the data's first to last date (every row of `usage`, not only the kept)
--   avgDaysActivePerUser  day-grain exports: the mean over users of their distinct days with a row
--   hoursSaved            Σ count × minutes / 60: completion acceptances 2, auto-edit acceptances 2,
--                         chat events 5, command events 5, searches 5, code navigation events 1
--   counts                summed (0 when every cell is empty)
--   rates                 recomputed from the summed parts, never summed or averaged; NULL when the
--                         denominator is 0
--   Weighted CAR          approximate: the suggestion-weighted mean over the rows that have both a
--                         Weighted CAR and suggestions > 0 (the export does not carry its parts)
--
-- Adapting it:
--   a filter              in `kept` (WHERE ...); with a date filter, `span` is its from and to
--   by_user_month and    no days: each line marked `without days:` becomes the text after the mark
--     by_user exports     (avgDau and avgDaysActivePerUser are then NULL)
--   no Instance user ID   the user is `User Email`, else `Username`
--   no Active column      every user is active: activeUsers = users
--   other minutes saved   the factors in hoursSaved
--   a new count column    COALESCE(SUM("X"), 0) AS "X"; a new rate column: AVG("X") (approximate)
--
-- Dialects: standard SQL, run as is by DuckDB.
--   Spark SQL  set spark.sql.ansi.enabled=true and spark.sql.ansi.doubleQuotedIdentifiers=true
--              (Spark 3.4+), or write `X` for "X".
--   BigQuery   write `X` for "X" and FLOAT64 for DOUBLE; `usage` is `project.dataset.usage`.
WITH kept AS (
  SELECT * FROM usage
),
span AS (
  SELECT MIN("Timestamp Date") AS first_day, MAX("Timestamp Date") AS last_day FROM usage -- without days: SELECT CAST(NULL AS DATE) AS first_day, CAST(NULL AS DATE) AS last_day
),
-- Days since a fixed origin (only differences are used), from the calendar date alone.
span_numbers AS (
  SELECT
    (365 * ly + FLOOR(ly / 4) - FLOOR(ly / 100) + FLOOR(ly / 400) + FLOOR((153 * lm + 2) / 5) + ld)
    - (365 * fy + FLOOR(fy / 4) - FLOOR(fy / 100) + FLOOR(fy / 400) + FLOOR((153 * fm + 2) / 5) + fd)
    + 1 AS days
  FROM (
    SELECT
      EXTRACT(YEAR FROM first_day) - CASE WHEN EXTRACT(MONTH FROM first_day) <= 2 THEN 1 ELSE 0 END AS fy,
      MOD(EXTRACT(MONTH FROM first_day) + 9, 12) AS fm,
      EXTRACT(DAY FROM first_day) AS fd,
      EXTRACT(YEAR FROM last_day) - CASE WHEN EXTRACT(MONTH FROM last_day) <= 2 THEN 1 ELSE 0 END AS ly,
      MOD(EXTRACT(MONTH FROM last_day) + 9, 12) AS lm,
      EXTRACT(DAY FROM last_day) AS ld
    FROM span
  ) AS parts
),
-- The kept rows' user-days: every row with a day, and whether the user was active on it.
user_days AS (
  SELECT DISTINCT "Instance user ID" AS user_key, "Timestamp Date" AS day FROM kept WHERE "Timestamp Date" IS NOT NULL -- without days: SELECT DISTINCT "Instance user ID" AS user_key, CAST(NULL AS DATE) AS day FROM kept WHERE FALSE
),
active_days AS (
  SELECT DISTINCT "Instance user ID" AS user_key, "Timestamp Date" AS day FROM kept WHERE "Timestamp Date" IS NOT NULL AND "Active Sourcegraph User" -- without days: SELECT DISTINCT "Instance user ID" AS user_key, CAST(NULL AS DATE) AS day FROM kept WHERE FALSE
),
daily AS (
  SELECT
    (SELECT COUNT(*) FROM user_days) AS user_days,
    (SELECT COUNT(*) FROM active_days) AS active_days,
    (SELECT days FROM span_numbers) AS days
),
totals AS (
  SELECT
    COUNT(*) AS "rows",
    COUNT(DISTINCT "Instance user ID") AS users,
    COUNT(DISTINCT CASE WHEN "Active Sourcegraph User" THEN "Instance user ID" END) AS "activeUsers",
    COALESCE(SUM("Combined Completion Acceptances"), 0) * 2 / CAST(60 AS DOUBLE)
      + COALESCE(SUM("Auto-edit accepted events"), 0) * 2 / CAST(60 AS DOUBLE)
      + COALESCE(SUM("Chat Events"), 0) * 5 / CAST(60 AS DOUBLE)
      + COALESCE(SUM("Command Events"), 0) * 5 / CAST(60 AS DOUBLE)
      + COALESCE(SUM("Searches"), 0) * 5 / CAST(60 AS DOUBLE)
      + COALESCE(SUM("Code Navigation Events"), 0) * 1 / CAST(60 AS DOUBLE) AS "hoursSaved",
    COALESCE(SUM("Searches"), 0) AS "Searches",
    COALESCE(SUM("Code Navigation Events"), 0) AS "Code Navigation Events",
    COALESCE(SUM("Code Insight Views"), 0) AS "Code Insight Views",
    COALESCE(SUM("Chat Events"), 0) AS "Chat Events",
    COALESCE(SUM("Command Events"), 0) AS "Command Events",
    COALESCE(SUM("Combined Completion Suggestions"), 0) AS "Combined Completion Suggestions",
    COALESCE(SUM("Combined Completion Acceptances"), 0) AS "Combined Completion Acceptances",
    COALESCE(SUM("Total Accepted Char Count"), 0) AS "Total Accepted Char Count",
    CAST(COALESCE(SUM("Combined Completion Acceptances"), 0) AS DOUBLE)
      / NULLIF(SUM("Combined Completion Suggestions"), 0) AS "Combined CAR",
    SUM(CASE WHEN "Weighted CAR" IS NOT NULL AND "Combined Completion Suggestions" > 0
             THEN "Weighted CAR" * "Combined Completion Suggestions" END)
      / SUM(CASE WHEN "Weighted CAR" IS NOT NULL AND "Combined Completion Suggestions" > 0
                 THEN "Combined Completion Suggestions" END) AS "Weighted CAR",
    COALESCE(SUM("Total Characters Written by Cody"), 0) AS "Total Characters Written by Cody",
    COALESCE(SUM("Total Characters Written"), 0) AS "Total Characters Written",
    100 * CAST(COALESCE(SUM("Total Characters Written by Cody"), 0) AS DOUBLE)
      / NULLIF(SUM("Total Characters Written"), 0) AS "Percentage of Code Written by Cody",
    COALESCE(SUM("Auto-edit suggested events"), 0) AS "Auto-edit suggested events",
    COALESCE(SUM("Auto-edit accepted events"), 0) AS "Auto-edit accepted events",
    CAST(COALESCE(SUM("Auto-edit accepted events"), 0) AS DOUBLE)
      / NULLIF(SUM("Auto-edit suggested events"), 0) AS "Auto-edit acceptance rate",
    COALESCE(SUM("Lines changed by chats and commands"), 0) AS "Lines changed by chats and commands",
    COALESCE(SUM("Lines changed by completions and auto-edits"), 0) AS "Lines changed by completions and auto-edits"
  FROM kept
)
SELECT
  totals."rows",
  totals.users,
  totals."activeUsers",
  CASE WHEN totals.users > 0 THEN CAST(daily.active_days AS DOUBLE) / NULLIF(daily.days, 0) END AS "avgDau",
  CASE WHEN daily.days > 0 THEN CAST(daily.user_days AS DOUBLE) / NULLIF(totals.users, 0) END AS "avgDaysActivePerUser",
  totals."hoursSaved",
  totals."Searches",
  totals."Code Navigation Events",
  totals."Code Insight Views",
  totals."Chat Events",
  totals."Command Events",
  totals."Combined Completion Suggestions",
  totals."Combined Completion Acceptances",
  totals."Total Accepted Char Count",
  totals."Combined CAR",
  totals."Weighted CAR",
  totals."Total Characters Written by Cody",
  totals."Total Characters Written",
  totals."Percentage of Code Written by Cody",
  totals."Auto-edit suggested events",
  totals."Auto-edit accepted events",
  totals."Auto-edit acceptance rate",
  totals."Lines changed by chats and commands",
  totals."Lines changed by completions and auto-edits"
FROM totals CROSS JOIN daily
