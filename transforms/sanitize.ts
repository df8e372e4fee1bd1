/**
 * What every decoded message goes through before any step reads it: depth
 * and size limits, card numbers redacted in every string, object key and
 * number, and sensitive authentication data (card holder, CVV, expiry, PIN,
 * passwords) dropped. So nothing after decoding, dead letters included,
 * ever holds them.
 *
 * The walk is iterative (an explicit stack): no input can overflow the call
 * stack, however deep it is nested.
 */
import { isCardName, isSensitiveName } from "./personal.js";
import { PAN_REDACTION, holdsPan, numberHoldsPan, redactPansInText } from "./scrub-pans.js";

/** Deepest nesting of objects and arrays a message may have (the contract's deepest is 4). */
export const MAX_DEPTH = 32;
/** Most values (object members and array elements) a message may hold. */
export const MAX_VALUES = 200_000;

export type SanitizeResult = { ok: true; pansRedacted: number; dropped: number } | { ok: false; reason: "too_deep" | "too_large"; detail: string };

interface Frame {
  container: Record<string, unknown> | unknown[];
  depth: number;
  inCard: boolean;
}

const SHORTEST_PAN = 13;

/** Scrubs `root` in place. */
export function sanitize(root: Record<string, unknown> | unknown[]): SanitizeResult {
  const stack: Frame[] = [{ container: root, depth: 1, inCard: false }];
  let pans = 0;
  let dropped = 0;
  let values = 0;
  while (stack.length > 0) {
    const { container, depth, inCard } = stack.pop()!;
    if (depth > MAX_DEPTH) {
      return { ok: false, reason: "too_deep", detail: `the event is nested deeper than ${MAX_DEPTH} levels` };
    }
    if (Array.isArray(container)) {
      values += container.length;
      for (let i = 0; i < container.length; i++) {
        const v = container[i];
        if (typeof v === "string") {
          if (v.length >= SHORTEST_PAN) {
            const r = redactPansInText(v);
            if (r.count) [container[i], pans] = [r.text, pans + r.count];
          }
        } else if (typeof v === "number") {
          if (numberHoldsPan(v)) [container[i], pans] = [PAN_REDACTION, pans + 1];
        } else if (v !== null && typeof v === "object") {
          stack.push({ container: v as Record<string, unknown>, depth: depth + 1, inCard });
        }
      }
    } else {
      let renamed = false;
      for (const key of Object.keys(container)) {
        values++;
        if (isSensitiveName(key, inCard)) {
          delete container[key];
          dropped++;
          continue;
        }
        if (key.length >= SHORTEST_PAN && holdsPan(key)) renamed = true;
        const v = container[key];
        if (typeof v === "string") {
          if (v.length >= SHORTEST_PAN) {
            const r = redactPansInText(v);
            if (r.count) [container[key], pans] = [r.text, pans + r.count];
          }
        } else if (typeof v === "number") {
          if (numberHoldsPan(v)) [container[key], pans] = [PAN_REDACTION, pans + 1];
        } else if (v !== null && typeof v === "object") {
          stack.push({ container: v as Record<string, unknown>, depth: depth + 1, inCard: inCard || isCardName(key) });
        }
      }
      if (renamed) pans += renameKeys(container);
    }
    if (values > MAX_VALUES) {
      return { ok: false, reason: "too_large", detail: `the event holds more than ${MAX_VALUES} values` };
    }
  }
  return { ok: true, pansRedacted: pans, dropped };
}

/** Keys that hold a card number get it redacted, in place, keeping the key order. */
function renameKeys(obj: Record<string, unknown>): number {
  const entries = Object.entries(obj);
  let count = 0;
  for (const [k] of entries) delete obj[k];
  for (const [k, v] of entries) {
    let name = k;
    const r = redactPansInText(k);
    if (r.count) {
      count += r.count;
      name = r.text;
      for (let n = 2; Object.hasOwn(obj, name); n++) name = `${r.text}#${n}`;
    }
    // defineProperty: a key such as `__proto__` stays a plain member, as JSON.parse made it.
    Object.defineProperty(obj, name, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return count;
}
