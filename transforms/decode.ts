/**
 * Decode: bytes -> a JSON object, scrubbed before any other step sees it
 * (sanitize.ts: card numbers, sensitive authentication data, depth and size
 * limits). Anything else (over 1 MiB, not JSON, not an object, nested too
 * deep) is a dead letter, with a redacted copy of its bytes kept for replay.
 */
import { deadLetter } from "./dead-letter.js";
import { jsonErrorOffset } from "./json-position.js";
import { sanitize } from "./sanitize.js";
import { redactPanNumbersInJson } from "./scrub-pans.js";
import type { Decoded, DeadLetter, RawMessage } from "./types.js";

export const MAX_EVENT_BYTES = 1024 * 1024;

export function decode(message: RawMessage): Decoded | DeadLetter {
  const size = byteLength(message.data);
  if (size > MAX_EVENT_BYTES) {
    return deadLetter(message, "too_large", `event is ${size} bytes; the limit is ${MAX_EVENT_BYTES}`, { stage: "decode" });
  }
  const text = typeof message.data === "string" ? message.data : message.data.toString("utf8");
  // Integers longer than a double holds are checked on the text, before JSON.parse rounds them.
  const numbers = redactPanNumbersInJson(text);
  let value: unknown;
  try {
    value = JSON.parse(numbers.text);
  } catch {
    const at = jsonErrorOffset(numbers.text);
    const where = at < 0 ? "" : at >= numbers.text.length ? " (it ends too early)" : ` (at character ${at + 1})`;
    return deadLetter(message, "malformed_json", `not valid JSON${where}`, { stage: "decode" });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    return deadLetter(message, "not_an_object", `the event must be a JSON object, got ${kind}`, { stage: "decode" });
  }
  const scrubbed = sanitize(value as Record<string, unknown>);
  if (!scrubbed.ok) return deadLetter(message, scrubbed.reason, scrubbed.detail, { stage: "decode" });
  return { ok: true, value: value as Record<string, unknown>, message, pansRedacted: numbers.count + scrubbed.pansRedacted };
}

function byteLength(data: Buffer | string): number {
  if (typeof data !== "string") return data.length;
  // A UTF-16 unit is at most 3 UTF-8 bytes: count exactly only near the limit.
  return data.length * 3 <= MAX_EVENT_BYTES ? data.length : Buffer.byteLength(data, "utf8");
}
