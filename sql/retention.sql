-- sql/retention.sql: retention cohorts per month over the table `usage`: for the users first active
-- in each month (a cohort), how many are active k months later, for k = 0 up to the range's last
-- month. One row per cohort and k, oldest cohort first: `cohort` (`YYYY-MM`), `users` (the
-- cohort's size), `k`, `period` (the month cohort + k), `partial` (the range leaves out some of
-- that month's days: the CLI's `partialPeriods`) and `active`, the numbers of
-- `sg-analytics retention --period month --format json`, whose `active` array is this file's
-- `active` column in the order of k. Cohorts without users are left out. `usage` is the Parquet
-- that `sg-analytics convert` writes.
--
-- A user is active in a month when a kept row of theirs dated in it has a TRUE
-- `Active Sourcegraph User`; the range is the kept rows' first to last date.
--
-- Adapting it:
--   a filter              in `kept` (WHERE ...); with a date filter, `span` is its from and to
--   by_user_month export  each line marked `by_user_month:` becomes the text after the mark
--   no Instance user ID   the user is `User Email`, else `Username`
--   no Active column      every kept row makes its user active: `TRUE AS active`
--   weeks                 see the note in sql/growth.sql
--
-- Dialects: standard SQL, run as is by DuckDB.
--   Spark SQL  set spark.sql.ansi.enabled=true and spark.sql.ansi.doubleQuotedIdentifiers=true
--              (Spark 3.4+), or write `X` for "X".
--   BigQuery   write `X` for "X" and take the line marked `BigQuery:` (no VALUES lists);
--              `usage` is `project.dataset.usage`.
WITH kept AS (
  SELECT * FROM usage
),
activity AS (
  SELECT "Instance user ID" AS user_key, "Timestamp Date" AS day, "Active Sourcegraph User" AS active FROM kept -- by_user_month: SELECT "Instance user ID" AS user_key, "Timestamp Month" AS day, "Active Sourcegraph User" AS active FROM kept
),
span AS (
  SELECT MIN(day) AS first_day, MAX(day) AS last_day FROM activity
),
-- Whether the range leaves out days of its first or of its last month (those are partial).
span_months AS (
  SELECT
    first_day,
    last_day,
    CASE WHEN m IN (4, 6, 9, 11) THEN 30
         WHEN m = 2 AND ((MOD(y, 4) = 0 AND MOD(y, 100) <> 0) OR MOD(y, 400) = 0) THEN 29
         WHEN m = 2 THEN 28
         ELSE 31 END AS last_month_days
  FROM (SELECT span.*, EXTRACT(YEAR FROM last_day) AS y, EXTRACT(MONTH FROM last_day) AS m FROM span) AS s
),
coverage AS (
  SELECT EXTRACT(DAY FROM first_day) > 1 AS starts_late, EXTRACT(DAY FROM last_day) < last_month_days AS ends_early FROM span_months -- by_user_month: SELECT FALSE AS starts_late, FALSE AS ends_early
),
bounds AS (
  SELECT
    EXTRACT(YEAR FROM first_day) * 12 + EXTRACT(MONTH FROM first_day) - 1 AS first_p,
    EXTRACT(YEAR FROM last_day) * 12 + EXTRACT(MONTH FROM last_day) - 1 AS last_p
  FROM span
),
user_periods AS (
  SELECT DISTINCT activity.user_key, EXTRACT(YEAR FROM activity.day) * 12 + EXTRACT(MONTH FROM activity.day) - 1 AS p
  FROM activity CROSS JOIN span
  WHERE activity.active AND activity.day BETWEEN span.first_day AND span.last_day
),
firsts AS (
  SELECT user_key, MIN(p) AS first_p FROM user_periods GROUP BY user_key
),
cohorts AS (
  SELECT first_p AS c, COUNT(*) AS users FROM firsts GROUP BY first_p
),
digits AS (
  SELECT d FROM (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) AS t (d) -- BigQuery: SELECT d FROM UNNEST([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) AS d
),
periods AS (
  SELECT bounds.first_p + n.n AS p
  FROM bounds
  CROSS JOIN (SELECT a.d + 10 * b.d + 100 * c.d AS n FROM digits a CROSS JOIN digits b CROSS JOIN digits c) AS n
  WHERE bounds.first_p + n.n <= bounds.last_p
),
-- How many of each cohort are active in each later month.
returns AS (
  SELECT firsts.first_p AS c, user_periods.p, COUNT(*) AS active
  FROM user_periods JOIN firsts ON firsts.user_key = user_periods.user_key
  GROUP BY firsts.first_p, user_periods.p
)
SELECT
  CAST(CAST(FLOOR(cohorts.c / 12) AS BIGINT) AS STRING) || '-'
    || LPAD(CAST(MOD(cohorts.c, 12) + 1 AS STRING), 2, '0') AS cohort,
  cohorts.users,
  periods.p - cohorts.c AS k,
  CAST(CAST(FLOOR(periods.p / 12) AS BIGINT) AS STRING) || '-'
    || LPAD(CAST(MOD(periods.p, 12) + 1 AS STRING), 2, '0') AS "period",
  COALESCE((periods.p = bounds.first_p AND coverage.starts_late)
           OR (periods.p = bounds.last_p AND coverage.ends_early), FALSE) AS partial,
  COALESCE(returns.active, 0) AS active
FROM cohorts
CROSS JOIN bounds
CROSS JOIN coverage
JOIN periods ON periods.p >= cohorts.c
LEFT JOIN returns ON returns.c = cohorts.c AND returns.p = periods.p
ORDER BY cohorts.c, periods.p
