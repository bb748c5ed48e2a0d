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
--   weeks (--period week) each line marked `week:` becomes the text after the mark: periods are
--                         Monday weeks, numbered by day number (days since 1970-01-01, computed
--                         from the date's year, month and day) + 3, over 7; each is named by its
--                         Monday, `YYYY-MM-DD`, as the CLI names them (day-grain exports only)
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
-- Each user's active months, as month numbers.
user_periods AS (
  SELECT DISTINCT numbered.user_key, EXTRACT(YEAR FROM numbered.day) * 12 + EXTRACT(MONTH FROM numbered.day) - 1 AS p -- week: SELECT DISTINCT numbered.user_key, CAST(FLOOR((numbered.dn + 3) / 7) AS BIGINT) AS p
  FROM numbered CROSS JOIN span
  WHERE numbered.active AND numbered.day BETWEEN span.first_day AND span.last_day
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
-- Each period's name: `YYYY-MM`, or a week's Monday, `YYYY-MM-DD`.
labels AS (
  SELECT p, CAST(CAST(FLOOR(p / 12) AS BIGINT) AS STRING) || '-' || LPAD(CAST(MOD(p, 12) + 1 AS STRING), 2, '0') AS label FROM periods -- week: SELECT p, CAST(y + CASE WHEN mm <= 2 THEN 1 ELSE 0 END AS STRING) || '-' || LPAD(CAST(mm AS STRING), 2, '0') || '-' || LPAD(CAST(dd AS STRING), 2, '0') AS label FROM (SELECT p, y, CAST(doy - FLOOR((153 * mp + 2) / 5) + 1 AS BIGINT) AS dd, CAST(CASE WHEN mp < 10 THEN mp + 3 ELSE mp - 9 END AS BIGINT) AS mm FROM (SELECT p, y, doy, FLOOR((5 * doy + 2) / 153) AS mp FROM (SELECT p, CAST(yoe + era * 400 AS BIGINT) AS y, doe - (365 * yoe + FLOOR(yoe / 4) - FLOOR(yoe / 100)) AS doy FROM (SELECT p, era, doe, FLOOR((doe - FLOOR(doe / 1460) + FLOOR(doe / 36524) - FLOOR(doe / 146096)) / 365) AS yoe FROM (SELECT p, era, z - era * 146097 AS doe FROM (SELECT p, z, FLOOR(z / 146097) AS era FROM (SELECT p, p * 7 - 3 + 719468 AS z FROM periods) AS a) AS b) AS c) AS d) AS e) AS f) AS g
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
  labels.label AS "period",
  COALESCE((accounting.p = bounds.first_p AND covered.starts_late)
           OR (accounting.p = bounds.last_p AND covered.ends_early), FALSE) AS partial,
  accounting.active_users AS "activeUsers",
  accounting.new_users AS "newUsers",
  accounting.retained_users AS "retainedUsers",
  accounting.resurrected_users AS "resurrectedUsers",
  COALESCE(churn.churned_users, 0) AS "churnedUsers",
  CAST(accounting.new_users + accounting.resurrected_users AS DOUBLE)
    / NULLIF(COALESCE(churn.churned_users, 0), 0) AS "quickRatio"
FROM accounting
CROSS JOIN bounds
CROSS JOIN covered
JOIN labels ON labels.p = accounting.p
LEFT JOIN churn ON churn.p = accounting.p
ORDER BY accounting.p
