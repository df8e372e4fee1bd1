/**
 * The state one simulation shares between its state machines (sessions,
 * orders, payments, fulfilment, inventory): the simulation stream, the
 * simulated clock, the agenda, the live catalog, the customers met so far and
 * the event writer. simulation.ts builds it; the state machines read and
 * change it and never keep state of their own, so every run starts fresh.
 */
import type { Action } from "./actions.js";
import type { Agenda } from "./agenda.js";
import type { Catalog } from "./catalog.js";
import type { DeviceContexts } from "./context.js";
import type { Customers } from "./customers.js";
import type { PanInjector } from "./pans.js";
import type { Rand } from "./random.js";
import type { EventWriter } from "./serialize.js";
import type { Session } from "./session.js";

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
