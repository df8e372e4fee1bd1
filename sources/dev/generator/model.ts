/**
 * The simulation's model, types only: the shared world, the sessions and
 * orders its state machines move along, and the actions it schedules. Every
 * state machine imports these from here, never from another machine, so the
 * modules depend on one another in one direction only.
 */
import type { Agenda } from "./agenda.js";
import type { Catalog } from "./catalog.js";
import type { DeviceContexts } from "./context.js";
import type { Customers, Profile } from "./customers.js";
import type { PanInjector } from "./pans.js";
import type { Rand } from "./random.js";
import type { Gateway, PaymentMethod } from "./reference/payments.js";
import type { EventWriter, SessionEnvelope } from "./serialize.js";

/**
 * The state one simulation shares between its state machines (sessions,
 * orders, payments, fulfilment, inventory): the simulation stream, the
 * simulated clock, the agenda, the live catalog, the customers met so far and
 * the event writer. simulation.ts builds it; the state machines read and
 * change it and never keep state of their own, so every run starts fresh.
 */
export interface World {
  /** The simulation stream: every draw of the traffic, in the order the events are made. */
  readonly r: Rand;
  /** Simulated time of the current tick (ms since the epoch); server-side events carry it as event_time. */
  clock: number;
  readonly agenda: Agenda<Action>;
  readonly catalog: Catalog;
  readonly customers: Customers;
  readonly out: EventWriter;
  readonly pans: PanInjector;
  readonly contexts: DeviceContexts;
  /** Ended sessions, recycled by new ones (fewer objects for the GC to move around). */
  readonly sessionPool: Session[];
  /** Multiplies think times between clicks: 1 up to ~2.3k events/s, less above (see simulation.ts). */
  readonly thinkScale: number;
}

/** Where a session is: browsing, or a step of signing in or checking out. */
export type Phase = "browse" | "login_retry" | "checkout_login" | "place_order" | "confirmation_page";

export interface Session extends SessionEnvelope {
  profile: Profile | undefined;
  /** index into PLATFORM_SOURCES */
  platform: number;
  /** index into COUNTRIES */
  country: number;
  /** index into CURRENCIES */
  cur: number;
  cartId: string | undefined;
  cartSkus: number[];
  cartQtys: number[];
  cartPrices: number[];
  steps: number;
  maxSteps: number;
  /** previous page: its path (+query) on this site, or an external URL */
  lastRef: string | undefined;
  /** index of the last product seen, -1 for none */
  lastProduct: number;
  lastTime: number;
  phase: Phase;
  triedLogin: boolean;
  /** made once per session object: pooled sessions reuse it */
  nextClick: NextClick | undefined;
}

export interface Order {
  id: string;
  userId: string | undefined;
  /** index into CURRENCIES */
  cur: number;
  /** index into COUNTRIES */
  country: number;
  total: number;
  /** index into WAREHOUSES: where it ships from */
  warehouse: number;
  lines: number[]; // packed order lines: sku, quantity, unit price (minor), sku, ... (exact size: orders live for hours)
  /**
   * The payment attempt in flight, set by initiatePayment (or, for an order
   * paid before the stream started, by legacyOrder) before any step that
   * reads them is scheduled.
   */
  method: PaymentMethod | undefined;
  gateway: Gateway | undefined;
  paymentId: string | undefined;
  attempts: number;
  paid: boolean;
  /** the next line pick_stock takes out of stock */
  stockIdx: number;
  reason: string; // cancel or refund reason for the scheduled action
  refundAmount: number;
}

/** What the simulation can schedule on its agenda. Each action, when due, emits exactly one valid event (and may schedule more); simulation.ts dispatches them with an exhaustive switch, so a kind added here without a handler does not compile. */
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
