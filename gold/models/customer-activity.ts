/**
 * gold.customer_activity
 *
 * Grain: one row per date, UTC. Counts of user tokens; no token is stored.
 * Meaning: a customer's activity = the events they make themselves and that
 * carry their user token: clickstream events, login and profile_update, and
 * order_created. `active_customers` = distinct user tokens with activity on
 * date; `new_customers` = those whose first activity ever (in Silver) falls on
 * date; `logins` = login events on date; `failed_logins` = those with
 * success = false.
 *
 * Window: the day. Touched by: activity (its dates; and, when a late event
 * moves a customer's first activity earlier, the date that was first before:
 * the earliest of the customer's activity dates after the new rows' first one
 * that holds no new row).
 */
import { type FreshRows, type GoldModel, SILVER, col } from "../model.js";

/** Activity rows (user_token, event_date), optionally only the new ones. */
function activity(where: (table: string) => string): string {
  return [
    `SELECT user_token, event_date FROM ${SILVER.clickstream} WHERE user_token IS NOT NULL${where(SILVER.clickstream)}`,
    `SELECT user_token, event_date FROM ${SILVER.customer} WHERE user_token IS NOT NULL${where(SILVER.customer)}`,
    `SELECT user_token, event_date FROM ${SILVER.order} WHERE event_type = 'order_created' AND user_token IS NOT NULL${where(SILVER.order)}`,
  ].join("\n  UNION ALL ");
}

const freshOnly = (f: FreshRows) => () => ` AND ${f.rows()}`;

export const customerActivity: GoldModel = {
  name: "customer_activity",
  grain: "one row per date, UTC (counts of user tokens, no tokens stored)",
  description:
    "active_customers = distinct user tokens with their own activity (clickstream, login, profile_update, order_created) on date; " +
    "new_customers = those whose first activity in Silver falls on date; logins = login events on date; failed_logins = those with success = false.",
  columns: [
    col("date", "DATE", "UTC date"),
    col("active_customers", "INT64", "Distinct user tokens with activity on date"),
    col("new_customers", "INT64", "Of those, tokens whose first activity ever falls on date"),
    col("logins", "INT64", "login events on date"),
    col("failed_logins", "INT64", "login events with success = false"),
  ],
  window: { grain: "day", column: "date" },
  bigquery: { partitionBy: { column: "date", unit: "DAY" }, clusterBy: [] },
  select: ({ d, w }) => `
WITH activity AS (
  ${activity(() => "")}
),
in_window AS (
  SELECT DISTINCT user_token, event_date AS date FROM activity WHERE ${w.date("event_date")}
),
first_seen AS (
  SELECT user_token, MIN(event_date) AS first_date
  FROM activity
  WHERE user_token IN (SELECT user_token FROM in_window)
  GROUP BY user_token
),
active AS (
  SELECT i.date, COUNT(*) AS active_customers, ${d.countIf("f.first_date = i.date")} AS new_customers
  FROM in_window AS i
  JOIN first_seen AS f ON f.user_token = i.user_token
  GROUP BY i.date
),
logins AS (
  SELECT event_date AS date, COUNT(*) AS logins, ${d.countIf("login_success = FALSE")} AS failed_logins
  FROM ${SILVER.customer}
  WHERE event_type = 'login' AND ${w.events()}
  GROUP BY event_date
)
SELECT
  COALESCE(a.date, l.date) AS date,
  COALESCE(a.active_customers, 0) AS active_customers,
  COALESCE(a.new_customers, 0) AS new_customers,
  COALESCE(l.logins, 0) AS logins,
  COALESCE(l.failed_logins, 0) AS failed_logins
FROM active AS a
FULL OUTER JOIN logins AS l ON l.date = a.date`,
  dirty: [
    {
      on: ["clickstream", "customer", "order"],
      sql: (d, f) => `
WITH fresh AS (
  ${activity(freshOnly(f))}
)
SELECT DISTINCT ${d.dayKey("event_date")} AS window_key FROM fresh`,
    },
    {
      on: ["customer"],
      sql: (d, f) => `SELECT DISTINCT ${d.dayKey("event_date")} AS window_key FROM ${SILVER.customer} WHERE ${f.rows()} AND event_type = 'login'`,
    },
    {
      on: ["clickstream", "customer", "order"],
      sql: (d, f) => `
WITH fresh AS (
  SELECT DISTINCT user_token, event_date FROM (
  ${activity(freshOnly(f))}
  ) AS n
),
fresh_first AS (
  SELECT user_token, MIN(event_date) AS first_fresh FROM fresh GROUP BY user_token
),
old_first AS (
  SELECT a.user_token, MIN(a.event_date) AS first_date
  FROM (
  ${activity(() => "")}
  ) AS a
  JOIN fresh_first AS ff ON ff.user_token = a.user_token
  LEFT JOIN fresh AS n ON n.user_token = a.user_token AND n.event_date = a.event_date
  WHERE a.event_date > ff.first_fresh AND n.user_token IS NULL
  GROUP BY a.user_token
)
SELECT DISTINCT ${d.dayKey("first_date")} AS window_key FROM old_first`,
    },
  ],
};
