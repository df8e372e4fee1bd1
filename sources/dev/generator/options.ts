/**
 * The generator's options and their validation. A bad option throws a
 * RangeError or TypeError naming it before anything is generated.
 */
export interface GeneratorOptions {
  seed: number; // same seed + options => byte-identical output
  ratePerSecond: number; // simulated events per second of event time (also used by callers for pacing)
  startTime: Date; // event_time of the first event
  duplicateFraction?: number; // 0..1: fraction of emitted messages that are exact re-sends of an earlier message
  invalidFraction?: number; // 0..1: fraction that are invalid (garbage, non-object, unknown type/version, missing field, wrong type, bad id)
}

export interface CheckedOptions {
  rate: number;
  startMs: number;
  duplicateFraction: number;
  invalidFraction: number;
}

/** Checks everything but the seed (random.ts checks that when it seeds the streams). */
export function checkOptions(opts: GeneratorOptions): CheckedOptions {
  if (!opts || typeof opts !== "object") throw new TypeError("options required");
  const rate = opts.ratePerSecond;
  if (!(typeof rate === "number" && Number.isFinite(rate) && rate > 0)) throw new RangeError(`ratePerSecond must be > 0, got ${rate}`);
  if (!(opts.startTime instanceof Date) || Number.isNaN(opts.startTime.getTime())) throw new TypeError("startTime must be a valid Date");
  const duplicateFraction = checkFraction("duplicateFraction", opts.duplicateFraction);
  const invalidFraction = checkFraction("invalidFraction", opts.invalidFraction);
  if (duplicateFraction + invalidFraction > 1) throw new RangeError("duplicateFraction + invalidFraction must be <= 1");
  return { rate, startMs: opts.startTime.getTime(), duplicateFraction, invalidFraction };
}

function checkFraction(name: string, v: number | undefined): number {
  if (v === undefined) return 0;
  if (!(typeof v === "number" && v >= 0 && v <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${v}`);
  return v;
}
