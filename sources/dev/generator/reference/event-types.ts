/**
 * The event types the generator emits (the contract's sixteen) and, per type,
 * the payload fields the contract requires. Every valid event is one of
 * these types at schema_version 1; the required fields are what the
 * invalid-message injector removes to make a schema violation.
 */
export const REQUIRED_FIELDS = {
  page_view: ["url", "path"],
  search: ["query", "results_count"],
  add_to_cart: ["cart_id", "product_id", "sku", "quantity", "unit_price_minor", "currency"],
  order_created: ["order_id", "items", "subtotal_minor", "tax_minor", "shipping_minor", "total_minor", "currency", "customer"],
  order_confirmed: ["order_id"],
  order_shipped: ["order_id", "carrier", "tracking_number"],
  order_delivered: ["order_id"],
  order_cancelled: ["order_id", "reason"],
  payment_initiated: ["payment_id", "order_id", "amount_minor", "currency", "method", "gateway"],
  payment_success: ["payment_id", "order_id", "amount_minor", "currency", "gateway", "gateway_txn_id"],
  payment_failure: ["payment_id", "order_id", "amount_minor", "currency", "gateway", "failure_code"],
  payment_refund: ["refund_id", "payment_id", "order_id", "amount_minor", "currency"],
  stock_update: ["sku", "warehouse_id", "quantity_on_hand"],
  price_change: ["sku", "old_price_minor", "new_price_minor", "currency"],
  login: ["method", "success"],
  profile_update: ["changed_fields"],
} as const satisfies Record<string, readonly string[]>;

export type EventType = keyof typeof REQUIRED_FIELDS;

export const EVENT_TYPES = Object.keys(REQUIRED_FIELDS) as EventType[];
