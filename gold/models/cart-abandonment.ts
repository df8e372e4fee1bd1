/**
 * gold.cart_abandonment
 *
 * Grain: one row per date, UTC: the date a cart_id was first seen (its
 * earliest add_to_cart).
 * Meaning: `carts` = distinct cart_ids first seen on date; `ordered` = those
 * referenced by an order_created (at any time); `abandoned` = the rest whose
 * last add_to_cart is more than 30 minutes before the newest event seen
 * (the greatest event_time in Silver): a cart still being filled is neither;
 * `abandonment_rate` = abandoned / carts.
 *
 * Window: the day. Touched by: an add_to_cart (every date its cart has adds
 * on: a late earlier add moves the first-seen date), an order_created with a
 * cart_id (that cart's dates), and the clock: when the newest event time moves
 * from T0 to T1, carts with an add in [T0 - 30 min, T1 - 30 min) may have just
 * become abandoned, so their dates are recomputed (the range is taken either
 * way round, so a clock that moves back after an erasure is covered too).
 */
import { type GoldModel, SILVER, col } from "../model.js";

export const ABANDON_AFTER_MINUTES = 30;

const DATES_OF_CARTS = (dayKey: string, carts: string) => `
SELECT DISTINCT ${dayKey} AS window_key
FROM ${SILVER.clickstream}
WHERE event_type = 'add_to_cart' AND cart_id IN (${carts})`;

export const cartAbandonment: GoldModel = {
  name: "cart_abandonment",
  grain: "one row per date (UTC date of each cart's first add_to_cart)",
  description:
    "carts = distinct cart_ids first seen on date; ordered = those referenced by an order_created; abandoned = the rest whose last add_to_cart " +
    `is more than ${ABANDON_AFTER_MINUTES} minutes before the newest event seen (a cart still being filled is not abandoned yet); abandonment_rate = abandoned / carts.`,
  columns: [
    col("date", "DATE", "UTC date of the cart's first add_to_cart"),
    col("carts", "INT64", "Distinct cart_ids first seen on date"),
    col("ordered", "INT64", "Of those, carts referenced by an order_created"),
    col("abandoned", "INT64", `Not ordered and last add_to_cart more than ${ABANDON_AFTER_MINUTES} minutes before the newest event seen`),
    col("abandonment_rate", "FLOAT64", "abandoned / carts"),
  ],
  window: { grain: "day", column: "date" },
  bigquery: { partitionBy: { column: "date", unit: "DAY" }, clusterBy: [] },
  select: ({ d, w, newest }) => `
WITH candidate AS (
  -- a cart first seen in a window has an add_to_cart there
  SELECT DISTINCT cart_id
  FROM ${SILVER.clickstream}
  WHERE event_type = 'add_to_cart' AND cart_id IS NOT NULL AND ${w.events()}
),
carts AS (
  SELECT cart_id, ${d.toDate("MIN(event_time)")} AS date, MAX(event_time) AS last_added_at
  FROM ${SILVER.clickstream}
  WHERE event_type = 'add_to_cart' AND cart_id IN (SELECT cart_id FROM candidate)
  GROUP BY cart_id
),
ordered_carts AS (
  SELECT DISTINCT cart_id
  FROM ${SILVER.order}
  WHERE event_type = 'order_created' AND cart_id IN (SELECT cart_id FROM candidate)
),
clock AS (
  SELECT ${newest} AS newest_event_time
),
flags AS (
  SELECT
    c.date,
    o.cart_id IS NOT NULL AS ordered,
    o.cart_id IS NULL AND c.last_added_at < ${d.minusMinutes("k.newest_event_time", ABANDON_AFTER_MINUTES)} AS abandoned
  FROM carts AS c
  CROSS JOIN clock AS k
  LEFT JOIN ordered_carts AS o ON o.cart_id = c.cart_id
  WHERE ${w.date("c.date")}
)
SELECT
  date,
  COUNT(*) AS carts,
  ${d.countIf("ordered")} AS ordered,
  ${d.countIf("abandoned")} AS abandoned,
  ${d.ratio(d.countIf("abandoned"), "COUNT(*)")} AS abandonment_rate
FROM flags
GROUP BY date`,
  dirty: [
    {
      on: ["clickstream"],
      sql: (d, f) => DATES_OF_CARTS(d.dayKey("event_date"), `SELECT cart_id FROM ${SILVER.clickstream} WHERE ${f.rows()} AND event_type = 'add_to_cart'`),
    },
    {
      on: ["order"],
      sql: (d, f) => DATES_OF_CARTS(d.dayKey("event_date"), `SELECT cart_id FROM ${SILVER.order} WHERE ${f.rows()} AND event_type = 'order_created'`),
    },
    {
      on: "any",
      sql: (d, f) =>
        DATES_OF_CARTS(
          d.dayKey("event_date"),
          `SELECT cart_id FROM ${SILVER.clickstream} WHERE event_type = 'add_to_cart' AND (` +
            `(${f.prevNewest} IS NULL AND event_time < ${d.minusMinutes(f.newest, ABANDON_AFTER_MINUTES)})` +
            ` OR (event_time >= ${d.minusMinutes(`LEAST(${f.prevNewest}, ${f.newest})`, ABANDON_AFTER_MINUTES)}` +
            ` AND event_time < ${d.minusMinutes(`GREATEST(${f.prevNewest}, ${f.newest})`, ABANDON_AFTER_MINUTES)}))`,
        ),
    },
  ],
};
