/**
 * Card numbers planted in valid events, so the pipeline's card-number
 * scrubber always has work: about one valid event in 5000 (a random gap
 * averaging PAN_EVERY events) makes the next free-text field that asks (a
 * search query, a payment failure message) carry a Luhn-valid test card
 * number, plain or grouped with spaces or dashes. Nothing else in the output
 * holds 13 digits in a row.
 */
import type { Rand } from "./random.js";
import { TEST_PANS } from "./reference/payments.js";

const PAN_EVERY = 5000;

export class PanInjector {
  private countdown: number;
  private pending = false;

  /** Draws the first gap from the simulation stream. */
  constructor(private readonly r: Rand) {
    this.countdown = r.int(1, 2 * PAN_EVERY - 1);
  }

  /** Called for every valid event written. */
  counted(): void {
    if (--this.countdown === 0) this.pending = true;
  }

  /** The card number for this free-text field when one is due, else undefined (no draw). */
  take(): string | undefined {
    if (!this.pending) return undefined;
    this.pending = false;
    this.countdown = this.r.int(1, 2 * PAN_EVERY - 1);
    return formatPan(this.r, this.r.pick(TEST_PANS));
  }
}

function formatPan(r: Rand, pan: string): string {
  const style = r.int(0, 2);
  if (style === 0) return pan;
  const sep = style === 1 ? " " : "-";
  if (pan.length === 15) return pan.slice(0, 4) + sep + pan.slice(4, 10) + sep + pan.slice(10);
  return pan.replace(/(\d{4})(?=\d)/g, "$1" + sep);
}
