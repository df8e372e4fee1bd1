/**
 * Duplicates and invalid messages, on the fault stream. Each tick after the
 * first draws once: below duplicateFraction it is a duplicate, below
 * duplicateFraction + invalidFraction an invalid message, else a valid event.
 *
 * Guarantees: a duplicate repeats an earlier valid message byte for byte
 * (data, event_id, attributes), at most 10 minutes of event time old, with a
 * bias to recent ones; invalid messages are made from recent valid ones (see
 * invalid.ts). With both fractions 0 the fault stream is never drawn and no
 * history is kept.
 */
import { drawFlavour, invalidMessage } from "./invalid.js";
import type { GeneratedMessage } from "./message.js";
import type { Rand } from "./random.js";
import { MIN } from "./time.js";

const RING = 256; // recent valid messages kept; a power of two
const MAX_DUPLICATE_AGE = 10 * MIN;

export class Faults {
  /** false when both fractions are 0: then nothing is drawn or remembered */
  readonly active: boolean;
  private readonly ringData: string[] = new Array(RING);
  private readonly ringId: string[] = new Array(RING);
  private readonly ringType: string[] = new Array(RING);
  private readonly ringTime = new Float64Array(RING);
  private ringHead = 0;
  private ringCount = 0;

  constructor(
    private readonly f: Rand,
    private readonly dup: number,
    private readonly inv: number,
  ) {
    this.active = dup > 0 || inv > 0;
  }

  /** The fault for tick `n` at `clock`, or undefined when the tick is a valid event. */
  next(n: number, clock: number): GeneratedMessage | undefined {
    if (n === 0 || !this.active) return undefined;
    const x = this.f.float();
    if (x < this.dup) return this.duplicate(clock);
    if (x < this.dup + this.inv) {
      // the flavour is drawn before the source message: that order is part of the output
      const flavour = drawFlavour(this.f);
      return invalidMessage(this.f, flavour, this.ringData[this.recentIndex(clock)]!);
    }
    return undefined;
  }

  /** Keeps a valid message for later duplicates and invalid variants. */
  remember(data: string, id: string, type: string, time: number): void {
    if (!this.active) return;
    const h = this.ringHead;
    this.ringData[h] = data;
    this.ringId[h] = id;
    this.ringType[h] = type;
    this.ringTime[h] = time;
    this.ringHead = (h + 1) & (RING - 1);
    if (this.ringCount < RING) this.ringCount++;
  }

  private duplicate(clock: number): GeneratedMessage {
    const idx = this.recentIndex(clock);
    const id = this.ringId[idx]!;
    return { data: this.ringData[idx]!, attributes: { event_id: id, event_type: this.ringType[idx]! }, kind: "duplicate", eventId: id };
  }

  /** A recent ring slot, biased to the newest; the newest when the draw is too old. */
  private recentIndex(clock: number): number {
    const u = this.f.float();
    const k = Math.floor(u * u * this.ringCount);
    let idx = (this.ringHead - 1 - k) & (RING - 1);
    if (this.ringTime[idx]! < clock - MAX_DUPLICATE_AGE) idx = (this.ringHead - 1) & (RING - 1);
    return idx;
  }
}
