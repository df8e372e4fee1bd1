/** Orders and payments: totals, carts, payment attempts and order lifecycles across the stream. */
import { describe, expect, it } from "vitest";
import type { Obj } from "./contract.js";
import { opts, parsedValid, take } from "./traffic.js";

describe("orders and payments", () => {
  const events = parsedValid(take(opts({ ratePerSecond: 50 }), 30_000));

  it("order totals add up and match the items", () => {
    let n = 0;
    for (const e of events) {
      if (e.event_type !== "order_created") continue;
      n++;
      const p = e.payload as {
        items: { quantity: number; unit_price_minor: number }[];
        subtotal_minor: number;
        tax_minor: number;
        shipping_minor: number;
        total_minor: number;
      };
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
    let delivered = 0,
      cancelled = 0;
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
});
