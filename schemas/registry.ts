/**
 * The schema registry: every (event_type, schema_version) the platform reads,
 * the domain (Silver table) each type lands in, and the fields that hold
 * personal data. A new version is added here beside the old one, which stays
 * readable.
 */
import type { z } from "zod";
import { addToCartV1, pageViewV1, searchV1 } from "./events/clickstream.js";
import { loginV1, profileUpdateV1 } from "./events/customer.js";
import { priceChangeV1, stockUpdateV1 } from "./events/inventory.js";
import { orderCancelledV1, orderConfirmedV1, orderCreatedV1, orderDeliveredV1, orderShippedV1 } from "./events/orders.js";
import { paymentFailureV1, paymentInitiatedV1, paymentRefundV1, paymentSuccessV1 } from "./events/payments.js";

export const DOMAINS = ["clickstream", "order", "payment", "inventory", "customer"] as const;
export type Domain = (typeof DOMAINS)[number];

export const EVENT_TYPES = {
  page_view: { domain: "clickstream", versions: { 1: pageViewV1 } },
  search: { domain: "clickstream", versions: { 1: searchV1 } },
  add_to_cart: { domain: "clickstream", versions: { 1: addToCartV1 } },
  order_created: { domain: "order", versions: { 1: orderCreatedV1 } },
  order_confirmed: { domain: "order", versions: { 1: orderConfirmedV1 } },
  order_shipped: { domain: "order", versions: { 1: orderShippedV1 } },
  order_delivered: { domain: "order", versions: { 1: orderDeliveredV1 } },
  order_cancelled: { domain: "order", versions: { 1: orderCancelledV1 } },
  payment_initiated: { domain: "payment", versions: { 1: paymentInitiatedV1 } },
  payment_success: { domain: "payment", versions: { 1: paymentSuccessV1 } },
  payment_failure: { domain: "payment", versions: { 1: paymentFailureV1 } },
  payment_refund: { domain: "payment", versions: { 1: paymentRefundV1 } },
  stock_update: { domain: "inventory", versions: { 1: stockUpdateV1 } },
  price_change: { domain: "inventory", versions: { 1: priceChangeV1 } },
  login: { domain: "customer", versions: { 1: loginV1 } },
  profile_update: { domain: "customer", versions: { 1: profileUpdateV1 } },
} as const satisfies Record<string, { domain: Domain; versions: Record<number, z.ZodType> }>;

export type EventType = keyof typeof EVENT_TYPES;
export const EVENT_TYPE_NAMES = Object.keys(EVENT_TYPES) as EventType[];

type Versions<T extends EventType> = (typeof EVENT_TYPES)[T]["versions"];
type SchemaOf<T extends EventType> = Versions<T>[keyof Versions<T>];
/** A validated event of a known type (the union over every type and version). */
export type AnyEvent = { [T in EventType]: z.output<SchemaOf<T>> }[EventType];
export type EventOf<T extends EventType> = Extract<AnyEvent, { event_type: T }>;

export interface SchemaEntry {
  eventType: EventType;
  version: number;
  domain: Domain;
  schema: z.ZodType<AnyEvent>;
}

export interface Registry {
  /** The schema for a type and version; `undefined` with the reason when there is none. */
  lookup(eventType: string, version: number): SchemaEntry | "unknown_type" | "unknown_version";
  entries(): SchemaEntry[];
}

export function createRegistry(): Registry {
  const byKey = new Map<string, SchemaEntry>();
  const types = new Set<string>();
  for (const [eventType, def] of Object.entries(EVENT_TYPES)) {
    types.add(eventType);
    for (const [v, schema] of Object.entries(def.versions)) {
      byKey.set(`${eventType}@${v}`, {
        eventType: eventType as EventType,
        version: Number(v),
        domain: def.domain,
        schema: schema as unknown as z.ZodType<AnyEvent>,
      });
    }
  }
  return {
    lookup(eventType, version) {
      const entry = byKey.get(`${eventType}@${version}`);
      if (entry) return entry;
      return types.has(eventType) ? "unknown_version" : "unknown_type";
    },
    entries: () => [...byKey.values()],
  };
}
