/**
 * The generator's randomness: seeded xoroshiro128+ streams from pure-rand,
 * used in place, and the draws built on them (floats, weighted choices, ids).
 *
 * Guarantees: the same seed gives the same sequence of draws; the simulation
 * stream and the fault stream never overlap (the second is the first jumped
 * 2^64 draws ahead); no id drawn here (`chars`, `id12`, `uuid`) holds 13 or
 * more decimal digits in a row, so none can look like a card number.
 */
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plusFromState } from "pure-rand/generator/xoroshiro128plus";
import type { JumpableRandomGenerator } from "pure-rand/types/JumpableRandomGenerator";

export const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
export const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
export const LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";
/** Capital letters without I and O, which read as digits. */
export const UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ";

const B36 = "0123456789abcdefghijklmnopqrstuvwxyz";

/** A generator seeded from (seed, salt); neighbouring seeds give unrelated streams. */
export function seedState(seed: number, salt: number): JumpableRandomGenerator {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const s = Math.trunc(seed);
  const lo = s | 0;
  const hi = Math.floor(s / 4294967296) | 0;
  // s01 = ~hi and s10 = hi ^ salt... never all zero because s01 and s10 differ when salt == 0
  const g = xoroshiro128plusFromState([~hi, ~lo ^ salt, lo, hi ^ salt]);
  for (let i = 0; i < 24; i++) g.next(); // decorrelate neighbouring seeds
  return g;
}

/**
 * The two streams of a run: the simulation's (every draw of the traffic
 * itself) and the fault stream (which ticks are duplicates or invalid, and
 * what they contain). A fault never consumes a draw of the simulation.
 */
export function simulationAndFaultStreams(seed: number): { simulation: Rand; faults: Rand } {
  const g = seedState(seed, 0);
  const fg = g.clone();
  fg.jump();
  return { simulation: new Rand(g), faults: new Rand(fg) };
}

export class Rand {
  constructor(readonly g: JumpableRandomGenerator) {}
  u32(): number {
    return this.g.next() >>> 0;
  }
  /** uniform in [0, 1) with 32 bits of resolution */
  float(): number {
    return (this.g.next() >>> 0) * 2.3283064365386963e-10;
  }
  /** uniform integer in [lo, hi] */
  int(lo: number, hi: number): number {
    return uniformInt(this.g, lo, hi);
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(arr: readonly T[]): T {
    return arr[uniformInt(this.g, 0, arr.length - 1)]!;
  }
  /** index into a cumulative weight table (see `cumulative`) */
  weighted(cum: readonly number[]): number {
    const x = this.float() * cum[cum.length - 1]!;
    let i = 0;
    while (cum[i]! <= x) i++;
    return i;
  }
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }
  digits(n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += (this.g.next() >>> 0) % 10;
    return s;
  }
  /** n random characters of `alphabet`; never 13+ digits in a row (so never a PAN) */
  chars(n: number, alphabet: string): string {
    for (;;) {
      let s = "";
      for (let i = 0; i < n; i++) s += alphabet[(this.g.next() >>> 0) % alphabet.length];
      if (n < 13 || !/\d{13}/.test(s)) return s;
    }
  }
  /** 12 lowercase base-36 characters (at most 12 digits in a row, so never a PAN) */
  id12(): string {
    return b36x6(this.g.next() >>> 0) + b36x6(this.g.next() >>> 0);
  }
  /**
   * Random UUID v4, lowercase. Ids whose hex digits contain a run of 13 or
   * more decimal digits (dashes ignored) are redrawn, so no event id can ever
   * look like a card number to a PAN scrubber. Built as one flat string (no
   * rope of concatenations), which keeps long-lived ids cheap for the GC.
   */
  uuid(): string {
    const g = this.g;
    const c = UUID_CODES;
    for (;;) {
      const a = g.next() >>> 0;
      const b = ((g.next() & 0xffff0fff) | 0x00004000) >>> 0;
      const v = ((g.next() & 0x3fffffff) | 0x80000000) >>> 0;
      const d = g.next() >>> 0;
      if (hasLongDecimalRun(a, b, v, d)) continue;
      let x = a;
      for (let k = 7; k >= 0; k--, x >>>= 4) c[k] = HEX_CODES[x & 15]!;
      x = b;
      for (let k = 17; k >= 14; k--, x >>>= 4) c[k] = HEX_CODES[x & 15]!;
      for (let k = 12; k >= 9; k--, x >>>= 4) c[k] = HEX_CODES[x & 15]!;
      x = v;
      for (let k = 27; k >= 24; k--, x >>>= 4) c[k] = HEX_CODES[x & 15]!;
      for (let k = 22; k >= 19; k--, x >>>= 4) c[k] = HEX_CODES[x & 15]!;
      x = d;
      for (let k = 35; k >= 28; k--, x >>>= 4) c[k] = HEX_CODES[x & 15]!;
      return String.fromCharCode.apply(null, c);
    }
  }
}

/** Running sums of `weights`, the table `Rand.weighted` draws from. */
export function cumulative(weights: readonly number[]): number[] {
  const out: number[] = [];
  let s = 0;
  for (const w of weights) out.push((s += w));
  return out;
}

const HEX_CODES: number[] = [];
for (let i = 0; i < 16; i++) HEX_CODES.push(i.toString(16).charCodeAt(0));
const UUID_CODES: number[] = new Array<number>(36).fill(45); // "-" at 8, 13, 18, 23 stay

function b36x6(x: number): string {
  let s = B36[x % 36]!;
  x = Math.floor(x / 36);
  for (let i = 1; i < 6; i++) {
    s += B36[x % 36];
    x = Math.floor(x / 36);
  }
  return s;
}

function hasLongDecimalRun(a: number, b: number, c: number, d: number): boolean {
  let run = 0;
  for (let w = 0; w < 4; w++) {
    const v = w === 0 ? a : w === 1 ? b : w === 2 ? c : d;
    for (let sh = 28; sh >= 0; sh -= 4) {
      if (((v >>> sh) & 15) < 10) {
        if (++run >= 13) return true;
      } else run = 0;
    }
  }
  return false;
}
