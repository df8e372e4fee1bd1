/**
 * Fulfilment of a confirmed order: order_shipped with a carrier that serves
 * the customer's country and a tracking number in that carrier's format, the
 * stock taken out line by line, and order_delivered hours to days later
 * (0.5 % are lost in transit and never delivered). After delivery: cash
 * collection for cash-on-delivery orders, or, for 4 % of the others, a return
 * and its refund.
 */
import type { Order, World } from "./model.js";
import { unreachable } from "./exhaustive.js";
import { scheduleOrder } from "./orders.js";
import { type Rand, UPPER } from "./random.js";
import { type Carrier, COUNTRIES, UPS_SHIPPERS } from "./reference/countries.js";
import { REFUND_REASONS } from "./reference/payments.js";
import { HOUR, MIN } from "./time.js";

export function shipOrder(w: World, o: Order): void {
  const r = w.r;
  const carrier = r.pick(COUNTRIES[o.country]!.carriers);
  const payload = { order_id: o.id, carrier, tracking_number: trackingNumber(r, carrier) };
  w.out.emit("order_shipped", "order-service", o.userId, undefined, payload, w.clock);
  o.stockIdx = 0;
  scheduleOrder(w, w.clock + 500 + r.float() * 4500, "pick_stock", o);
  if (!r.chance(0.005)) scheduleOrder(w, w.clock + 6 * HOUR + Math.min(90 * HOUR, r.exp(22 * HOUR)), "deliver_order", o); // else lost in transit
}

export function deliverOrder(w: World, o: Order): void {
  const r = w.r;
  w.out.emit("order_delivered", "order-service", o.userId, undefined, { order_id: o.id }, w.clock);
  if (o.method === "cod" && !o.paid) {
    scheduleOrder(w, w.clock + MIN + r.float() * 29 * MIN, "collect_cash", o);
  } else if (r.chance(0.04)) {
    o.reason = r.pick(REFUND_REASONS);
    o.refundAmount = r.chance(0.4) ? o.total : Math.min(o.total, o.lines[2]!);
    scheduleOrder(w, w.clock + 2 * HOUR + r.float() * 70 * HOUR, "refund_payment", o);
  }
}

/** Fictional tracking numbers in each carrier's format, none with 13 digits in a row. */
function trackingNumber(r: Rand, carrier: Carrier): string {
  switch (carrier) {
    case "UPS":
      return "1Z" + r.pick(UPS_SHIPPERS) + "03" + r.digits(8);
    case "FedEx":
      return r.digits(12);
    case "DHL":
      return r.digits(10);
    case "Royal Mail":
      return r.chars(2, UPPER) + r.digits(9) + "GB";
    case "Colissimo":
      return "6A" + r.digits(11);
    case "PostNL":
      return "3S" + r.chars(4, UPPER) + r.digits(7);
    default:
      return unreachable(carrier, "carrier");
  }
}
