/**
 * Seeded, deterministic generator of realistic e-commerce traffic that
 * follows the event contract: the envelope and its sixteen event types
 * (clickstream, orders, payments, inventory, customers), plus the duplicates
 * and invalid messages a real topic receives. A development source: it feeds
 * `ecom start`, `ecom generate`, the tests and the benchmarks, never the
 * Dataflow pipeline.
 *
 * What consumers can rely on:
 *  - The same seed and options give byte-identical output (pinned by a test).
 *  - event_time is the simulated clock, which advances by 1/ratePerSecond
 *    per message, except that ~3 % of ios/android events arrive up to 90 s
 *    late (offline buffering); duplicates repeat an earlier message (at most
 *    10 minutes old) byte for byte.
 *  - order_* and payment_refund events can refer to orders whose
 *    order_created is not in the stream (the warm start's orders), never the
 *    other way round for carts and payments: every order_created cart_id had
 *    an in-stream add_to_cart, every payment_success an in-stream
 *    payment_initiated.
 *  - No generated id, phone number, tracking number or token holds 13+
 *    digits in a row, so the only card numbers in the output are the test
 *    card numbers planted on purpose (about 1 valid event in 5000, in a
 *    search query or a payment failure message).
 *
 * How it is built: simulation.ts runs the clock and dispatches the agenda's
 * actions (actions.ts) to the state machines: session.ts with clickstream.ts
 * and accounts.ts, orders.ts, payments.ts, fulfilment.ts, inventory.ts and
 * legacy-orders.ts. serialize.ts turns each event into a message, faults.ts
 * and invalid.ts add duplicates and invalid messages, random.ts holds the
 * seeded streams, and reference/ the fixed data the traffic is drawn from.
 */
import type { GeneratedMessage } from "./message.js";
import type { GeneratorOptions } from "./options.js";
import { Simulation } from "./simulation.js";

export { CUSTOMER_POOL_SIZE, customerUserId, syntheticCustomer, type SyntheticCustomer } from "./customers.js";
export type { GeneratedMessage, MessageKind } from "./message.js";
export type { GeneratorOptions } from "./options.js";

/** Infinite stream of messages; the caller takes what it needs. */
export function* generateMessages(opts: GeneratorOptions): Generator<GeneratedMessage> {
  const sim = new Simulation(opts);
  for (;;) yield sim.next();
}

export function takeMessages(opts: GeneratorOptions, count: number): GeneratedMessage[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  const sim = new Simulation(opts);
  const out: GeneratedMessage[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = sim.next();
  return out;
}
