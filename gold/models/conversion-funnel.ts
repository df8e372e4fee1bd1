/**
 * gold.conversion_funnel
 *
 * Grain: one row per date, UTC: the date of a session's first clickstream
 * event (each session counts on one date, even when it runs past midnight).
 * Meaning: distinct session_ids reaching each step, over all of the
 * session's events: `sessions` = every session; `viewed` = with a page_view;
 * `searched` = with a search; `added_to_cart` = with an add_to_cart;
 * `ordered` = an order_created carries the cart_id of one of the session's
 * add_to_cart events; `paid` = such an order has a payment_success.
 *
 * Window: the day. Touched by: a clickstream event (every date the session
 * has events on: a late earlier event moves its first date), an order_created
 * (the dates of the sessions that filled its cart), a payment_success (the
 * same, through the order's cart).
 */
import { type GoldModel, SILVER, col } from "../model.js";

const SESSIONS_OF_CARTS = (carts: string) => `SELECT session_id FROM ${SILVER.clickstream} WHERE event_type = 'add_to_cart' AND cart_id IN (${carts})`;

export const conversionFunnel: GoldModel = {
  name: "conversion_funnel",
  grain: "one row per date (UTC date of each session's first clickstream event)",
  description:
    "Distinct session_ids reaching each step: sessions, viewed (page_view), searched (search), added_to_cart (add_to_cart), " +
    "ordered (an order_created carries the cart_id of one of the session's add_to_cart events), paid (that order has a payment_success). " +
    "A session counts on the date of its first clickstream event.",
  columns: [
    col("date", "DATE", "UTC date of the session's first clickstream event"),
    col("sessions", "INT64", "Sessions that started on date"),
    col("viewed", "INT64", "Of those, sessions with a page_view"),
    col("searched", "INT64", "Sessions with a search"),
    col("added_to_cart", "INT64", "Sessions with an add_to_cart"),
    col("ordered", "INT64", "Sessions one of whose carts an order_created references"),
    col("paid", "INT64", "Sessions with such an order that has a payment_success"),
  ],
  window: { grain: "day", column: "date" },
  bigquery: { partitionBy: { column: "date", unit: "DAY" }, clusterBy: [] },
  select: ({ d, w }) => `
WITH candidate AS (
  -- a session starting in a window has its first event there
  SELECT DISTINCT session_id
  FROM ${SILVER.clickstream}
  WHERE session_id IS NOT NULL AND ${w.events()}
),
sessions AS (
  SELECT
    session_id,
    ${d.toDate("MIN(event_time)")} AS date,
    ${d.anyTrue("event_type = 'page_view'")} AS viewed,
    ${d.anyTrue("event_type = 'search'")} AS searched,
    ${d.anyTrue("event_type = 'add_to_cart'")} AS added_to_cart
  FROM ${SILVER.clickstream}
  WHERE session_id IN (SELECT session_id FROM candidate)
  GROUP BY session_id
),
session_orders AS (
  SELECT DISTINCT a.session_id, o.order_id
  FROM ${SILVER.clickstream} AS a
  JOIN ${SILVER.order} AS o ON o.cart_id = a.cart_id
  WHERE a.event_type = 'add_to_cart' AND o.event_type = 'order_created'
    AND a.session_id IN (SELECT session_id FROM candidate)
),
paid_orders AS (
  SELECT DISTINCT order_id
  FROM ${SILVER.payment}
  WHERE event_type = 'payment_success' AND order_id IN (SELECT order_id FROM session_orders)
),
session_steps AS (
  SELECT so.session_id, TRUE AS ordered, ${d.anyTrue("p.order_id IS NOT NULL")} AS paid
  FROM session_orders AS so
  LEFT JOIN paid_orders AS p ON p.order_id = so.order_id
  GROUP BY so.session_id
)
SELECT
  s.date AS date,
  COUNT(*) AS sessions,
  ${d.countIf("s.viewed")} AS viewed,
  ${d.countIf("s.searched")} AS searched,
  ${d.countIf("s.added_to_cart")} AS added_to_cart,
  ${d.countIf("st.ordered")} AS ordered,
  ${d.countIf("st.paid")} AS paid
FROM sessions AS s
LEFT JOIN session_steps AS st ON st.session_id = s.session_id
WHERE ${w.date("s.date")}
GROUP BY s.date`,
  dirty: [
    {
      on: ["clickstream"],
      sql: (d, f) => `
SELECT DISTINCT ${d.dayKey("event_date")} AS window_key
FROM ${SILVER.clickstream}
WHERE session_id IN (SELECT session_id FROM ${SILVER.clickstream} WHERE ${f.rows()} AND session_id IS NOT NULL)`,
    },
    {
      on: ["order"],
      sql: (d, f) => `
SELECT DISTINCT ${d.dayKey("event_date")} AS window_key
FROM ${SILVER.clickstream}
WHERE session_id IN (${SESSIONS_OF_CARTS(`SELECT cart_id FROM ${SILVER.order} WHERE ${f.rows()} AND event_type = 'order_created'`)})`,
    },
    {
      on: ["payment"],
      sql: (d, f) => `
SELECT DISTINCT ${d.dayKey("event_date")} AS window_key
FROM ${SILVER.clickstream}
WHERE session_id IN (${SESSIONS_OF_CARTS(
        `SELECT cart_id FROM ${SILVER.order} WHERE event_type = 'order_created' AND order_id IN (SELECT order_id FROM ${SILVER.payment} WHERE ${f.rows()} AND event_type = 'payment_success')`,
      )})`,
    },
  ],
};
