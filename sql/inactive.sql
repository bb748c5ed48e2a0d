-- sql/inactive.sql: the users with no active day in the last `days` days (30 here: set it in
-- `params`) over the table `usage`, as `sg-analytics inactive --days 30 --format json` lists them:
-- one row per user, never-active users first, then the longest inactive, then by user ID (as
-- text). Columns: `user`, `email`, `username`, `lastActive` (a DATE, NULL when never active in the
-- range) and `asOf`. `usage` is the Parquet that `sg-analytics convert` writes.
--
-- The numbers, as sg-analytics computes them:
--   a user is active on a day when a kept row of theirs that day has a TRUE
--   `Active Sourcegraph User`; the range is the kept rows' first to last date; `asOf` is its last
--   day, and a user is inactive with no active day in asOf − days + 1 ..= asOf. The candidates
--   are the users of the kept rows (the CLI's --registry FILE adds the registry's users who have no
--   row: here a LEFT JOIN from the registry table).
--   email and username: a user's own (the same on all of their rows in an export).
--
-- Adapting it:
--   a filter              in `kept` (WHERE ...); with a date filter, `span` is its from and to
--   by_user_month export  each line marked `by_user_month:` becomes the text after the mark (a
--                         month's rows count as its first day)
--   no Instance user ID   the user is `User Email`, else `Username`
--   no Active column      every kept row makes its user active: `TRUE AS active`
--
-- Dialects: standard SQL, run as is by DuckDB.
--   Spark SQL  set spark.sql.ansi.enabled=true and spark.sql.ansi.doubleQuotedIdentifiers=true
--              (Spark 3.4+), or write `X` for "X".
--   BigQuery   write `X` for "X"; `usage` is `project.dataset.usage`.
WITH params AS (
  SELECT 30 AS days
),
kept AS (
  SELECT * FROM usage
),
activity AS (
  SELECT "Instance user ID" AS user_key, "User Email" AS email, "Username" AS username, "Timestamp Date" AS day, "Active Sourcegraph User" AS active FROM kept -- by_user_month: SELECT "Instance user ID" AS user_key, "User Email" AS email, "Username" AS username, "Timestamp Month" AS day, "Active Sourcegraph User" AS active FROM kept
),
span AS (
  SELECT MIN(day) AS first_day, MAX(day) AS last_day FROM activity
),
users AS (
  SELECT
    activity.user_key,
    MIN(activity.email) AS email,
    MIN(activity.username) AS username,
    MAX(CASE WHEN activity.active AND activity.day BETWEEN span.first_day AND span.last_day
             THEN activity.day END) AS last_active
  FROM activity CROSS JOIN span
  GROUP BY activity.user_key
),
-- Days since a fixed origin (only differences are used), from the calendar date alone.
day_numbers AS (
  SELECT day, 365 * y + FLOOR(y / 4) - FLOOR(y / 100) + FLOOR(y / 400) + FLOOR((153 * m + 2) / 5) + d AS n
  FROM (
    SELECT
      day,
      EXTRACT(YEAR FROM day) - CASE WHEN EXTRACT(MONTH FROM day) <= 2 THEN 1 ELSE 0 END AS y,
      MOD(EXTRACT(MONTH FROM day) + 9, 12) AS m,
      EXTRACT(DAY FROM day) AS d
    FROM (SELECT DISTINCT day FROM activity WHERE day IS NOT NULL) AS days
  ) AS parts
)
SELECT
  users.user_key AS "user",
  users.email,
  users.username,
  users.last_active AS "lastActive",
  span.last_day AS "asOf"
FROM users
CROSS JOIN span
CROSS JOIN params
LEFT JOIN day_numbers AS as_of ON as_of.day = span.last_day
LEFT JOIN day_numbers AS last ON last.day = users.last_active
WHERE users.last_active IS NULL OR last.n < as_of.n - params.days + 1
ORDER BY users.last_active NULLS FIRST, users.user_key
