/**
 * gold.order_fulfilment
 *
 * Grain: one row per date, UTC.
 * Meaning: `created`, `confirmed`, `shipped`, `delivered`, `cancelled` =
 * distinct orders whose first event of that type (order_created, ...) falls
 * on date; `p50_hours_to_ship` / `p95_hours_to_ship` = the 50th / 95th
 * percentile (continuous) of hours from an order's order_created to its
 * order_shipped, over the orders counted in `shipped` that have an
 * order_created; `p50_hours_to_deliver` = the same from order_created to
 * order_delivered over the orders counted in `delivered`. NULL when no such
 * order.
 *
 * Window: the day. Touched by: any order event, which marks every date its
 * order has events on (a late order_created changes the durations counted on
 * its shipped and delivered dates).
 */
import { type GoldModel, SILVER, col } from "../model.js";

const STEPS = ["created", "confirmed", "shipped", "delivered", "cancelled"] as const;

export const orderFulfilment: GoldModel = {
  name: "order_fulfilment",
  grain: "one row per date, UTC",
  description:
    "created/confirmed/shipped/delivered/cancelled = distinct orders whose first event of that type falls on date; p50/p95_hours_to_ship = " +
    "percentiles of hours from order_created to order_shipped over the orders shipped on date; p50_hours_to_deliver = the same to order_delivered.",
  columns: [
    col("date", "DATE", "UTC date"),
    ...STEPS.map((s) => col(s, "INT64", `Orders whose first order_${s} event falls on date`)),
    col("p50_hours_to_ship", "FLOAT64", "Median hours order_created -> order_shipped, orders shipped on date"),
    col("p95_hours_to_ship", "FLOAT64", "95th percentile of the same"),
    col("p50_hours_to_deliver", "FLOAT64", "Median hours order_created -> order_delivered, orders delivered on date"),
  ],
  window: { grain: "day", column: "date" },
  bigquery: { partitionBy: { column: "date", unit: "DAY" }, clusterBy: [] },
  select: ({ d, w }) => {
    const firstAt = (s: string) => `MIN(CASE WHEN event_type = 'order_${s}' THEN event_time END) AS ${s}_at`;
    const step = (s: string, hours: string) => `SELECT ${d.toDate(`${s}_at`)} AS date, '${s}' AS step, ${hours} AS hours FROM orders WHERE ${s}_at IS NOT NULL`;
    const noHours = `CAST(NULL AS ${d.type("FLOAT64")})`;
    return `
WITH candidate AS (
  SELECT DISTINCT order_id
  FROM ${SILVER.order}
  WHERE ${w.events()}
),
orders AS (
  SELECT
    order_id,
    ${STEPS.map(firstAt).join(",\n    ")}
  FROM ${SILVER.order}
  WHERE order_id IN (SELECT order_id FROM candidate)
  GROUP BY order_id
),
steps AS (
  ${step("created", noHours)}
  UNION ALL ${step("confirmed", noHours)}
  UNION ALL ${step("shipped", d.hoursBetween("created_at", "shipped_at"))}
  UNION ALL ${step("delivered", d.hoursBetween("created_at", "delivered_at"))}
  UNION ALL ${step("cancelled", noHours)}
),
in_window AS (
  SELECT date, step, hours FROM steps WHERE ${w.date("date")}
),
counts AS (
  SELECT
    date,
    ${STEPS.map((s) => `${d.countIf(`step = '${s}'`)} AS ${s}`).join(",\n    ")}
  FROM in_window
  GROUP BY date
),
to_ship AS (
  SELECT DISTINCT
    date,
    ${d.percentileOver("hours", 0.5, "date")} AS p50,
    ${d.percentileOver("hours", 0.95, "date")} AS p95
  FROM in_window
  WHERE step = 'shipped' AND hours IS NOT NULL
),
to_deliver AS (
  SELECT DISTINCT date, ${d.percentileOver("hours", 0.5, "date")} AS p50
  FROM in_window
  WHERE step = 'delivered' AND hours IS NOT NULL
)
SELECT
  c.date,
  ${STEPS.map((s) => `c.${s}`).join(", ")},
  s.p50 AS p50_hours_to_ship,
  s.p95 AS p95_hours_to_ship,
  dl.p50 AS p50_hours_to_deliver
FROM counts AS c
LEFT JOIN to_ship AS s ON s.date = c.date
LEFT JOIN to_deliver AS dl ON dl.date = c.date`;
  },
  dirty: [
    {
      on: ["order"],
      sql: (d, f) => `
SELECT DISTINCT ${d.dayKey("event_date")} AS window_key
FROM ${SILVER.order}
WHERE order_id IN (SELECT order_id FROM ${SILVER.order} WHERE ${f.rows()})`,
    },
  ],
};
