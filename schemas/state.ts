/**
 * The current-state tables' merge rules, declared once: `silver.orders`,
 * `silver.payments` and `silver.inventory` hold one row per key, merged from
 * each batch's new events. The rules make the merge commutative, so the
 * state is the same whatever order the events arrive in:
 *
 *  - the winning event is the one with the latest (event_time, lifecycle
 *    rank of its type, event_id); `status` and `last_event_id` follow it;
 *  - `first` columns keep the first non-null value seen (any event carries
 *    the same one: the order's total, the payment's gateway);
 *  - `earliest` columns keep the earliest event_time of their event types;
 *  - `sum` columns add up (refunds);
 *  - the anomaly flag is recomputed from the merged columns: the first rule
 *    that holds names it.
 *
 * sinks/state-merge.ts compiles these to DuckDB (INSERT ... ON CONFLICT) and
 * to BigQuery (MERGE), in the batch's own transaction.
 */
import type { Domain, EventType } from "./registry.js";
import { STATE_TABLES, type TableDef } from "./silver.js";

export type StateColumnRule =
  /** A value of the winning event: the status its type stands for, or its event_id. */
  | { kind: "winner"; value: "status" | "event_id" | { column: string } }
  /** The latest event_time of the events merged. */
  | { kind: "latest_time" }
  /** The first non-null value of `column` among the events of `types` (all when absent). */
  | { kind: "first"; column: string; types?: readonly EventType[]; exceptTypes?: readonly EventType[] }
  /** The earliest event_time among the events of `types`. */
  | { kind: "earliest_time"; types: readonly EventType[] }
  /** The sum of `column` over the events of `types` (0 when none). */
  | { kind: "sum"; column: string; types: readonly EventType[] }
  /** The flag of the first rule that holds on the merged row, else null. */
  | { kind: "anomaly" }
  /** When the row was last merged. */
  | { kind: "merged_at" };

/** A condition on the merged row: every clause holds. A clause is `[column, "set"]` or `[column, op, column]`. */
export type Condition = readonly (readonly [string, "set"] | readonly [string, "<" | ">" | "unset_or_<", string])[];

export interface StateRules {
  table: TableDef;
  /** The Silver domain whose new events feed it. */
  from: Domain;
  key: readonly string[];
  /** Only events of these types feed it (all of the domain's when absent). */
  types?: readonly EventType[];
  /** The lifecycle: the status each event type stands for, and its rank (a later stage wins a tie on event_time). */
  lifecycle?: Partial<Record<EventType, { status: string; rank: number }>>;
  columns: Record<string, StateColumnRule>;
  anomalies?: readonly { flag: string; when: Condition }[];
}

const table = (name: string): TableDef => STATE_TABLES.find((t) => t.name === name)!;

export const ORDERS: StateRules = {
  table: table("orders"),
  from: "order",
  key: ["order_id"],
  lifecycle: {
    order_created: { status: "created", rank: 1 },
    order_confirmed: { status: "confirmed", rank: 2 },
    order_shipped: { status: "shipped", rank: 3 },
    order_delivered: { status: "delivered", rank: 4 },
    order_cancelled: { status: "cancelled", rank: 5 },
  },
  columns: {
    status: { kind: "winner", value: "status" },
    user_token: { kind: "first", column: "user_token" },
    cart_id: { kind: "first", column: "cart_id" },
    total_minor: { kind: "first", column: "total_minor" },
    currency: { kind: "first", column: "currency" },
    created_at: { kind: "earliest_time", types: ["order_created"] },
    confirmed_at: { kind: "earliest_time", types: ["order_confirmed"] },
    shipped_at: { kind: "earliest_time", types: ["order_shipped"] },
    delivered_at: { kind: "earliest_time", types: ["order_delivered"] },
    cancelled_at: { kind: "earliest_time", types: ["order_cancelled"] },
    last_event_id: { kind: "winner", value: "event_id" },
    last_event_time: { kind: "latest_time" },
    anomaly: { kind: "anomaly" },
    updated_at: { kind: "merged_at" },
  },
  anomalies: [
    {
      flag: "shipped_after_cancelled",
      when: [
        ["cancelled_at", "set"],
        ["shipped_at", ">", "cancelled_at"],
      ],
    },
    {
      flag: "delivered_after_cancelled",
      when: [
        ["cancelled_at", "set"],
        ["delivered_at", ">", "cancelled_at"],
      ],
    },
    {
      flag: "confirmed_before_created",
      when: [
        ["created_at", "set"],
        ["confirmed_at", "<", "created_at"],
      ],
    },
  ],
};

export const PAYMENTS: StateRules = {
  table: table("payments"),
  from: "payment",
  key: ["payment_id"],
  lifecycle: {
    payment_initiated: { status: "initiated", rank: 1 },
    payment_failure: { status: "failed", rank: 2 },
    payment_success: { status: "succeeded", rank: 3 },
    payment_refund: { status: "refunded", rank: 4 },
  },
  columns: {
    order_id: { kind: "first", column: "order_id" },
    status: { kind: "winner", value: "status" },
    amount_minor: { kind: "first", column: "amount_minor", exceptTypes: ["payment_refund"] },
    currency: { kind: "first", column: "currency" },
    method: { kind: "first", column: "method" },
    gateway: { kind: "first", column: "gateway" },
    refunded_minor: { kind: "sum", column: "amount_minor", types: ["payment_refund"] },
    initiated_at: { kind: "earliest_time", types: ["payment_initiated"] },
    succeeded_at: { kind: "earliest_time", types: ["payment_success"] },
    failed_at: { kind: "earliest_time", types: ["payment_failure"] },
    refunded_at: { kind: "earliest_time", types: ["payment_refund"] },
    last_event_id: { kind: "winner", value: "event_id" },
    last_event_time: { kind: "latest_time" },
    anomaly: { kind: "anomaly" },
    updated_at: { kind: "merged_at" },
  },
  anomalies: [
    {
      flag: "success_and_failure",
      when: [
        ["succeeded_at", "set"],
        ["failed_at", "set"],
      ],
    },
    {
      flag: "refund_before_success",
      when: [
        ["refunded_at", "set"],
        ["refunded_at", "unset_or_<", "succeeded_at"],
      ],
    },
  ],
};

export const INVENTORY: StateRules = {
  table: table("inventory"),
  from: "inventory",
  key: ["sku", "warehouse_id"],
  types: ["stock_update"],
  columns: {
    quantity_on_hand: { kind: "winner", value: { column: "quantity_on_hand" } },
    as_of: { kind: "latest_time" },
    last_event_id: { kind: "winner", value: "event_id" },
    updated_at: { kind: "merged_at" },
  },
};

export const STATE_RULES: readonly StateRules[] = [ORDERS, PAYMENTS, INVENTORY];
