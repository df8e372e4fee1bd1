/**
 * The order state machine: created -> (payment, see payments.ts) ->
 * confirmed -> shipped -> delivered (fulfilment.ts), or cancelled before
 * shipping. Orders come from a session's checkout, from repeat orders placed
 * through the API without a cart, and from the warm start (legacy-orders.ts).
 *
 * Guarantees: totals add up (subtotal of the lines + tax + shipping); an
 * order's lines, prices and currency never change after order_created; a
 * cancelled order that was paid is refunded in full.
 */
import type { Order, OrderStep, World } from "./model.js";
import { popularSku } from "./catalog.js";
import type { Profile } from "./customers.js";
import { COUNTRIES, CURRENCIES, EXPRESS_FEE, FREE_SHIPPING_FROM, SHIPPING_FEE } from "./reference/countries.js";
import { CANCEL_REASONS } from "./reference/payments.js";
import { HOUR, MIN, SEC } from "./time.js";

/** Schedules `kind` for order `o` at `due`. */
export function scheduleOrder(w: World, due: number, kind: OrderStep, o: Order): void {
  w.agenda.push(due, { kind, order: o });
}

export function newOrder(w: World, userId: string | undefined, cur: number, country: number, skus: number[], qtys: number[], prices: number[]): Order {
  const n = skus.length;
  const lines = new Array<number>(n * 3);
  for (let i = 0; i < n; i++) {
    lines[3 * i] = skus[i]!;
    lines[3 * i + 1] = qtys[i]!;
    lines[3 * i + 2] = prices[i]!;
  }
  return {
    id: "ord_" + w.r.id12(),
    userId,
    cur,
    country,
    total: 0,
    warehouse: w.r.pick(COUNTRIES[country]!.warehouses),
    lines,
    method: undefined,
    gateway: undefined,
    paymentId: undefined,
    attempts: 0,
    paid: false,
    stockIdx: 0,
    reason: "",
    refundAmount: 0,
  };
}

/** Emits order_created and schedules the payment. */
export function createOrder(w: World, o: Order, cartId: string | undefined, customer: Profile, sessionId: string | undefined): void {
  const r = w.r;
  const cat = w.catalog;
  const items: { product_id: string; sku: string; quantity: number; unit_price_minor: number }[] = [];
  let subtotal = 0;
  const lines = o.lines;
  for (let i = 0; i < lines.length; i += 3) {
    const sku = lines[i]!;
    const q = lines[i + 1]!;
    const price = lines[i + 2]!;
    subtotal += q * price;
    items.push({ product_id: cat.products[cat.skuProduct[sku]!]!.id, sku: cat.skuCode[sku]!, quantity: q, unit_price_minor: price });
  }
  const tax = Math.round(subtotal * COUNTRIES[o.country]!.tax);
  const express = r.chance(0.1);
  const shipping = (subtotal >= FREE_SHIPPING_FROM[o.cur]! ? 0 : SHIPPING_FEE[o.cur]!) + (express ? EXPRESS_FEE[o.cur]! : 0);
  o.total = subtotal + tax + shipping;
  const payload = {
    order_id: o.id,
    cart_id: cartId,
    items,
    subtotal_minor: subtotal,
    tax_minor: tax,
    shipping_minor: shipping,
    total_minor: o.total,
    currency: CURRENCIES[o.cur],
    customer: {
      email: customer.email,
      phone: r.chance(0.85) ? customer.phone : undefined,
      name: r.chance(0.97) ? customer.name : undefined,
      shipping_address: customer.address,
    },
  };
  w.out.emit("order_created", "order-service", o.userId, sessionId, payload, w.clock);
  scheduleOrder(w, w.clock + 800 + r.float() * 9 * SEC, "initiate_payment", o);
}

/** A repeat order placed without a cart (subscription / reorder from order history via the API). */
export function reorder(w: World): void {
  const r = w.r;
  const p = w.customers.registered();
  const n = r.int(1, 2);
  const skus: number[] = [],
    qtys: number[] = [],
    prices: number[] = [];
  const cur = COUNTRIES[p.country]!.cur;
  for (let i = 0; i < n; i++) {
    const sku = popularSku(r, w.catalog);
    if (skus.includes(sku)) continue;
    skus.push(sku);
    qtys.push(r.int(1, 3));
    prices.push(w.catalog.prices[sku * 3 + cur]!);
  }
  const o = newOrder(w, p.userId, cur, p.country, skus, qtys, prices);
  createOrder(w, o, undefined, p, undefined);
}

/** order_confirmed; 4 % are cancelled later, the others shipped. */
export function confirmOrder(w: World, o: Order): void {
  const r = w.r;
  w.out.emit("order_confirmed", "order-service", o.userId, undefined, { order_id: o.id }, w.clock);
  if (r.chance(0.04)) {
    o.reason = r.pick(CANCEL_REASONS);
    scheduleOrder(w, w.clock + 10 * MIN + r.float() * 8 * HOUR, "cancel_order", o);
  } else {
    scheduleOrder(w, w.clock + 40 * MIN + Math.min(30 * HOUR, r.exp(7 * HOUR)), "ship_order", o);
  }
}

/** order_cancelled with the reason set by whoever scheduled it; a paid order is then refunded in full. */
export function cancelOrder(w: World, o: Order): void {
  const r = w.r;
  w.out.emit("order_cancelled", "order-service", o.userId, undefined, { order_id: o.id, reason: o.reason }, w.clock);
  if (o.paid && o.paymentId !== undefined) {
    o.reason = "order_cancelled";
    o.refundAmount = o.total;
    scheduleOrder(w, w.clock + MIN + r.float() * 59 * MIN, "refund_payment", o);
  }
}
