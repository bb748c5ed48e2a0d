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
--   weeks (--period week) each line marked `week:` becomes the text after the mark (see
--                         sql/growth.sql); cohorts and periods are then Mondays, `YYYY-MM-DD`
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
numbered AS (
  SELECT user_key, day, active,
    CAST(365 * y + FLOOR(y / 4) - FLOOR(y / 100) + FLOOR(y / 400) + FLOOR((153 * m + 2) / 5) + dd - 1 - 719468 AS BIGINT) AS dn
  FROM (
    SELECT activity.*,
      EXTRACT(YEAR FROM day) - CASE WHEN EXTRACT(MONTH FROM day) <= 2 THEN 1 ELSE 0 END AS y,
      EXTRACT(MONTH FROM day) + CASE WHEN EXTRACT(MONTH FROM day) <= 2 THEN 9 ELSE -3 END AS m,
      EXTRACT(DAY FROM day) AS dd
    FROM activity
  ) AS a
),
span AS (
  SELECT MIN(day) AS first_day, MAX(day) AS last_day, MIN(dn) AS first_dn, MAX(dn) AS last_dn FROM numbered
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
covered AS (
  SELECT * FROM coverage -- week: SELECT MOD(first_dn + 3, 7) <> 0 AS starts_late, MOD(last_dn + 3, 7) <> 6 AS ends_early FROM span
),
bounds AS (
  SELECT
    EXTRACT(YEAR FROM first_day) * 12 + EXTRACT(MONTH FROM first_day) - 1 AS first_p, -- week: CAST(FLOOR((first_dn + 3) / 7) AS BIGINT) AS first_p,
    EXTRACT(YEAR FROM last_day) * 12 + EXTRACT(MONTH FROM last_day) - 1 AS last_p -- week: CAST(FLOOR((last_dn + 3) / 7) AS BIGINT) AS last_p
  FROM span
),
user_periods AS (
  SELECT DISTINCT numbered.user_key, EXTRACT(YEAR FROM numbered.day) * 12 + EXTRACT(MONTH FROM numbered.day) - 1 AS p -- week: SELECT DISTINCT numbered.user_key, CAST(FLOOR((numbered.dn + 3) / 7) AS BIGINT) AS p
  FROM numbered CROSS JOIN span
  WHERE numbered.active AND numbered.day BETWEEN span.first_day AND span.last_day
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
-- Each period's name: `YYYY-MM`, or a week's Monday, `YYYY-MM-DD`.
labels AS (
  SELECT p, CAST(CAST(FLOOR(p / 12) AS BIGINT) AS STRING) || '-' || LPAD(CAST(MOD(p, 12) + 1 AS STRING), 2, '0') AS label FROM periods -- week: SELECT p, CAST(y + CASE WHEN mm <= 2 THEN 1 ELSE 0 END AS STRING) || '-' || LPAD(CAST(mm AS STRING), 2, '0') || '-' || LPAD(CAST(dd AS STRING), 2, '0') AS label FROM (SELECT p, y, CAST(doy - FLOOR((153 * mp + 2) / 5) + 1 AS BIGINT) AS dd, CAST(CASE WHEN mp < 10 THEN mp + 3 ELSE mp - 9 END AS BIGINT) AS mm FROM (SELECT p, y, doy, FLOOR((5 * doy + 2) / 153) AS mp FROM (SELECT p, CAST(yoe + era * 400 AS BIGINT) AS y, doe - (365 * yoe + FLOOR(yoe / 4) - FLOOR(yoe / 100)) AS doy FROM (SELECT p, era, doe, FLOOR((doe - FLOOR(doe / 1460) + FLOOR(doe / 36524) - FLOOR(doe / 146096)) / 365) AS yoe FROM (SELECT p, era, z - era * 146097 AS doe FROM (SELECT p, z, FLOOR(z / 146097) AS era FROM (SELECT p, p * 7 - 3 + 719468 AS z FROM periods) AS a) AS b) AS c) AS d) AS e) AS f) AS g
),
-- How many of each cohort are active in each later month.
returns AS (
  SELECT firsts.first_p AS c, user_periods.p, COUNT(*) AS active
  FROM user_periods JOIN firsts ON firsts.user_key = user_periods.user_key
  GROUP BY firsts.first_p, user_periods.p
)
SELECT
  cohort_label.label AS cohort,
  cohorts.users,
  periods.p - cohorts.c AS k,
  labels.label AS "period",
  COALESCE((periods.p = bounds.first_p AND covered.starts_late)
           OR (periods.p = bounds.last_p AND covered.ends_early), FALSE) AS partial,
  COALESCE(returns.active, 0) AS active
FROM cohorts
CROSS JOIN bounds
CROSS JOIN covered
JOIN periods ON periods.p >= cohorts.c
JOIN labels ON labels.p = periods.p
JOIN labels AS cohort_label ON cohort_label.p = cohorts.c
LEFT JOIN returns ON returns.c = cohorts.c AND returns.p = periods.p
ORDER BY cohorts.c, periods.p
