-- sql/growth.sql: growth accounting per month over the table `usage`, one row per month of the
-- range (empty ones included), oldest first, its columns named as the periods of
-- `sg-analytics growth --period month --format json`. `usage` is the Parquet that
-- `sg-analytics convert` writes.
--
-- The numbers, as sg-analytics computes them:
--   a user is active in a month when a kept row of theirs dated in it has a TRUE
--   `Active Sourcegraph User`; the range is the kept rows' first to last date, and its months are
--   every calendar month from the first's to the last's (at most 1000)
--   partial            the range leaves out some of the month's days (its first or last month
--                      only; a month-grain export's rows cover their month)
--   activeUsers        active in the month
--   newUsers           active in the month and in no earlier month of the range
--   retainedUsers      active in the month and the month before
--   resurrectedUsers   active in the month, not the month before, but in an earlier one
--   churnedUsers       active the month before, not in this one
--   quickRatio         (new + resurrected) / churned, NULL when no one churned
--
-- Adapting it:
--   a filter              in `kept` (WHERE ...); with a date filter, `span` is its from and to
--   by_user_month export  each line marked `by_user_month:` becomes the text after the mark
--   no Instance user ID   the user is `User Email`, else `Username`
--   no Active column      every kept row makes its user active: `TRUE AS active`
--   weeks                 periods are month numbers (year × 12 + month − 1); for Monday weeks use
--                         the week's Monday: DuckDB date_trunc('week', d), Spark
--                         date_trunc('WEEK', d), BigQuery DATE_TRUNC(d, ISOWEEK), numbered by
--                         days / 7 (not tested by the project; the CLI's --period week is)
--
-- Dialects: standard SQL, run as is by DuckDB.
--   Spark SQL  set spark.sql.ansi.enabled=true and spark.sql.ansi.doubleQuotedIdentifiers=true
--              (Spark 3.4+), or write `X` for "X".
--   BigQuery   write `X` for "X" and FLOAT64 for DOUBLE, and take the line marked `BigQuery:`
--              (no VALUES lists); `usage` is `project.dataset.usage`.
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
-- Each user's active months, as month numbers.
user_periods AS (
  SELECT DISTINCT activity.user_key, EXTRACT(YEAR FROM activity.day) * 12 + EXTRACT(MONTH FROM activity.day) - 1 AS p
  FROM activity CROSS JOIN span
  WHERE activity.active AND activity.day BETWEEN span.first_day AND span.last_day
),
firsts AS (
  SELECT user_key, MIN(p) AS first_p FROM user_periods GROUP BY user_key
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
accounting AS (
  SELECT
    periods.p,
    COUNT(cur.user_key) AS active_users,
    COUNT(CASE WHEN firsts.first_p = periods.p THEN 1 END) AS new_users,
    COUNT(prev.user_key) AS retained_users,
    COUNT(CASE WHEN prev.user_key IS NULL AND firsts.first_p < periods.p THEN 1 END) AS resurrected_users
  FROM periods
  LEFT JOIN user_periods AS cur ON cur.p = periods.p
  LEFT JOIN user_periods AS prev ON prev.user_key = cur.user_key AND prev.p = periods.p - 1
  LEFT JOIN firsts ON firsts.user_key = cur.user_key
  GROUP BY periods.p
),
churn AS (
  SELECT periods.p, COUNT(*) AS churned_users
  FROM periods
  JOIN user_periods AS prev ON prev.p = periods.p - 1
  LEFT JOIN user_periods AS cur ON cur.user_key = prev.user_key AND cur.p = periods.p
  WHERE cur.user_key IS NULL
  GROUP BY periods.p
)
SELECT
  CAST(CAST(FLOOR(accounting.p / 12) AS BIGINT) AS STRING) || '-'
    || LPAD(CAST(MOD(accounting.p, 12) + 1 AS STRING), 2, '0') AS "period",
  COALESCE((accounting.p = bounds.first_p AND coverage.starts_late)
           OR (accounting.p = bounds.last_p AND coverage.ends_early), FALSE) AS partial,
  accounting.active_users AS "activeUsers",
  accounting.new_users AS "newUsers",
  accounting.retained_users AS "retainedUsers",
  accounting.resurrected_users AS "resurrectedUsers",
  COALESCE(churn.churned_users, 0) AS "churnedUsers",
  CAST(accounting.new_users + accounting.resurrected_users AS DOUBLE)
    / NULLIF(COALESCE(churn.churned_users, 0), 0) AS "quickRatio"
FROM accounting
CROSS JOIN bounds
CROSS JOIN coverage
LEFT JOIN churn ON churn.p = accounting.p
ORDER BY accounting.p
