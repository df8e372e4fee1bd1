/**
 * gold.payment_health
 *
 * Grain: one row per (hour, gateway, method), UTC.
 * Meaning: payment events whose event_time falls in the hour starting at
 * `hour`: `initiated` = payment_initiated events, `succeeded` =
 * payment_success events, `failed` = payment_failure events, each under the
 * event's own gateway and the method of its payment's payment_initiated
 * ('unknown' when that event has not been seen); `success_rate` = succeeded /
 * (succeeded + failed), the share of the hour's outcomes that succeeded (NULL
 * when the hour has no outcome).
 *
 * Window: the hour. Touched by: any initiated/success/failure event, which
 * marks every hour its payment has such events in (a late payment_initiated
 * changes the method of its outcomes in other hours).
 */
import { type GoldModel, SILVER, col } from "../model.js";

const TYPES = `('payment_initiated', 'payment_success', 'payment_failure')`;

export const paymentHealth: GoldModel = {
  name: "payment_health",
  grain: "one row per (hour, gateway, method), UTC",
  description:
    "Payment events in the hour: initiated, succeeded (payment_success), failed (payment_failure), by the event's gateway and the method of " +
    "its payment's payment_initiated ('unknown' if unseen); success_rate = succeeded / (succeeded + failed), NULL without outcomes.",
  columns: [
    col("hour", "TIMESTAMP", "Start of the UTC hour"),
    col("gateway", "STRING", "Gateway named by the event ('unknown' when absent)"),
    col("method", "STRING", "card, wallet, bank_transfer, cod: from the payment's payment_initiated ('unknown' when unseen)"),
    col("initiated", "INT64", "payment_initiated events in the hour"),
    col("succeeded", "INT64", "payment_success events in the hour"),
    col("failed", "INT64", "payment_failure events in the hour"),
    col("success_rate", "FLOAT64", "succeeded / (succeeded + failed); NULL when both are 0"),
  ],
  window: { grain: "hour", column: "hour" },
  bigquery: { partitionBy: { column: "hour", unit: "DAY" }, clusterBy: ["gateway", "method"] },
  select: ({ d, w }) => `
WITH events AS (
  SELECT ${d.truncHour("event_time")} AS hour, payment_id, event_type, gateway
  FROM ${SILVER.payment}
  WHERE event_type IN ${TYPES} AND ${w.events()}
),
methods AS (
  SELECT payment_id, MAX(method) AS method
  FROM ${SILVER.payment}
  WHERE event_type = 'payment_initiated' AND payment_id IN (SELECT payment_id FROM events)
  GROUP BY payment_id
),
labelled AS (
  SELECT e.hour, COALESCE(e.gateway, 'unknown') AS gateway, COALESCE(m.method, 'unknown') AS method, e.event_type
  FROM events AS e
  LEFT JOIN methods AS m ON m.payment_id = e.payment_id
)
SELECT
  hour,
  gateway,
  method,
  ${d.countIf("event_type = 'payment_initiated'")} AS initiated,
  ${d.countIf("event_type = 'payment_success'")} AS succeeded,
  ${d.countIf("event_type = 'payment_failure'")} AS failed,
  ${d.ratio(d.countIf("event_type = 'payment_success'"), d.countIf("event_type IN ('payment_success', 'payment_failure')"))} AS success_rate
FROM labelled
GROUP BY hour, gateway, method`,
  dirty: [
    {
      on: ["payment"],
      sql: (d, f) => `
SELECT DISTINCT ${d.timeKey(d.truncHour("event_time"))} AS window_key
FROM ${SILVER.payment}
WHERE event_type IN ${TYPES}
  AND payment_id IN (SELECT payment_id FROM ${SILVER.payment} WHERE ${f.rows()} AND event_type IN ${TYPES})`,
    },
  ],
};
