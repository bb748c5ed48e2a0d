-- sql/by_month.sql: the summary by month over the table `usage`, one row per `month` (`YYYY-MM`)
-- that has rows, oldest first, its columns named as the groups of
-- `sg-analytics summarize --by month --format json`. `usage` is the Parquet that
-- `sg-analytics convert` writes (one file, or the month=YYYY-MM partitions: the partition column
-- `month` that engines add is not read here, the month comes from the date).
--
-- Each number is computed as in sql/summary.sql, over the month's rows, except:
--   avgDau                day-grain exports: the month's active user-days over its calendar days
--                         inside the range (the data's first to last date: a month the range only
--                         partly covers counts only its covered days)
--   avgDaysActivePerUser  the month's distinct user-days over its distinct users
--
-- Adapting it:
--   a filter              in `kept` (WHERE ...); with a date filter, `span` is its from and to
--   by_user_month export  each line marked `by_user_month:` becomes the text after the mark
--                         (months come from `Timestamp Month`; avgDau and avgDaysActivePerUser NULL)
--   no Instance user ID   the user is `User Email`, else `Username`
--   no Active column      every user is active: activeUsers = users
--   a new count column    COALESCE(SUM("X"), 0) AS "X"; a new rate column: AVG("X") (approximate)
--
-- Dialects: standard SQL, run as is by DuckDB.
--   Spark SQL  set spark.sql.ansi.enabled=true and spark.sql.ansi.doubleQuotedIdentifiers=true
--              (Spark 3.4+), or write `X` for "X".
--   BigQuery   write `X` for "X" and FLOAT64 for DOUBLE; `usage` is `project.dataset.usage`.
WITH kept AS (
  SELECT * FROM usage
),
dated AS (
  SELECT
    kept.*,
    "Timestamp Date" AS the_day, -- by_user_month: CAST(NULL AS DATE) AS the_day,
    SUBSTRING(CAST("Timestamp Date" AS STRING), 1, 7) AS month_key -- by_user_month: SUBSTRING(CAST("Timestamp Month" AS STRING), 1, 7) AS month_key
  FROM kept
),
span AS (
  SELECT MIN("Timestamp Date") AS first_day, MAX("Timestamp Date") AS last_day FROM usage -- by_user_month: SELECT CAST(NULL AS DATE) AS first_day, CAST(NULL AS DATE) AS last_day
),
-- Each month's calendar days inside the range: from the range's first day in its first month, to
-- its last day in its last month, else the whole month.
month_days AS (
  SELECT
    month_key,
    CASE WHEN month_index = last_index THEN EXTRACT(DAY FROM last_day)
         WHEN m IN (4, 6, 9, 11) THEN 30
         WHEN m = 2 AND ((MOD(y, 4) = 0 AND MOD(y, 100) <> 0) OR MOD(y, 400) = 0) THEN 29
         WHEN m = 2 THEN 28
         ELSE 31 END
    - CASE WHEN month_index = first_index THEN EXTRACT(DAY FROM first_day) ELSE 1 END
    + 1 AS days
  FROM (
    SELECT DISTINCT
      dated.month_key,
      EXTRACT(YEAR FROM dated.the_day) AS y,
      EXTRACT(MONTH FROM dated.the_day) AS m,
      EXTRACT(YEAR FROM dated.the_day) * 12 + EXTRACT(MONTH FROM dated.the_day) AS month_index,
      EXTRACT(YEAR FROM span.first_day) * 12 + EXTRACT(MONTH FROM span.first_day) AS first_index,
      EXTRACT(YEAR FROM span.last_day) * 12 + EXTRACT(MONTH FROM span.last_day) AS last_index,
      span.first_day,
      span.last_day
    FROM dated CROSS JOIN span
    WHERE dated.the_day IS NOT NULL
  ) AS months
),
user_days AS (
  SELECT month_key, COUNT(*) AS user_days
  FROM (SELECT DISTINCT month_key, "Instance user ID", the_day FROM dated WHERE the_day IS NOT NULL) AS d
  GROUP BY month_key
),
active_days AS (
  SELECT month_key, COUNT(*) AS active_days
  FROM (
    SELECT DISTINCT month_key, "Instance user ID", the_day
    FROM dated
    WHERE the_day IS NOT NULL AND "Active Sourcegraph User"
  ) AS d
  GROUP BY month_key
),
groups AS (
  SELECT
    month_key,
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
  FROM dated
  GROUP BY month_key
)
SELECT
  groups.month_key AS "month",
  groups."rows",
  groups.users,
  groups."activeUsers",
  CAST(COALESCE(active_days.active_days, 0) AS DOUBLE) / NULLIF(month_days.days, 0) AS "avgDau",
  CASE WHEN span.first_day IS NOT NULL
       THEN CAST(COALESCE(user_days.user_days, 0) AS DOUBLE) / NULLIF(groups.users, 0) END AS "avgDaysActivePerUser",
  groups."hoursSaved",
  groups."Searches",
  groups."Code Navigation Events",
  groups."Code Insight Views",
  groups."Chat Events",
  groups."Command Events",
  groups."Combined Completion Suggestions",
  groups."Combined Completion Acceptances",
  groups."Total Accepted Char Count",
  groups."Combined CAR",
  groups."Weighted CAR",
  groups."Total Characters Written by Cody",
  groups."Total Characters Written",
  groups."Percentage of Code Written by Cody",
  groups."Auto-edit suggested events",
  groups."Auto-edit accepted events",
  groups."Auto-edit acceptance rate",
  groups."Lines changed by chats and commands",
  groups."Lines changed by completions and auto-edits"
FROM groups
CROSS JOIN span
LEFT JOIN month_days ON month_days.month_key = groups.month_key
LEFT JOIN user_days ON user_days.month_key = groups.month_key
LEFT JOIN active_days ON active_days.month_key = groups.month_key
ORDER BY groups.month_key NULLS LAST
