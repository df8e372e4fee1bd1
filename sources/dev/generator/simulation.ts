/**
 * The simulation: a discrete-event simulation over simulated (event) time.
 *
 * Each tick:
 *  1. advance the clock by exactly 1/ratePerSecond seconds (valid, duplicate
 *     and invalid messages all take a tick);
 *  2. on the fault stream, decide whether the tick is a duplicate or an
 *     invalid message (faults.ts); if so, that is the tick's message;
 *  3. otherwise emit one valid event: the next due action on the agenda (a
 *     session's next click, a payment result, a shipment, ...), or when
 *     nothing is due a spontaneous one (a new session, an inventory event,
 *     ...). So the number of concurrent sessions adapts itself to the rate.
 *
 * Above ~2.3k events/s think times between clicks are compressed, to keep
 * the number of open sessions (memory) bounded at about 20k.
 *
 * Warm start: the shop already existed before `startTime`. During the first
 * half hour of event time some sessions are entered mid-way, and during the
 * first 72 hours some orders placed before `startTime` enter the stream at a
 * later stage (legacy-orders.ts). Both decay linearly to nothing.
 *
 * Guarantee: the output is a pure function of the options. Every draw comes
 * from the two streams of random.ts, in an order fixed by the code, and
 * nothing depends on wall-clock time, hashing order or heap internals.
 */
import type { Action, World } from "./model.js";
import { Agenda } from "./agenda.js";
import { buildCatalog } from "./catalog.js";
import { DeviceContexts } from "./context.js";
import { Customers } from "./customers.js";
import { unreachable } from "./exhaustive.js";
import { Faults } from "./faults.js";
import { deliverOrder, shipOrder } from "./fulfilment.js";
import { pickStock, priceChange, stockUpdate } from "./inventory.js";
import { legacyOrder } from "./legacy-orders.js";
import type { GeneratedMessage } from "./message.js";
import { type GeneratorOptions, checkOptions } from "./options.js";
import { cancelOrder, confirmOrder, reorder } from "./orders.js";
import { PanInjector } from "./pans.js";
import { collectCash, initiatePayment, refundPayment, settlePayment } from "./payments.js";
import { cumulative, simulationAndFaultStreams } from "./random.js";
import { EventWriter } from "./serialize.js";
import { sessionStep, startSession } from "./session.js";
import { HOUR, MIN } from "./time.js";

const TARGET_MAX_SESSIONS = 20_000;
const WARM_SESSION_HORIZON = 30 * MIN;
const LEGACY_ORDER_HORIZON = 72 * HOUR;

/** What happens on a tick when nothing on the agenda is due, with its base weight. */
type Spontaneous = "new_session" | "warm_session" | "legacy_order" | "reorder" | "stock_update" | "price_change";
const SPONTANEOUS: readonly Spontaneous[] = ["new_session", "warm_session", "legacy_order", "reorder", "stock_update", "price_change"];
const SPONTANEOUS_WEIGHTS = [100, 50, 10, 0.6, 14, 2.5];
const WARM_SESSION = SPONTANEOUS.indexOf("warm_session");
const LEGACY_ORDER = SPONTANEOUS.indexOf("legacy_order");

export class Simulation {
  private readonly w: World;
  private readonly faults: Faults;
  private readonly startMs: number;
  private readonly msPerTick: number;
  private n = 0;
  private readonly spWeights = SPONTANEOUS_WEIGHTS.slice();
  private readonly spCum = cumulative(SPONTANEOUS_WEIGHTS);
  private spCumAt = -Infinity;

  constructor(opts: GeneratorOptions) {
    const o = checkOptions(opts);
    const { simulation: r, faults: f } = simulationAndFaultStreams(opts.seed);
    this.faults = new Faults(f, o.duplicateFraction, o.invalidFraction);
    this.startMs = o.startMs;
    this.msPerTick = 1000 / o.rate;
    // About 8 sessions are open per event/s; beyond ~2.3k events/s think
    // times shrink so that no more than TARGET_MAX_SESSIONS are open.
    const thinkScale = Math.min(1, TARGET_MAX_SESSIONS / (o.rate * 8.5));
    // The catalog, then the first card-number gap: the first draws of the simulation stream.
    const catalog = buildCatalog(r);
    const pans = new PanInjector(r);
    this.w = {
      r,
      clock: 0,
      agenda: new Agenda<Action>(),
      catalog,
      customers: new Customers(Math.trunc(opts.seed), r),
      out: new EventWriter(r, pans),
      pans,
      contexts: new DeviceContexts(),
      sessionPool: [],
      thinkScale,
    };
  }

  next(): GeneratedMessage {
    const w = this.w;
    const n = this.n++;
    w.clock = this.startMs + n * this.msPerTick;
    const fault = this.faults.next(n, w.clock);
    if (fault !== undefined) return fault;
    if (w.agenda.peekDue() <= w.clock) this.run(w.agenda.pop());
    else this.spontaneous();
    const out = w.out;
    this.faults.remember(out.data, out.id, out.type, out.time);
    return out.message();
  }

  private run(a: Action): void {
    const w = this.w;
    switch (a.kind) {
      case "next_click":
        return sessionStep(w, a.session);
      case "initiate_payment":
        return initiatePayment(w, a.order);
      case "settle_payment":
        return settlePayment(w, a.order);
      case "confirm_order":
        return confirmOrder(w, a.order);
      case "ship_order":
        return shipOrder(w, a.order);
      case "pick_stock":
        return pickStock(w, a.order);
      case "deliver_order":
        return deliverOrder(w, a.order);
      case "collect_cash":
        return collectCash(w, a.order);
      case "cancel_order":
        return cancelOrder(w, a.order);
      case "refund_payment":
        return refundPayment(w, a.order);
      default:
        return unreachable(a, "action");
    }
  }

  private spontaneous(): void {
    const w = this.w;
    const elapsed = w.clock - this.startMs;
    // refresh the decaying warm-start weights about once per simulated minute
    if (elapsed - this.spCumAt >= MIN || elapsed < this.spCumAt) {
      this.spCumAt = elapsed;
      const wt = this.spWeights;
      wt[WARM_SESSION] = SPONTANEOUS_WEIGHTS[WARM_SESSION]! * Math.max(0, 1 - elapsed / WARM_SESSION_HORIZON);
      wt[LEGACY_ORDER] = SPONTANEOUS_WEIGHTS[LEGACY_ORDER]! * Math.max(0, 1 - elapsed / LEGACY_ORDER_HORIZON);
      let s = 0;
      for (let i = 0; i < wt.length; i++) this.spCum[i] = s += wt[i]!;
    }
    const choice = SPONTANEOUS[w.r.weighted(this.spCum)]!;
    switch (choice) {
      case "new_session":
        return startSession(w, false);
      case "warm_session":
        return startSession(w, true);
      case "legacy_order":
        return legacyOrder(w);
      case "reorder":
        return reorder(w);
      case "stock_update":
        return stockUpdate(w);
      case "price_change":
        return priceChange(w);
      default:
        return unreachable(choice, "spontaneous event");
    }
  }
}
