/**
 * gold.daily_revenue
 *
 * Grain: one row per (date, currency), UTC.
 * Meaning: `orders` = order_created events whose event_time falls on `date`;
 * `gross_minor` = their total_minor summed; `refunds_minor` = payment_refund
 * amounts whose event_time falls on `date`; `net_minor` = gross - refunds.
 * Money in minor units of `currency`; currencies are never summed together.
 * A date/currency with refunds but no orders has orders = 0.
 *
 * Window: the day. Touched by: order_created and payment_refund events of that day.
 */
import { type GoldModel, SILVER, col } from "../model.js";

export const dailyRevenue: GoldModel = {
  name: "daily_revenue",
  grain: "one row per (date, currency), UTC",
  description:
    "orders = order_created events whose event_time falls on date; gross_minor = their total_minor summed; " +
    "refunds_minor = payment_refund amounts whose event_time falls on date; net_minor = gross_minor - refunds_minor. Minor units of currency.",
  columns: [
    col("date", "DATE", "UTC date of event_time"),
    col("currency", "STRING", "ISO 4217 code; sums never mix currencies"),
    col("orders", "INT64", "order_created events on date"),
    col("gross_minor", "INT64", "Sum of their total_minor"),
    col("refunds_minor", "INT64", "Sum of payment_refund amount_minor on date"),
    col("net_minor", "INT64", "gross_minor - refunds_minor"),
  ],
  window: { grain: "day", column: "date" },
  bigquery: { partitionBy: { column: "date", unit: "DAY" }, clusterBy: ["currency"] },
  select: ({ w }) => `
WITH created AS (
  SELECT event_date AS date, currency, COUNT(*) AS orders, SUM(total_minor) AS gross_minor
  FROM ${SILVER.order}
  WHERE event_type = 'order_created' AND ${w.events()}
  GROUP BY event_date, currency
),
refunded AS (
  SELECT event_date AS date, currency, SUM(amount_minor) AS refunds_minor
  FROM ${SILVER.payment}
  WHERE event_type = 'payment_refund' AND ${w.events()}
  GROUP BY event_date, currency
)
SELECT
  COALESCE(c.date, r.date) AS date,
  COALESCE(c.currency, r.currency) AS currency,
  COALESCE(c.orders, 0) AS orders,
  COALESCE(c.gross_minor, 0) AS gross_minor,
  COALESCE(r.refunds_minor, 0) AS refunds_minor,
  COALESCE(c.gross_minor, 0) - COALESCE(r.refunds_minor, 0) AS net_minor
FROM created AS c
FULL OUTER JOIN refunded AS r ON r.date = c.date AND r.currency = c.currency`,
  dirty: [
    {
      on: ["order"],
      sql: (d, f) => `SELECT DISTINCT ${d.dayKey("event_date")} AS window_key FROM ${SILVER.order} WHERE ${f.rows()} AND event_type = 'order_created'`,
    },
    {
      on: ["payment"],
      sql: (d, f) => `SELECT DISTINCT ${d.dayKey("event_date")} AS window_key FROM ${SILVER.payment} WHERE ${f.rows()} AND event_type = 'payment_refund'`,
    },
  ],
};
