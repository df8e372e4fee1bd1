/**
 * The Silver tables: one row per valid event, typed, personal data only as
 * tokens. This module is the single definition of their columns; the DuckDB
 * and BigQuery DDL are generated from it.
 *
 * Grain: one row per event_id (the dedupe store guarantees it). `extras` holds
 * the fields the event's schema version does not know, as JSON by path.
 */
import type { Domain } from "./registry.js";
import { type Column, type TableDef, column as c } from "./table.js";

export { type Column, type ColumnType, type TableDef, qualified } from "./table.js";

/** Columns every event table starts with. */
export const COMMON_COLUMNS: Column[] = [
  c("event_id", "STRING", "Envelope event_id (lower-case UUID); the dedupe key", { required: true }),
  c("event_type", "STRING", "One of the contract's event types", { required: true }),
  c("schema_version", "INT64", "Payload schema version", { required: true }),
  c("event_time", "TIMESTAMP", "When it happened at the source, UTC", { required: true }),
  c("event_date", "DATE", "UTC date of event_time (partition column)", { required: true }),
  c("source", "STRING", "Producer: web, ios, android, order-service, ...", { required: true }),
  c("user_token", "STRING", "Token of user_id"),
  c("anonymous_token", "STRING", "Token of anonymous_id"),
  c("session_id", "STRING", "Clickstream session id"),
  c("ip_token", "STRING", "Token of context.ip"),
  c("user_agent_token", "STRING", "Token of context.user_agent"),
  c("locale", "STRING", "context.locale"),
  c("country", "STRING", "context.country (ISO 3166-1 alpha-2)"),
  c("app_version", "STRING", "context.app_version"),
];

export const TRAILING_COLUMNS: Column[] = [
  c("extras", "JSON", "Fields unknown to the schema version, by path (personal-looking ones tokenized)"),
  c("pii_key_id", "STRING", "Id of the token key used for this row's tokens", { required: true }),
  c("ingested_at", "TIMESTAMP", "When the platform committed the row", { required: true }),
];

function eventTable(name: string, description: string, payload: Column[], clusterBy: string[]): TableDef {
  return {
    schema: "silver",
    name,
    description,
    columns: [...COMMON_COLUMNS, ...payload, ...TRAILING_COLUMNS],
    partitionBy: "event_date",
    clusterBy,
  };
}

export const EVENT_TABLES: Record<Domain, TableDef> = {
  clickstream: eventTable(
    "clickstream_events",
    "page_view, search and add_to_cart events",
    [
      c("url", "STRING", "page_view url"),
      c("path", "STRING", "page_view path"),
      c("referrer", "STRING", "page_view referrer"),
      c("title", "STRING", "page_view title"),
      c("product_id", "STRING", "Product viewed or added"),
      c("query", "STRING", "search query (card numbers redacted)"),
      c("results_count", "INT64", "search results_count"),
      c("filters", "JSON", "search filters"),
      c("cart_id", "STRING", "add_to_cart cart_id"),
      c("sku", "STRING", "add_to_cart sku"),
      c("quantity", "INT64", "add_to_cart quantity"),
      c("unit_price_minor", "INT64", "add_to_cart unit price, minor units"),
      c("currency", "STRING", "ISO 4217"),
    ],
    ["event_type", "session_id"],
  ),
  order: eventTable(
    "order_events",
    "Order lifecycle events: created, confirmed, shipped, delivered, cancelled",
    [
      c("order_id", "STRING", "Order id", { required: true }),
      c("cart_id", "STRING", "order_created cart_id"),
      c("item_count", "INT64", "order_created: number of line items"),
      c("units", "INT64", "order_created: sum of item quantities"),
      c("items", "JSON", "order_created items (product_id, sku, quantity, unit_price_minor)"),
      c("subtotal_minor", "INT64", "order_created subtotal"),
      c("tax_minor", "INT64", "order_created tax"),
      c("shipping_minor", "INT64", "order_created shipping"),
      c("total_minor", "INT64", "order_created total"),
      c("currency", "STRING", "ISO 4217"),
      c("customer_email_token", "STRING", "Token of customer.email"),
      c("customer_phone_token", "STRING", "Token of customer.phone"),
      c("customer_name_token", "STRING", "Token of customer.name"),
      c("shipping_address_token", "STRING", "Token of the shipping address (without country)"),
      c("ship_country", "STRING", "Shipping address country"),
      c("carrier", "STRING", "order_shipped carrier"),
      c("tracking_number", "STRING", "order_shipped tracking number"),
      c("cancel_reason", "STRING", "order_cancelled reason"),
    ],
    ["order_id"],
  ),
  payment: eventTable(
    "payment_events",
    "Payment events: initiated, success, failure, refund",
    [
      c("payment_id", "STRING", "Payment id", { required: true }),
      c("order_id", "STRING", "Order id", { required: true }),
      c("refund_id", "STRING", "payment_refund id"),
      c("amount_minor", "INT64", "Amount, minor units", { required: true }),
      c("currency", "STRING", "ISO 4217", { required: true }),
      c("method", "STRING", "payment_initiated method: card, wallet, bank_transfer, cod"),
      c("gateway", "STRING", "Gateway name"),
      c("gateway_txn_id", "STRING", "payment_success gateway transaction id"),
      c("card_brand", "STRING", "card.brand"),
      c("card_last4", "STRING", "card.last4"),
      c("card_token", "STRING", "card.token (the gateway's token, not a PAN)"),
      c("failure_code", "STRING", "payment_failure code"),
      c("failure_message", "STRING", "payment_failure message (card numbers redacted)"),
      c("refund_reason", "STRING", "payment_refund reason"),
    ],
    ["payment_id", "order_id"],
  ),
  inventory: eventTable(
    "inventory_events",
    "stock_update and price_change events",
    [
      c("sku", "STRING", "SKU", { required: true }),
      c("warehouse_id", "STRING", "stock_update warehouse"),
      c("quantity_on_hand", "INT64", "stock_update quantity on hand"),
      c("delta", "INT64", "stock_update delta"),
      c("old_price_minor", "INT64", "price_change old price"),
      c("new_price_minor", "INT64", "price_change new price"),
      c("currency", "STRING", "ISO 4217"),
    ],
    ["sku"],
  ),
  customer: eventTable(
    "customer_events",
    "login and profile_update events",
    [
      c("login_method", "STRING", "login method: password, oauth, sso"),
      c("login_success", "BOOL", "login success"),
      c("changed_fields", "JSON", "profile_update changed_fields"),
      c("email_token", "STRING", "Token of the new email"),
      c("phone_token", "STRING", "Token of the new phone"),
      c("name_token", "STRING", "Token of the new name"),
      c("address_token", "STRING", "Token of the new address"),
    ],
    ["event_type", "user_token"],
  ),
};

/** Current state per key, recomputed from the event tables for every key a batch touches. */
export const STATE_TABLES: TableDef[] = [
  {
    schema: "silver",
    name: "orders",
    description: "Current state per order: the event with the latest event_time wins, whatever the arrival order",
    columns: [
      c("order_id", "STRING", "Order id", { key: true, required: true }),
      c("status", "STRING", "created, confirmed, shipped, delivered or cancelled: the latest event by event_time"),
      c("user_token", "STRING", "Token of the customer's user_id"),
      c("cart_id", "STRING", "Cart the order came from"),
      c("total_minor", "INT64", "Order total"),
      c("currency", "STRING", "ISO 4217"),
      c("created_at", "TIMESTAMP", "order_created event_time"),
      c("confirmed_at", "TIMESTAMP", "order_confirmed event_time"),
      c("shipped_at", "TIMESTAMP", "order_shipped event_time"),
      c("delivered_at", "TIMESTAMP", "order_delivered event_time"),
      c("cancelled_at", "TIMESTAMP", "order_cancelled event_time"),
      c("last_event_id", "STRING", "event_id of the winning event"),
      c("last_event_time", "TIMESTAMP", "event_time of the winning event"),
      c("anomaly", "STRING", "Impossible transition seen: shipped_after_cancelled, delivered_after_cancelled or confirmed_before_created; null when none"),
      c("updated_at", "TIMESTAMP", "When the row was recomputed"),
    ],
    clusterBy: ["order_id"],
  },
  {
    schema: "silver",
    name: "payments",
    description: "Current state per payment: the latest event by event_time wins",
    columns: [
      c("payment_id", "STRING", "Payment id", { key: true, required: true }),
      c("order_id", "STRING", "Order id"),
      c("status", "STRING", "initiated, succeeded, failed or refunded"),
      c("amount_minor", "INT64", "Amount of the payment"),
      c("currency", "STRING", "ISO 4217"),
      c("method", "STRING", "Payment method"),
      c("gateway", "STRING", "Gateway"),
      c("refunded_minor", "INT64", "Sum of refunds against this payment"),
      c("initiated_at", "TIMESTAMP", "First payment_initiated event_time"),
      c("succeeded_at", "TIMESTAMP", "First payment_success event_time"),
      c("failed_at", "TIMESTAMP", "First payment_failure event_time"),
      c("refunded_at", "TIMESTAMP", "First payment_refund event_time"),
      c("last_event_id", "STRING", "event_id of the winning event"),
      c("last_event_time", "TIMESTAMP", "event_time of the winning event"),
      c("anomaly", "STRING", "Impossible transition seen: success_and_failure or refund_before_success; null when none"),
      c("updated_at", "TIMESTAMP", "When the row was recomputed"),
    ],
    clusterBy: ["payment_id"],
  },
  {
    schema: "silver",
    name: "inventory",
    description: "Current stock per sku and warehouse: the latest stock_update by event_time",
    columns: [
      c("sku", "STRING", "SKU", { key: true, required: true }),
      c("warehouse_id", "STRING", "Warehouse", { key: true, required: true }),
      c("quantity_on_hand", "INT64", "Quantity on hand"),
      c("as_of", "TIMESTAMP", "event_time of the winning stock_update"),
      c("last_event_id", "STRING", "event_id of the winning stock_update"),
      c("updated_at", "TIMESTAMP", "When the row was recomputed"),
    ],
    clusterBy: ["sku"],
  },
];
