/**
 * What the simulation can schedule on its agenda. Each action, when due,
 * emits exactly one valid event (and may schedule more actions); simulation.ts
 * dispatches them with an exhaustive switch, so a kind added here without a
 * handler does not compile.
 */
import type { Order } from "./orders.js";
import type { Session } from "./session.js";

/** A session's next click (or its next checkout step). A session has at most one pending. */
export interface NextClick {
  readonly kind: "next_click";
  readonly session: Session;
}

export type Action =
  | NextClick
  /** payment_initiated: a first attempt, or a retry after a failure */
  | { readonly kind: "initiate_payment"; readonly order: Order }
  /** the attempt's outcome: payment_success or payment_failure */
  | { readonly kind: "settle_payment"; readonly order: Order }
  | { readonly kind: "confirm_order"; readonly order: Order }
  | { readonly kind: "ship_order"; readonly order: Order }
  /** stock_update for the order's next line, after shipping */
  | { readonly kind: "pick_stock"; readonly order: Order }
  | { readonly kind: "deliver_order"; readonly order: Order }
  /** payment_success of a cash-on-delivery order, after delivery */
  | { readonly kind: "collect_cash"; readonly order: Order }
  | { readonly kind: "cancel_order"; readonly order: Order }
  | { readonly kind: "refund_payment"; readonly order: Order };

/** The steps of an order's life (everything but a session's click). */
export type OrderStep = Exclude<Action, NextClick>["kind"];
