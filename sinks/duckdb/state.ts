/**
 * Current-state tables (silver.orders, silver.payments, silver.inventory),
 * merged from each batch's new events. The merge is commutative: per-type
 * timestamps keep the earliest, the status follows the event with the latest
 * (event_time, lifecycle rank, event_id), and anomalies are derived from the
 * merged timestamps, so the state is the same whatever order events arrive in.
 * Each event is merged once: only rows newly committed in the batch are read
 * (the `batch_id`-stamped staging tables).
 */

const earliest = (col: string) => `CASE WHEN t.${col} IS NULL THEN EXCLUDED.${col} WHEN EXCLUDED.${col} IS NULL THEN t.${col} ELSE least(t.${col}, EXCLUDED.${col}) END`;

/** True when EXCLUDED's winning event beats the stored one. */
const newerWins = (rank: (side: string) => string) =>
  `(EXCLUDED.last_event_time > t.last_event_time OR (EXCLUDED.last_event_time = t.last_event_time AND (${rank("EXCLUDED")} > ${rank("t")} OR (${rank("EXCLUDED")} = ${rank("t")} AND EXCLUDED.last_event_id > t.last_event_id))))`;

const ORDER_RANK = (side: string) =>
  `CASE ${side}.status WHEN 'created' THEN 1 WHEN 'confirmed' THEN 2 WHEN 'shipped' THEN 3 WHEN 'delivered' THEN 4 ELSE 5 END`;
const PAYMENT_RANK = (side: string) =>
  `CASE ${side}.status WHEN 'initiated' THEN 1 WHEN 'failed' THEN 2 WHEN 'succeeded' THEN 3 ELSE 4 END`;

const ORDER_STATUS = `CASE event_type WHEN 'order_created' THEN 'created' WHEN 'order_confirmed' THEN 'confirmed' WHEN 'order_shipped' THEN 'shipped' WHEN 'order_delivered' THEN 'delivered' ELSE 'cancelled' END`;
const ORDER_RANK_OF_TYPE = `CASE event_type WHEN 'order_created' THEN 1 WHEN 'order_confirmed' THEN 2 WHEN 'order_shipped' THEN 3 WHEN 'order_delivered' THEN 4 ELSE 5 END`;
const PAYMENT_STATUS = `CASE event_type WHEN 'payment_initiated' THEN 'initiated' WHEN 'payment_failure' THEN 'failed' WHEN 'payment_success' THEN 'succeeded' ELSE 'refunded' END`;
const PAYMENT_RANK_OF_TYPE = `CASE event_type WHEN 'payment_initiated' THEN 1 WHEN 'payment_failure' THEN 2 WHEN 'payment_success' THEN 3 ELSE 4 END`;

/** Merge the batch's new order events (staged in `source`) into silver.orders. */
export function mergeOrdersSql(source: string): string {
  return `
INSERT INTO silver.orders AS t
SELECT
  order_id,
  arg_max(${ORDER_STATUS}, (event_time, ${ORDER_RANK_OF_TYPE}, event_id)) AS status,
  max(user_token) AS user_token,
  max(cart_id) AS cart_id,
  max(total_minor) AS total_minor,
  max(currency) AS currency,
  min(event_time) FILTER (WHERE event_type = 'order_created') AS created_at,
  min(event_time) FILTER (WHERE event_type = 'order_confirmed') AS confirmed_at,
  min(event_time) FILTER (WHERE event_type = 'order_shipped') AS shipped_at,
  min(event_time) FILTER (WHERE event_type = 'order_delivered') AS delivered_at,
  min(event_time) FILTER (WHERE event_type = 'order_cancelled') AS cancelled_at,
  arg_max(event_id, (event_time, ${ORDER_RANK_OF_TYPE}, event_id)) AS last_event_id,
  max(event_time) AS last_event_time,
  NULL AS anomaly,
  now()::TIMESTAMP AS updated_at
FROM ${source}
GROUP BY order_id
ON CONFLICT (order_id) DO UPDATE SET
  status = CASE WHEN ${newerWins(ORDER_RANK)} THEN EXCLUDED.status ELSE t.status END,
  last_event_id = CASE WHEN ${newerWins(ORDER_RANK)} THEN EXCLUDED.last_event_id ELSE t.last_event_id END,
  last_event_time = greatest(t.last_event_time, EXCLUDED.last_event_time),
  user_token = coalesce(t.user_token, EXCLUDED.user_token),
  cart_id = coalesce(t.cart_id, EXCLUDED.cart_id),
  total_minor = coalesce(t.total_minor, EXCLUDED.total_minor),
  currency = coalesce(t.currency, EXCLUDED.currency),
  created_at = ${earliest("created_at")},
  confirmed_at = ${earliest("confirmed_at")},
  shipped_at = ${earliest("shipped_at")},
  delivered_at = ${earliest("delivered_at")},
  cancelled_at = ${earliest("cancelled_at")},
  updated_at = EXCLUDED.updated_at`;
}

/** Recompute the anomaly flag of the orders a batch touched, from their merged timestamps. */
export function flagOrdersSql(source: string): string {
  return `
UPDATE silver.orders SET anomaly = CASE
    WHEN cancelled_at IS NOT NULL AND shipped_at > cancelled_at THEN 'shipped_after_cancelled'
    WHEN cancelled_at IS NOT NULL AND delivered_at > cancelled_at THEN 'delivered_after_cancelled'
    WHEN created_at IS NOT NULL AND confirmed_at < created_at THEN 'confirmed_before_created'
    ELSE NULL END
WHERE order_id IN (SELECT DISTINCT order_id FROM ${source})`;
}

export function mergePaymentsSql(source: string): string {
  return `
INSERT INTO silver.payments AS t
SELECT
  payment_id,
  max(order_id) AS order_id,
  arg_max(${PAYMENT_STATUS}, (event_time, ${PAYMENT_RANK_OF_TYPE}, event_id)) AS status,
  max(amount_minor) FILTER (WHERE event_type <> 'payment_refund') AS amount_minor,
  max(currency) AS currency,
  max(method) AS method,
  max(gateway) AS gateway,
  coalesce(sum(amount_minor) FILTER (WHERE event_type = 'payment_refund'), 0) AS refunded_minor,
  min(event_time) FILTER (WHERE event_type = 'payment_initiated') AS initiated_at,
  min(event_time) FILTER (WHERE event_type = 'payment_success') AS succeeded_at,
  min(event_time) FILTER (WHERE event_type = 'payment_failure') AS failed_at,
  min(event_time) FILTER (WHERE event_type = 'payment_refund') AS refunded_at,
  arg_max(event_id, (event_time, ${PAYMENT_RANK_OF_TYPE}, event_id)) AS last_event_id,
  max(event_time) AS last_event_time,
  NULL AS anomaly,
  now()::TIMESTAMP AS updated_at
FROM ${source}
GROUP BY payment_id
ON CONFLICT (payment_id) DO UPDATE SET
  status = CASE WHEN ${newerWins(PAYMENT_RANK)} THEN EXCLUDED.status ELSE t.status END,
  last_event_id = CASE WHEN ${newerWins(PAYMENT_RANK)} THEN EXCLUDED.last_event_id ELSE t.last_event_id END,
  last_event_time = greatest(t.last_event_time, EXCLUDED.last_event_time),
  order_id = coalesce(t.order_id, EXCLUDED.order_id),
  amount_minor = coalesce(t.amount_minor, EXCLUDED.amount_minor),
  currency = coalesce(t.currency, EXCLUDED.currency),
  method = coalesce(t.method, EXCLUDED.method),
  gateway = coalesce(t.gateway, EXCLUDED.gateway),
  refunded_minor = t.refunded_minor + EXCLUDED.refunded_minor,
  initiated_at = ${earliest("initiated_at")},
  succeeded_at = ${earliest("succeeded_at")},
  failed_at = ${earliest("failed_at")},
  refunded_at = ${earliest("refunded_at")},
  updated_at = EXCLUDED.updated_at`;
}

export function flagPaymentsSql(source: string): string {
  return `
UPDATE silver.payments SET anomaly = CASE
    WHEN succeeded_at IS NOT NULL AND failed_at IS NOT NULL THEN 'success_and_failure'
    WHEN refunded_at IS NOT NULL AND (succeeded_at IS NULL OR refunded_at < succeeded_at) THEN 'refund_before_success'
    ELSE NULL END
WHERE payment_id IN (SELECT DISTINCT payment_id FROM ${source})`;
}

export function mergeInventorySql(source: string): string {
  return `
INSERT INTO silver.inventory AS t
SELECT sku, warehouse_id,
  arg_max(quantity_on_hand, (event_time, event_id)),
  max(event_time),
  arg_max(event_id, (event_time, event_id)),
  now()::TIMESTAMP
FROM ${source}
WHERE event_type = 'stock_update'
GROUP BY sku, warehouse_id
ON CONFLICT (sku, warehouse_id) DO UPDATE SET
  quantity_on_hand = CASE WHEN EXCLUDED.as_of > t.as_of OR (EXCLUDED.as_of = t.as_of AND EXCLUDED.last_event_id > t.last_event_id) THEN EXCLUDED.quantity_on_hand ELSE t.quantity_on_hand END,
  last_event_id = CASE WHEN EXCLUDED.as_of > t.as_of OR (EXCLUDED.as_of = t.as_of AND EXCLUDED.last_event_id > t.last_event_id) THEN EXCLUDED.last_event_id ELSE t.last_event_id END,
  as_of = greatest(t.as_of, EXCLUDED.as_of),
  updated_at = EXCLUDED.updated_at`;
}
