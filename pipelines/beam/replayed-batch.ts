/**
 * How a batch of step outcomes crosses from the Beam sink step to the commit
 * worker thread: as JSON text. Parsing JSON gives the worker objects with
 * fast shapes; a structured clone of the same object graph made the commit
 * about a third slower (measured on 200 K events). The cycle
 * message -> outcome -> message is cut on the way and restored on arrival.
 */
import type { DeadLetter, Decoded, RawMessage, ValidEvent } from "../../transforms/types.js";
import type { ElementSteps } from "../ingest-steps.js";

/** A message together with the outcome the Beam steps computed for it (replayed by the commit, not recomputed). */
export interface ReplayedMessage extends RawMessage {
  outcome: ValidEvent | DeadLetter;
}

type Holder = Record<string, unknown>;

export function encodeBatch(batch: readonly ReplayedMessage[]): string {
  return JSON.stringify(batch, function (this: Holder, key, value: unknown) {
    // Only a valid outcome's back-link to its message; an event field called "message" stays.
    return key === "message" && this.ok === true && "eventType" in this ? undefined : value;
  });
}

export function decodeBatch(text: string): ReplayedMessage[] {
  const batch = JSON.parse(text, function (this: Holder, key, value: unknown) {
    // Buffers (a dead letter's raw bytes, a Pub/Sub body) come back as {type: "Buffer", data}.
    const isBufferSlot = (key === "raw" && "reason" in this) || (key === "data" && "origin" in this);
    if (isBufferSlot && value !== null && typeof value === "object" && (value as Holder).type === "Buffer") {
      return Buffer.from((value as { data: number[] }).data);
    }
    return value;
  }) as ReplayedMessage[];
  for (const m of batch) if (m.outcome.ok) m.outcome.message = m;
  return batch;
}

/**
 * Steps that hand back the outcome Beam computed (a decode-stage dead letter
 * at Decode, the rest at Validate), so a sink's commit dedupes, claims,
 * projects and writes exactly as the local runner does, parsing nothing twice.
 */
export const REPLAY_STEPS: ElementSteps = [
  {
    name: "Decode",
    run: (m: RawMessage) => {
      const outcome = (m as ReplayedMessage).outcome;
      return !outcome.ok && outcome.stage === "decode" ? outcome : ({ ok: true, value: {}, message: m, pansRedacted: 0 } satisfies Decoded);
    },
  },
  { name: "Validate", run: (d: Decoded): ValidEvent | DeadLetter => (d.message as ReplayedMessage).outcome },
];
