/**
 * The current-state tables on BigQuery: `silver.orders`, `silver.payments` and
 * `silver.inventory` as views over the event tables, with the same meaning as
 * the local merge (sinks/duckdb/state.ts): the status of the event with the
 * latest (event_time, lifecycle rank, event_id), the first time of each event
 * type, and the anomaly derived from those times. A view is always current and
 * cannot drift from the events it reads; clustering on the key keeps it cheap.
 */
import { tableRef, type BigQueryDatasets } from "./ddl.js";

const first = (type: string, as: string) => `MIN(IF(event_type = '${type}', event_time, NULL)) AS ${as}`;

export function stateViewsDdl(d: BigQueryDatasets): string[] {
  const orders = `CREATE OR REPLACE VIEW ${tableRef(d, "silver", "orders")} AS
WITH ranked AS (
  SELECT *, CASE event_type WHEN 'order_created' THEN 1 WHEN 'order_confirmed' THEN 2 WHEN 'order_shipped' THEN 3 WHEN 'order_delivered' THEN 4 ELSE 5 END AS rnk
  FROM ${tableRef(d, "silver", "order_events")}
), per_order AS (
  SELECT
    order_id,
    ARRAY_AGG(STRUCT(event_type, event_id, event_time) ORDER BY event_time DESC, rnk DESC, event_id DESC LIMIT 1)[OFFSET(0)] AS last,
    MAX(user_token) AS user_token,
    MAX(cart_id) AS cart_id,
    MAX(total_minor) AS total_minor,
    MAX(currency) AS currency,
    ${first("order_created", "created_at")},
    ${first("order_confirmed", "confirmed_at")},
    ${first("order_shipped", "shipped_at")},
    ${first("order_delivered", "delivered_at")},
    ${first("order_cancelled", "cancelled_at")}
  FROM ranked
  GROUP BY order_id
)
SELECT
  order_id,
  REGEXP_REPLACE(last.event_type, '^order_', '') AS status,
  user_token, cart_id, total_minor, currency,
  created_at, confirmed_at, shipped_at, delivered_at, cancelled_at,
  last.event_id AS last_event_id,
  last.event_time AS last_event_time,
  CASE
    WHEN cancelled_at IS NOT NULL AND shipped_at > cancelled_at THEN 'shipped_after_cancelled'
    WHEN cancelled_at IS NOT NULL AND delivered_at > cancelled_at THEN 'delivered_after_cancelled'
    WHEN created_at IS NOT NULL AND confirmed_at < created_at THEN 'confirmed_before_created'
  END AS anomaly
FROM per_order`;

  const payments = `CREATE OR REPLACE VIEW ${tableRef(d, "silver", "payments")} AS
WITH ranked AS (
  SELECT *, CASE event_type WHEN 'payment_initiated' THEN 1 WHEN 'payment_failure' THEN 2 WHEN 'payment_success' THEN 3 ELSE 4 END AS rnk
  FROM ${tableRef(d, "silver", "payment_events")}
), per_payment AS (
  SELECT
    payment_id,
    ARRAY_AGG(STRUCT(rnk, event_id, event_time) ORDER BY event_time DESC, rnk DESC, event_id DESC LIMIT 1)[OFFSET(0)] AS last,
    MAX(order_id) AS order_id,
    MAX(IF(event_type <> 'payment_refund', amount_minor, NULL)) AS amount_minor,
    MAX(currency) AS currency,
    MAX(method) AS method,
    MAX(gateway) AS gateway,
    COALESCE(SUM(IF(event_type = 'payment_refund', amount_minor, 0)), 0) AS refunded_minor,
    ${first("payment_initiated", "initiated_at")},
    ${first("payment_success", "succeeded_at")},
    ${first("payment_failure", "failed_at")},
    ${first("payment_refund", "refunded_at")}
  FROM ranked
  GROUP BY payment_id
)
SELECT
  payment_id, order_id,
  CASE last.rnk WHEN 1 THEN 'initiated' WHEN 2 THEN 'failed' WHEN 3 THEN 'succeeded' ELSE 'refunded' END AS status,
  amount_minor, currency, method, gateway, refunded_minor,
  initiated_at, succeeded_at, failed_at, refunded_at,
  last.event_id AS last_event_id,
  last.event_time AS last_event_time,
  CASE
    WHEN succeeded_at IS NOT NULL AND failed_at IS NOT NULL THEN 'success_and_failure'
    WHEN refunded_at IS NOT NULL AND (succeeded_at IS NULL OR refunded_at < succeeded_at) THEN 'refund_before_success'
  END AS anomaly
FROM per_payment`;

  const inventory = `CREATE OR REPLACE VIEW ${tableRef(d, "silver", "inventory")} AS
SELECT sku, warehouse_id, latest.quantity_on_hand, latest.event_time AS as_of, latest.event_id AS last_event_id
FROM (
  SELECT sku, warehouse_id,
    ARRAY_AGG(STRUCT(quantity_on_hand, event_time, event_id) ORDER BY event_time DESC, event_id DESC LIMIT 1)[OFFSET(0)] AS latest
  FROM ${tableRef(d, "silver", "inventory_events")}
  WHERE event_type = 'stock_update'
  GROUP BY sku, warehouse_id
)`;
  return [orders, payments, inventory];
}
