/**
 * gold.revenue_by_minute
 *
 * Grain: one row per (minute, currency), UTC; the real-time view of
 * gold.daily_revenue's order side.
 * Meaning: `orders` = order_created events whose event_time falls in the
 * minute starting at `minute`; `gross_minor` = their total_minor summed, in
 * minor units of `currency`.
 *
 * Window: the minute, so the refresh after each batch recomputes only the
 * minutes its order_created events fall in (this is what freshness is measured on).
 */
import { type GoldModel, SILVER, col } from "../model.js";

export const revenueByMinute: GoldModel = {
  name: "revenue_by_minute",
  grain: "one row per (minute, currency), UTC",
  description:
    "orders = order_created events whose event_time falls in the minute starting at minute; gross_minor = their total_minor summed (minor units of currency).",
  columns: [
    col("minute", "TIMESTAMP", "Start of the UTC minute"),
    col("currency", "STRING", "ISO 4217 code"),
    col("orders", "INT64", "order_created events in the minute"),
    col("gross_minor", "INT64", "Sum of their total_minor"),
  ],
  window: { grain: "minute", column: "minute" },
  bigquery: { partitionBy: { column: "minute", unit: "DAY" }, clusterBy: ["currency"] },
  select: ({ d, w }) => `
SELECT
  ${d.truncMinute("event_time")} AS minute,
  currency,
  COUNT(*) AS orders,
  SUM(total_minor) AS gross_minor
FROM ${SILVER.order}
WHERE event_type = 'order_created' AND ${w.events()}
GROUP BY minute, currency`,
  dirty: [
    {
      on: ["order"],
      sql: (d, f) =>
        `SELECT DISTINCT ${d.timeKey(d.truncMinute("event_time"))} AS window_key FROM ${SILVER.order} WHERE ${f.rows()} AND event_type = 'order_created'`,
    },
  ],
};
