import { describe, expect, it } from "vitest";
import {
  generateMessages,
  syntheticCustomer,
  takeMessages,
  type GeneratedMessage,
  type GeneratorOptions,
} from "../../../../sources/dev/generator/index.js";

// ---------------------------------------------------------------------------
// An independent validator written from the event contract document
// (not from the generator's code). Returns null when the event is valid,
// otherwise a short reason.
// ---------------------------------------------------------------------------

// The contract's tables list these types (it says "17 types", the tables hold 16).
const CONTRACT_TYPES = [
  "page_view", "search", "add_to_cart",
  "order_created", "order_confirmed", "order_shipped", "order_delivered", "order_cancelled",
  "payment_initiated", "payment_success", "payment_failure", "payment_refund",
  "stock_update", "price_change",
  "login", "profile_update",
] as const;
type EventType = (typeof CONTRACT_TYPES)[number];

const UUID_ANY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_V4_LOWER = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const CLIENT_SOURCES = new Set(["web", "ios", "android"]);

type Obj = Record<string, unknown>;
type Kind = "str" | "int" | "int>=0" | "int>0" | "bool" | "money" | "currency" | "obj" | "arr";
type Reason = "not_json" | "not_object" | "bad_event_id" | "unknown_type" | "bad_version" | "envelope" | "missing_field" | "wrong_type";

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function typeOk(v: unknown, k: Kind): boolean {
  switch (k) {
    case "str": return typeof v === "string";
    case "int": return Number.isInteger(v);
    case "int>=0": return Number.isInteger(v) && (v as number) >= 0;
    case "int>0": return Number.isInteger(v) && (v as number) > 0;
    case "money": return Number.isInteger(v) && (v as number) >= 0;
    case "bool": return typeof v === "boolean";
    case "currency": return typeof v === "string" && /^[A-Z]{3}$/.test(v);
    case "obj": return isObj(v);
    case "arr": return Array.isArray(v);
  }
}

// required and optional payload fields per type, from the contract's tables
const SPEC: Record<EventType, { req: Record<string, Kind>; opt?: Record<string, Kind> }> = {
  page_view: { req: { url: "str", path: "str" }, opt: { referrer: "str", title: "str", product_id: "str" } },
  search: { req: { query: "str", results_count: "int>=0" }, opt: { filters: "obj" } },
  add_to_cart: { req: { cart_id: "str", product_id: "str", sku: "str", quantity: "int>0", unit_price_minor: "money", currency: "currency" } },
  order_created: {
    req: { order_id: "str", items: "arr", subtotal_minor: "money", tax_minor: "money", shipping_minor: "money", total_minor: "money", currency: "currency", customer: "obj" },
    opt: { cart_id: "str" },
  },
  order_confirmed: { req: { order_id: "str" } },
  order_shipped: { req: { order_id: "str", carrier: "str", tracking_number: "str" } },
  order_delivered: { req: { order_id: "str" } },
  order_cancelled: { req: { order_id: "str", reason: "str" } },
  payment_initiated: { req: { payment_id: "str", order_id: "str", amount_minor: "money", currency: "currency", method: "str", gateway: "str" }, opt: { card: "obj" } },
  payment_success: { req: { payment_id: "str", order_id: "str", amount_minor: "money", currency: "currency", gateway: "str", gateway_txn_id: "str" } },
  payment_failure: { req: { payment_id: "str", order_id: "str", amount_minor: "money", currency: "currency", gateway: "str", failure_code: "str" }, opt: { failure_message: "str" } },
  payment_refund: { req: { refund_id: "str", payment_id: "str", order_id: "str", amount_minor: "money", currency: "currency" }, opt: { reason: "str" } },
  stock_update: { req: { sku: "str", warehouse_id: "str", quantity_on_hand: "int>=0" }, opt: { delta: "int" } },
  price_change: { req: { sku: "str", old_price_minor: "money", new_price_minor: "money", currency: "currency" } },
  login: { req: { method: "str", success: "bool" } },
  profile_update: { req: { changed_fields: "arr" }, opt: { email: "str", phone: "str", name: "str", address: "obj" } },
};

function sourceOk(type: EventType, source: string): boolean {
  switch (type) {
    case "page_view": case "search": case "add_to_cart": case "login": case "profile_update":
      return CLIENT_SOURCES.has(source);
    case "stock_update": case "price_change":
      return source === "inventory-service";
    case "payment_initiated": case "payment_success": case "payment_failure": case "payment_refund":
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
        if (!isObj(it) || typeof it.product_id !== "string" || typeof it.sku !== "string" || !typeOk(it.quantity, "int>0") || !typeOk(it.unit_price_minor, "money")) return false;
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

function validate(data: string): Reason | null {
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

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const START = new Date("2025-03-01T08:00:00.000Z");
const opts = (o: Partial<GeneratorOptions> = {}): GeneratorOptions => ({ seed: 42, ratePerSecond: 100, startTime: START, ...o });

interface Ev {
  event_id: string;
  event_type: EventType;
  event_time: string;
  source: string;
  user_id?: string;
  payload: Obj;
}

function parsedValid(msgs: GeneratedMessage[]): Ev[] {
  return msgs.filter((m) => m.kind === "valid").map((m) => JSON.parse(m.data) as Ev);
}

const cache = new Map<string, GeneratedMessage[]>();
function take(o: GeneratorOptions, n: number): GeneratedMessage[] {
  const key = JSON.stringify(o) + "|" + n;
  let v = cache.get(key);
  if (!v) cache.set(key, (v = takeMessages(o, n)));
  return v;
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** any 13..19-digit window (spaces or dashes allowed between digits) that passes Luhn */
function containsPan(s: string): boolean {
  for (const m of s.matchAll(/\d(?:[ -]?\d)+/g)) {
    const digits = m[0].replace(/[ -]/g, "");
    for (let len = 13; len <= 19; len++) {
      for (let i = 0; i + len <= digits.length; i++) if (luhn(digits.slice(i, i + len))) return true;
    }
  }
  return false;
}

function stringLeaves(v: unknown, path: string, out: [string, string][]): void {
  if (typeof v === "string") out.push([path, v]);
  else if (Array.isArray(v)) v.forEach((x) => stringLeaves(x, path + "[]", out));
  else if (isObj(v)) for (const [k, x] of Object.entries(v)) stringLeaves(x, path ? path + "." + k : k, out);
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe("validator sanity (the contract checks themselves)", () => {
  it("accepts a hand-written valid event and rejects broken ones", () => {
    const ok = {
      event_id: "0b7e3a8c-1f2d-4e5a-9b6c-7d8e9f0a1b2c",
      event_type: "add_to_cart",
      schema_version: 1,
      event_time: "2025-03-01T08:00:00Z",
      source: "web",
      anonymous_id: "a",
      payload: { cart_id: "c", product_id: "p", sku: "s", quantity: 1, unit_price_minor: 1999, currency: "USD" },
    };
    expect(validate(JSON.stringify(ok))).toBeNull();
    expect(validate("{")).toBe("not_json");
    expect(validate("[1]")).toBe("not_object");
    expect(validate(JSON.stringify({ ...ok, event_id: "nope" }))).toBe("bad_event_id");
    expect(validate(JSON.stringify({ ...ok, event_type: "nope" }))).toBe("unknown_type");
    expect(validate(JSON.stringify({ ...ok, schema_version: 99 }))).toBe("bad_version");
    expect(validate(JSON.stringify({ ...ok, source: "order-service" }))).toBe("envelope");
    expect(validate(JSON.stringify({ ...ok, payload: { ...ok.payload, sku: undefined } }))).toBe("missing_field");
    expect(validate(JSON.stringify({ ...ok, payload: { ...ok.payload, unit_price_minor: "19.99" } }))).toBe("wrong_type");
    expect(validate(JSON.stringify({ ...ok, payload: { ...ok.payload, unit_price_minor: 19.99 } }))).toBe("wrong_type");
  });
});

describe("determinism", () => {
  it("same seed and options give byte-identical output; a different seed differs", () => {
    const o = opts({ duplicateFraction: 0.05, invalidFraction: 0.05 });
    const a = takeMessages(o, 5000);
    const b = takeMessages({ ...o, startTime: new Date(START.getTime()) }, 5000);
    expect(b.map((m) => m.data)).toEqual(a.map((m) => m.data));
    expect(b).toEqual(a);
    const c = takeMessages({ ...o, seed: 43 }, 5000);
    expect(c.map((m) => m.data)).not.toEqual(a.map((m) => m.data));
    expect(c[0]!.eventId).not.toBe(a[0]!.eventId);
  });

  it("generateMessages yields the same sequence as takeMessages", () => {
    const o = opts({ duplicateFraction: 0.02, invalidFraction: 0.02 });
    const a = takeMessages(o, 3000);
    const it = generateMessages(o);
    const b: GeneratedMessage[] = [];
    for (let i = 0; i < 3000; i++) b.push(it.next().value as GeneratedMessage);
    expect(b).toEqual(a);
  });

  it("rejects bad options", () => {
    expect(() => takeMessages(opts({ ratePerSecond: 0 }), 1)).toThrow();
    expect(() => takeMessages(opts({ duplicateFraction: 1.5 }), 1)).toThrow();
    expect(() => takeMessages(opts({ invalidFraction: -0.1 }), 1)).toThrow();
    expect(() => takeMessages(opts({ startTime: new Date("nope") }), 1)).toThrow();
  });
});

describe("valid messages follow the contract", () => {
  const msgs = take(opts({ ratePerSecond: 50 }), 30_000);

  it("every valid message is canonical JSON of an event that satisfies the contract", () => {
    const bad: string[] = [];
    for (const m of msgs) {
      const reason = m.kind !== "valid" ? "kind " + m.kind : validate(m.data);
      if (reason !== null) bad.push(reason + ": " + m.data);
      else if (m.data.includes("\n") || JSON.stringify(JSON.parse(m.data)) !== m.data) bad.push("not canonical: " + m.data);
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it("envelope details: v4 lowercase ids, Z timestamps, schema_version 1, attributes mirror the envelope", () => {
    const bad: string[] = [];
    for (const m of msgs) {
      const ev = JSON.parse(m.data) as Ev & { schema_version: number };
      if (!UUID_V4_LOWER.test(ev.event_id)) bad.push("id " + ev.event_id);
      if (!ev.event_time.endsWith("Z")) bad.push("time " + ev.event_time);
      if (ev.schema_version !== 1) bad.push("version " + ev.schema_version);
      if (m.eventId !== ev.event_id || m.attributes.event_id !== ev.event_id || m.attributes.event_type !== ev.event_type || Object.keys(m.attributes).length !== 2) {
        bad.push("attributes " + JSON.stringify(m.attributes) + " " + m.eventId);
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect(JSON.parse(msgs[0]!.data).event_time).toBe(START.toISOString());
  });

  it("clickstream and customer events carry context; anonymous ones carry anonymous_id only", () => {
    let anonymous = 0, loggedIn = 0;
    const bad: string[] = [];
    const currencies = new Set<string>(), gateways = new Set<string>();
    for (const m of msgs) {
      const ev = JSON.parse(m.data) as Ev & { context?: Obj; anonymous_id?: string; session_id?: string };
      if (CLIENT_SOURCES.has(ev.source)) {
        const ctx = ev.context;
        if (!ctx || !["ip", "user_agent", "locale", "country", "app_version"].every((k) => typeof ctx[k] === "string")) bad.push("context " + m.data);
        if (typeof ev.anonymous_id !== "string" || typeof ev.session_id !== "string") bad.push("ids " + m.data);
        if (ev.user_id === undefined) anonymous++;
        else loggedIn++;
      }
      if (typeof ev.payload.currency === "string") currencies.add(ev.payload.currency);
      if (typeof ev.payload.gateway === "string") gateways.add(ev.payload.gateway);
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect(anonymous).toBeGreaterThan(1000);
    expect(loggedIn).toBeGreaterThan(1000);
    expect([...currencies].sort()).toEqual(["EUR", "GBP", "USD"]);
    expect(gateways.size).toBeGreaterThanOrEqual(3);
  });

  it("valid event_ids are unique", () => {
    const big = take(opts({ ratePerSecond: 500, duplicateFraction: 0.05, invalidFraction: 0.05 }), 100_000);
    const ids = new Set<string>();
    let n = 0;
    for (const m of big) {
      if (m.kind !== "valid") continue;
      n++;
      ids.add(m.eventId!);
    }
    expect(ids.size).toBe(n);
  });
});

describe("coverage of event types", () => {
  for (const rate of [1, 50, 1000]) {
    it(`all contract event types appear in 20 000 messages at ${rate} events/s`, () => {
      const seen = new Set(parsedValid(take(opts({ ratePerSecond: rate }), 20_000)).map((e) => e.event_type));
      expect([...seen].sort()).toEqual([...CONTRACT_TYPES].sort());
    });
  }
});

describe("duplicates and invalid messages", () => {
  const o = opts({ ratePerSecond: 200, duplicateFraction: 0.08, invalidFraction: 0.05 });
  const msgs = take(o, 40_000);

  it("fractions are within tolerance of what was asked", () => {
    const dup = msgs.filter((m) => m.kind === "duplicate").length / msgs.length;
    const inv = msgs.filter((m) => m.kind === "invalid").length / msgs.length;
    expect(Math.abs(dup - 0.08)).toBeLessThan(0.01);
    expect(Math.abs(inv - 0.05)).toBeLessThan(0.01);
    const none = takeMessages(opts(), 5000);
    expect(none.every((m) => m.kind === "valid")).toBe(true);
  });

  it("a duplicate repeats an earlier valid message's exact bytes, event_id and attributes", () => {
    const firstByData = new Map<string, GeneratedMessage>();
    let dups = 0;
    for (const m of msgs) {
      if (m.kind === "valid") {
        expect(firstByData.has(m.data)).toBe(false);
        firstByData.set(m.data, m);
      } else if (m.kind === "duplicate") {
        dups++;
        const orig = firstByData.get(m.data);
        expect(orig).toBeDefined();
        expect(m.eventId).toBe(orig!.eventId);
        expect(m.attributes).toEqual(orig!.attributes);
        expect(validate(m.data)).toBeNull();
      }
    }
    expect(dups).toBeGreaterThan(2000);
  });

  it("invalid messages fail validation, in every flavour, without reusing valid event_ids", () => {
    const validIds = new Set(msgs.filter((m) => m.kind === "valid").map((m) => m.eventId));
    const reasons = new Map<string, number>();
    for (const m of msgs) {
      if (m.kind !== "invalid") continue;
      const reason = validate(m.data);
      expect(reason, m.data).not.toBeNull();
      reasons.set(reason!, (reasons.get(reason!) ?? 0) + 1);
      if (m.eventId !== undefined) expect(validIds.has(m.eventId)).toBe(false);
      // attributes present only when known, and then mirroring the body
      if (reason === "not_json" || reason === "not_object") expect(m.attributes).toEqual({});
      else {
        const ev = JSON.parse(m.data) as Obj;
        if (m.attributes.event_id !== undefined) expect(m.attributes.event_id).toBe(ev.event_id);
        expect(m.attributes.event_type).toBe(ev.event_type);
      }
    }
    for (const r of ["not_json", "not_object", "unknown_type", "bad_version", "missing_field", "wrong_type", "bad_event_id"]) {
      expect(reasons.get(r) ?? 0, r).toBeGreaterThan(20);
    }
  });

  it("event_time is non-decreasing within one hour over the whole stream (duplicates included)", () => {
    let max = -Infinity;
    let worst = 0;
    for (const m of msgs) {
      if (m.kind === "invalid") continue;
      const t = Date.parse((JSON.parse(m.data) as Ev).event_time);
      worst = Math.max(worst, max - t);
      max = Math.max(max, t);
    }
    expect(worst).toBeLessThanOrEqual(3600_000);
  });
});

describe("business consistency", () => {
  const msgs = take(opts({ ratePerSecond: 50 }), 30_000);
  const events = parsedValid(msgs);

  it("order totals add up and match the items", () => {
    let n = 0;
    for (const e of events) {
      if (e.event_type !== "order_created") continue;
      n++;
      const p = e.payload as { items: { quantity: number; unit_price_minor: number }[]; subtotal_minor: number; tax_minor: number; shipping_minor: number; total_minor: number };
      expect(p.subtotal_minor + p.tax_minor + p.shipping_minor).toBe(p.total_minor);
      expect(p.items.reduce((s, i) => s + i.quantity * i.unit_price_minor, 0)).toBe(p.subtotal_minor);
    }
    expect(n).toBeGreaterThan(50);
  });

  it("every order_created with a cart_id refers to a cart that had an add_to_cart earlier in the stream", () => {
    const carts = new Set<string>();
    let withCart = 0;
    for (const e of events) {
      if (e.event_type === "add_to_cart") carts.add(e.payload.cart_id as string);
      if (e.event_type === "order_created" && e.payload.cart_id !== undefined) {
        withCart++;
        expect(carts.has(e.payload.cart_id as string)).toBe(true);
      }
    }
    expect(withCart).toBeGreaterThan(50);
  });

  it("payment_success refers to an initiated payment of the same order, amount and currency", () => {
    const initiated = new Map<string, Obj>();
    let n = 0;
    for (const e of events) {
      if (e.event_type === "payment_initiated") initiated.set(e.payload.payment_id as string, e.payload);
      if (e.event_type === "payment_success") {
        n++;
        const i = initiated.get(e.payload.payment_id as string);
        expect(i).toBeDefined();
        expect(i!.order_id).toBe(e.payload.order_id);
        expect(i!.amount_minor).toBe(e.payload.amount_minor);
        expect(i!.currency).toBe(e.payload.currency);
      }
    }
    expect(n).toBeGreaterThan(50);
  });

  it("failed payments are retried with a new payment_id, and some retries succeed", () => {
    const byOrder = new Map<string, { ids: string[]; failed: boolean; succeededAfterFailure: boolean }>();
    for (const e of events) {
      const oid = e.payload.order_id as string;
      if (e.event_type === "payment_initiated") {
        const s = byOrder.get(oid) ?? { ids: [], failed: false, succeededAfterFailure: false };
        s.ids.push(e.payload.payment_id as string);
        byOrder.set(oid, s);
      } else if (e.event_type === "payment_failure") {
        byOrder.get(oid)!.failed = true;
      } else if (e.event_type === "payment_success" && byOrder.get(oid)?.failed) {
        byOrder.get(oid)!.succeededAfterFailure = true;
      }
    }
    const retried = [...byOrder.values()].filter((s) => s.ids.length > 1);
    expect(retried.length).toBeGreaterThan(3);
    for (const s of retried) expect(new Set(s.ids).size).toBe(s.ids.length);
    expect(retried.some((s) => s.succeededAfterFailure)).toBe(true);
  });

  it("order lifecycles follow created -> confirmed -> shipped -> delivered, cancellations only before shipping, delivery hours after shipping", () => {
    const long = parsedValid(take(opts({ ratePerSecond: 1 }), 40_000)); // ~11 hours of event time
    const rank: Record<string, number> = { order_created: 0, order_confirmed: 1, order_shipped: 2, order_delivered: 3 };
    const state = new Map<string, { last: string; shippedAt?: number }>();
    let delivered = 0, cancelled = 0;
    for (const e of long) {
      if (!e.event_type.startsWith("order_")) continue;
      const id = e.payload.order_id as string;
      const s = state.get(id);
      const t = Date.parse(e.event_time);
      if (e.event_type === "order_created") {
        expect(s).toBeUndefined();
        state.set(id, { last: "order_created" });
        continue;
      }
      if (s === undefined) continue; // created before the stream started (warm start)
      expect(s.last, `${id}: ${e.event_type} after ${s.last}`).not.toBe("order_cancelled");
      if (e.event_type === "order_cancelled") {
        expect(["order_created", "order_confirmed"]).toContain(s.last);
        cancelled++;
      } else {
        expect(rank[e.event_type]).toBe(rank[s.last]! + 1);
      }
      if (e.event_type === "order_shipped") s.shippedAt = t;
      if (e.event_type === "order_delivered") {
        expect(t - s.shippedAt!).toBeGreaterThanOrEqual(3600_000);
        delivered++;
      }
      s.last = e.event_type;
    }
    expect(delivered).toBeGreaterThan(0);
    expect(cancelled).toBeGreaterThan(0);
  });

  it("the simulated clock advances by 1/rate seconds per message", () => {
    const last = JSON.parse(msgs[msgs.length - 1]!.data) as Ev;
    const expected = START.getTime() + ((msgs.length - 1) * 1000) / 50;
    const t = Date.parse(last.event_time);
    expect(t).toBeLessThanOrEqual(expected);
    expect(t).toBeGreaterThan(expected - 120_000); // mobile clients occasionally deliver late
  });

  it("order_created customers of registered users match syntheticCustomer until they update their profile", () => {
    const updated = new Set<string>();
    let checked = 0;
    for (const e of events) {
      if (e.event_type === "profile_update" && e.user_id) updated.add(e.user_id);
      if (e.event_type === "order_created" && e.user_id && !updated.has(e.user_id)) {
        const idx = Number(e.user_id.slice(4)) - 100_000;
        expect((e.payload.customer as Obj).email).toBe(syntheticCustomer(42, idx).email);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });
});

describe("card numbers (PAN) in free text", () => {
  it("rarely, a Luhn-valid card number appears in a search query or failure message, and nowhere else", () => {
    const msgs = take(opts({ ratePerSecond: 500 }), 120_000);
    const hits: string[] = [];
    for (const m of msgs) {
      if (!/\d{4}/.test(m.data)) continue;
      const leaves: [string, string][] = [];
      stringLeaves(JSON.parse(m.data), "", leaves);
      for (const [path, v] of leaves) if (containsPan(v)) hits.push(path);
    }
    expect(hits.length).toBeGreaterThanOrEqual(5); // expected ~24 (1 in 5000)
    expect(hits.length).toBeLessThanOrEqual(70);
    for (const p of hits) expect(["payload.query", "payload.failure_message"]).toContain(p);
  });
});
