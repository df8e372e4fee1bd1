/**
 * The payment state machine: initiated -> success or failure; a failure is
 * retried (at most three attempts, a new payment_id each, sometimes with
 * another method) or the order is cancelled; cash on delivery is collected
 * after delivery; refunds follow cancellations and returns.
 *
 * Guarantees: every payment_success and payment_failure refers to a
 * payment_initiated of the same order, amount and currency; a refund never
 * exceeds the order total. Results come from the gateway itself (source
 * `gateway:<name>`, no user_id) 70 % of the time, else from the payment service.
 */
import type { Order, World } from "./model.js";
import { unreachable } from "./exhaustive.js";
import { scheduleOrder } from "./orders.js";
import { ALNUM, LOWER_ALNUM, type Rand, UPPER_ALNUM } from "./random.js";
import { COUNTRIES, CURRENCIES } from "./reference/countries.js";
import { BANK_FAILURES, CARD_BRANDS, CARD_FAILURES, type Gateway, type PaymentMethod, WALLET_FAILURES } from "./reference/payments.js";
import { HOUR, MIN, SEC } from "./time.js";

/** payment_initiated, and the result (or, for cash on delivery, the confirmation) scheduled. */
export function initiatePayment(w: World, o: Order): void {
  const r = w.r;
  o.attempts++;
  let method = o.method;
  // A retry keeps the method unless the customer switches (40 %); cash on delivery is not offered on a retry.
  if (method === undefined || o.attempts === 1 || r.chance(0.4)) {
    method = pickMethod(r, o.country);
    if (o.attempts > 1 && method === "cod") method = "wallet";
  }
  o.method = method;
  o.gateway = pickGateway(r, method);
  o.paymentId = "pay_" + r.id12();
  const card = method === "card" ? { brand: r.pick(CARD_BRANDS), last4: r.digits(4), token: "tok_" + r.chars(16, ALNUM) } : undefined;
  const payload = {
    payment_id: o.paymentId,
    order_id: o.id,
    amount_minor: o.total,
    currency: CURRENCIES[o.cur],
    method,
    gateway: o.gateway,
    card,
  };
  w.out.emit("payment_initiated", "payment-service", o.userId, undefined, payload, w.clock);
  if (method === "cod") {
    scheduleOrder(w, w.clock + 5 * SEC + r.float() * 55 * SEC, "confirm_order", o); // paid on delivery
  } else {
    const delay = method === "bank_transfer" ? 5 * MIN + r.float() * 4 * HOUR : 700 + r.float() * 7 * SEC;
    scheduleOrder(w, w.clock + delay, "settle_payment", o);
  }
}

/** payment_success (then the order is confirmed) or payment_failure (then a retry or a cancellation). */
export function settlePayment(w: World, o: Order): void {
  const r = w.r;
  const gateway = o.gateway!;
  const viaGateway = r.chance(0.7);
  const source = viaGateway ? "gateway:" + gateway : "payment-service";
  const userId = viaGateway ? undefined : o.userId;
  if (r.chance(o.attempts === 1 ? 0.9 : 0.78)) {
    o.paid = true;
    const payload = {
      payment_id: o.paymentId!,
      order_id: o.id,
      amount_minor: o.total,
      currency: CURRENCIES[o.cur],
      gateway,
      gateway_txn_id: gatewayTxnId(r, gateway),
    };
    w.out.emit("payment_success", source, userId, undefined, payload, w.clock);
    scheduleOrder(w, w.clock + 2 * SEC + r.float() * 58 * SEC, "confirm_order", o);
    return;
  }
  const list = o.method === "card" ? CARD_FAILURES : o.method === "wallet" ? WALLET_FAILURES : BANK_FAILURES;
  const [code, message] = r.pick(list);
  const pan = w.pans.take();
  const failureMessage = pan !== undefined ? "Card " + pan + " was declined by the issuer" : r.chance(0.85) ? message : undefined;
  const payload = {
    payment_id: o.paymentId!,
    order_id: o.id,
    amount_minor: o.total,
    currency: CURRENCIES[o.cur],
    gateway,
    failure_code: code,
    failure_message: failureMessage,
  };
  w.out.emit("payment_failure", source, userId, undefined, payload, w.clock);
  if (o.attempts < 3 && r.chance(0.6)) {
    scheduleOrder(w, w.clock + 20 * SEC + r.float() * 280 * SEC, "initiate_payment", o);
  } else {
    o.reason = "payment_failed";
    scheduleOrder(w, w.clock + 15 * MIN + r.float() * 30 * MIN, "cancel_order", o);
  }
}

/** Cash on delivery: the courier's payment_success, after delivery. */
export function collectCash(w: World, o: Order): void {
  o.paid = true;
  const gateway = o.gateway!;
  const payload = {
    payment_id: o.paymentId!,
    order_id: o.id,
    amount_minor: o.total,
    currency: CURRENCIES[o.cur],
    gateway,
    gateway_txn_id: gatewayTxnId(w.r, gateway),
  };
  w.out.emit("payment_success", "payment-service", o.userId, undefined, payload, w.clock);
}

/** payment_refund of o.refundAmount for o.reason, both set by whoever scheduled it. */
export function refundPayment(w: World, o: Order): void {
  const payload = {
    refund_id: "re_" + w.r.id12(),
    payment_id: o.paymentId!,
    order_id: o.id,
    amount_minor: o.refundAmount,
    currency: CURRENCIES[o.cur],
    reason: o.reason,
  };
  w.out.emit("payment_refund", "payment-service", o.userId, undefined, payload, w.clock);
}

/** Cards mostly, then wallets; bank transfers only in the euro zone; a few pay cash on delivery. */
function pickMethod(r: Rand, country: number): PaymentMethod {
  const x = r.float();
  const eu = COUNTRIES[country]!.cur === 1;
  if (x < 0.68) return "card";
  if (x < 0.9) return "wallet";
  if (x < 0.96) return eu ? "bank_transfer" : "card";
  return "cod";
}

export function pickGateway(r: Rand, method: PaymentMethod): Gateway {
  switch (method) {
    case "card":
      return r.pick<Gateway>(["stripe", "stripe", "adyen", "braintree"]);
    case "wallet":
      return r.chance(0.7) ? "paypal" : "stripe";
    case "bank_transfer":
      return "adyen";
    case "cod":
      return "offline";
    default:
      return unreachable(method, "payment method");
  }
}

/** A transaction id in the gateway's own format. */
function gatewayTxnId(r: Rand, gw: Gateway): string {
  switch (gw) {
    case "stripe":
      return "ch_" + r.chars(24, ALNUM);
    case "adyen":
      return "psp_" + r.id12().toUpperCase();
    case "paypal":
      return r.chars(17, UPPER_ALNUM);
    case "braintree":
      return r.chars(8, LOWER_ALNUM);
    case "offline":
      return "cod_" + r.id12();
    default:
      return unreachable(gw, "gateway");
  }
}
