/**
 * An independent validator written from the event contract document (not
 * from the generator's code), which the generator's tests check its output
 * against. `validate` returns null when the event is valid, otherwise a short
 * reason.
 */

// The contract's tables list these types (it says "17 types", the tables hold 16).
export const CONTRACT_TYPES = [
  "page_view",
  "search",
  "add_to_cart",
  "order_created",
  "order_confirmed",
  "order_shipped",
  "order_delivered",
  "order_cancelled",
  "payment_initiated",
  "payment_success",
  "payment_failure",
  "payment_refund",
  "stock_update",
  "price_change",
  "login",
  "profile_update",
] as const;
export type EventType = (typeof CONTRACT_TYPES)[number];

const UUID_ANY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const UUID_V4_LOWER = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
export const CLIENT_SOURCES = new Set(["web", "ios", "android"]);

export type Obj = Record<string, unknown>;
type Kind = "str" | "int" | "int>=0" | "int>0" | "bool" | "money" | "currency" | "obj" | "arr";
export type Reason = "not_json" | "not_object" | "bad_event_id" | "unknown_type" | "bad_version" | "envelope" | "missing_field" | "wrong_type";

export const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function typeOk(v: unknown, k: Kind): boolean {
  switch (k) {
    case "str":
      return typeof v === "string";
    case "int":
      return Number.isInteger(v);
    case "int>=0":
      return Number.isInteger(v) && (v as number) >= 0;
    case "int>0":
      return Number.isInteger(v) && (v as number) > 0;
    case "money":
      return Number.isInteger(v) && (v as number) >= 0;
    case "bool":
      return typeof v === "boolean";
    case "currency":
      return typeof v === "string" && /^[A-Z]{3}$/.test(v);
    case "obj":
      return isObj(v);
    case "arr":
      return Array.isArray(v);
  }
}

// required and optional payload fields per type, from the contract's tables
const SPEC: Record<EventType, { req: Record<string, Kind>; opt?: Record<string, Kind> }> = {
  page_view: { req: { url: "str", path: "str" }, opt: { referrer: "str", title: "str", product_id: "str" } },
  search: { req: { query: "str", results_count: "int>=0" }, opt: { filters: "obj" } },
  add_to_cart: { req: { cart_id: "str", product_id: "str", sku: "str", quantity: "int>0", unit_price_minor: "money", currency: "currency" } },
  order_created: {
    req: {
      order_id: "str",
      items: "arr",
      subtotal_minor: "money",
      tax_minor: "money",
      shipping_minor: "money",
      total_minor: "money",
      currency: "currency",
      customer: "obj",
    },
    opt: { cart_id: "str" },
  },
  order_confirmed: { req: { order_id: "str" } },
  order_shipped: { req: { order_id: "str", carrier: "str", tracking_number: "str" } },
  order_delivered: { req: { order_id: "str" } },
  order_cancelled: { req: { order_id: "str", reason: "str" } },
  payment_initiated: {
    req: { payment_id: "str", order_id: "str", amount_minor: "money", currency: "currency", method: "str", gateway: "str" },
    opt: { card: "obj" },
  },
  payment_success: { req: { payment_id: "str", order_id: "str", amount_minor: "money", currency: "currency", gateway: "str", gateway_txn_id: "str" } },
  payment_failure: {
    req: { payment_id: "str", order_id: "str", amount_minor: "money", currency: "currency", gateway: "str", failure_code: "str" },
    opt: { failure_message: "str" },
  },
  payment_refund: { req: { refund_id: "str", payment_id: "str", order_id: "str", amount_minor: "money", currency: "currency" }, opt: { reason: "str" } },
  stock_update: { req: { sku: "str", warehouse_id: "str", quantity_on_hand: "int>=0" }, opt: { delta: "int" } },
  price_change: { req: { sku: "str", old_price_minor: "money", new_price_minor: "money", currency: "currency" } },
  login: { req: { method: "str", success: "bool" } },
  profile_update: { req: { changed_fields: "arr" }, opt: { email: "str", phone: "str", name: "str", address: "obj" } },
};

function sourceOk(type: EventType, source: string): boolean {
  switch (type) {
    case "page_view":
    case "search":
    case "add_to_cart":
    case "login":
    case "profile_update":
      return CLIENT_SOURCES.has(source);
    case "stock_update":
    case "price_change":
      return source === "inventory-service";
    case "payment_initiated":
    case "payment_success":
    case "payment_failure":
    case "payment_refund":
      return source === "payment-service" || /^gateway:[a-z0-9_-]+$/.test(source);
    default:
      return source === "order-service";
  }
}

function addressOk(a: unknown): boolean {
  return isObj(a) && ["line1", "city", "postal_code", "country"].every((k) => typeof a[k] === "string") && /^[A-Z]{2}$/.test(a.country as string);
}

/** deeper rules inside payloads (enums, nested objects) */
function payloadDetailOk(type: EventType, p: Obj): boolean {
  switch (type) {
    case "order_created": {
      const items = p.items as unknown[];
      if (items.length === 0) return false;
      for (const it of items) {
        if (
          !isObj(it) ||
          typeof it.product_id !== "string" ||
          typeof it.sku !== "string" ||
          !typeOk(it.quantity, "int>0") ||
          !typeOk(it.unit_price_minor, "money")
        )
          return false;
      }
      const c = p.customer as Obj;
      if (typeof c.email !== "string") return false;
      if (c.phone !== undefined && typeof c.phone !== "string") return false;
      if (c.name !== undefined && typeof c.name !== "string") return false;
      if (c.shipping_address !== undefined && !addressOk(c.shipping_address)) return false;
      return true;
    }
    case "payment_initiated": {
      if (!["card", "wallet", "bank_transfer", "cod"].includes(p.method as string)) return false;
      if (p.card !== undefined) {
        const c = p.card as Obj;
        if (c.brand !== undefined && typeof c.brand !== "string") return false;
        if (c.last4 !== undefined && !/^\d{4}$/.test(String(c.last4))) return false;
        if (c.token !== undefined && typeof c.token !== "string") return false;
      }
      return true;
    }
    case "login":
      return ["password", "oauth", "sso"].includes(p.method as string);
    case "profile_update":
      return (p.changed_fields as unknown[]).every((f) => typeof f === "string") && (p.address === undefined || addressOk(p.address));
    default:
      return true;
  }
}

export function validate(data: string): Reason | null {
  let ev: unknown;
  try {
    ev = JSON.parse(data);
  } catch {
    return "not_json";
  }
  if (!isObj(ev)) return "not_object";
  if (typeof ev.event_id !== "string" || !UUID_ANY.test(ev.event_id)) return "bad_event_id";
  if (typeof ev.event_type !== "string" || !(CONTRACT_TYPES as readonly string[]).includes(ev.event_type)) return "unknown_type";
  const type = ev.event_type as EventType;
  if (!Number.isInteger(ev.schema_version) || (ev.schema_version as number) < 1) return "envelope";
  if (ev.schema_version !== 1) return "bad_version";
  if (typeof ev.event_time !== "string" || !RFC3339.test(ev.event_time) || Number.isNaN(Date.parse(ev.event_time))) return "envelope";
  if (typeof ev.source !== "string" || !sourceOk(type, ev.source)) return "envelope";
  for (const k of ["user_id", "anonymous_id", "session_id"]) if (ev[k] !== undefined && typeof ev[k] !== "string") return "envelope";
  if (ev.context !== undefined) {
    if (!isObj(ev.context)) return "envelope";
    for (const k of ["ip", "user_agent", "locale", "country", "app_version"]) {
      if (ev.context[k] !== undefined && typeof ev.context[k] !== "string") return "envelope";
    }
    if (ev.context.country !== undefined && !/^[A-Z]{2}$/.test(ev.context.country as string)) return "envelope";
  }
  if (!isObj(ev.payload)) return "missing_field";
  const p = ev.payload;
  const spec = SPEC[type];
  for (const k of Object.keys(spec.req)) if (p[k] === undefined) return "missing_field";
  for (const [k, kind] of Object.entries(spec.req)) if (!typeOk(p[k], kind)) return "wrong_type";
  for (const [k, kind] of Object.entries(spec.opt ?? {})) if (p[k] !== undefined && !typeOk(p[k], kind)) return "wrong_type";
  if (!payloadDetailOk(type, p)) return "wrong_type";
  return null;
}
