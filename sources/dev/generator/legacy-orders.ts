/**
 * The warm start's orders: the shop existed before `startTime`, so during the
 * first 72 hours of event time some orders placed before it enter the stream
 * at a later stage (payment pending, confirmed, shipped, delivered,
 * cancelled, refunded). Their earlier events were never emitted, so consumers
 * see order_* and payment_refund events of orders whose order_created is not
 * in the stream; without them a stream at 1000 events/s would hold no
 * deliveries for hours.
 */
import type { Order, World } from "./model.js";
import { popularSku } from "./catalog.js";
import { unreachable } from "./exhaustive.js";
import { deliverOrder, shipOrder } from "./fulfilment.js";
import { cancelOrder, confirmOrder, newOrder } from "./orders.js";
import { initiatePayment, pickGateway, refundPayment } from "./payments.js";
import { cumulative } from "./random.js";
import { COUNTRIES, COUNTRY_CUM, FREE_SHIPPING_FROM, SHIPPING_FEE } from "./reference/countries.js";
import { CANCEL_REASONS, REFUND_REASONS } from "./reference/payments.js";

/** The event a legacy order enters the stream with. */
type Entry = "payment_initiated" | "order_confirmed" | "order_shipped" | "order_delivered" | "order_cancelled" | "payment_refund";
const ENTRIES: readonly Entry[] = ["payment_initiated", "order_confirmed", "order_shipped", "order_delivered", "order_cancelled", "payment_refund"];
const ENTRY_CUM = cumulative([8, 6, 34, 40, 5, 7]);

/** An order placed before startTime, entering the stream with the event of its current stage. */
export function legacyOrder(w: World): void {
  const r = w.r;
  const registered = r.chance(0.85);
  const p = registered ? w.customers.registered() : undefined;
  const country = p !== undefined ? p.country : r.weighted(COUNTRY_CUM);
  const cur = COUNTRIES[country]!.cur;
  const n = r.chance(0.6) ? 1 : r.int(2, 3);
  const skus: number[] = [],
    qtys: number[] = [],
    prices: number[] = [];
  let subtotal = 0;
  for (let i = 0; i < n; i++) {
    const sku = popularSku(r, w.catalog);
    if (skus.includes(sku)) continue;
    const q = r.chance(0.85) ? 1 : 2;
    const price = w.catalog.prices[sku * 3 + cur]!;
    skus.push(sku);
    qtys.push(q);
    prices.push(price);
    subtotal += q * price;
  }
  const o: Order = newOrder(w, p?.userId, cur, country, skus, qtys, prices);
  o.total = subtotal + Math.round(subtotal * COUNTRIES[country]!.tax) + (subtotal >= FREE_SHIPPING_FROM[cur]! ? 0 : SHIPPING_FEE[cur]!);
  const entry = ENTRIES[r.weighted(ENTRY_CUM)]!;
  if (entry === "payment_initiated") {
    initiatePayment(w, o);
    return;
  }
  // already paid (by card or wallet) before the stream started
  o.method = r.chance(0.75) ? "card" : "wallet";
  o.gateway = pickGateway(r, o.method);
  o.paymentId = "pay_" + r.id12();
  o.attempts = 1;
  o.paid = true;
  switch (entry) {
    case "order_confirmed":
      return confirmOrder(w, o);
    case "order_shipped":
      return shipOrder(w, o);
    case "order_delivered":
      return deliverOrder(w, o);
    case "order_cancelled":
      o.reason = r.pick(CANCEL_REASONS);
      return cancelOrder(w, o);
    case "payment_refund":
      o.reason = r.pick(REFUND_REASONS);
      o.refundAmount = r.chance(0.5) ? o.total : o.lines[2]!;
      return refundPayment(w, o);
    default:
      return unreachable(entry, "legacy order entry");
  }
}
