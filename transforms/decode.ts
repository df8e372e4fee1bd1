/**
 * Decode: bytes -> a JSON object. Anything else (over 1 MiB, not JSON, not an
 * object) is a dead letter, with its bytes kept for replay.
 */
import { redactPansInText } from "./scrub-pans.js";
import type { Decoded, DeadLetter, DeadLetterReason, RawMessage } from "./types.js";

export const MAX_EVENT_BYTES = 1024 * 1024;

export function decode(message: RawMessage): Decoded | DeadLetter {
  const size = byteLength(message.data);
  if (size > MAX_EVENT_BYTES) {
    return decodeFailure(message, "too_large", `event is ${size} bytes; the limit is ${MAX_EVENT_BYTES}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof message.data === "string" ? message.data : message.data.toString("utf8"));
  } catch (err) {
    return decodeFailure(message, "malformed_json", `not valid JSON: ${(err as Error).message.replace(/"[^"]*"/g, "…")}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    return decodeFailure(message, "not_an_object", `the event must be a JSON object, got ${kind}`);
  }
  return { ok: true, value: value as Record<string, unknown>, message };
}

function byteLength(data: Buffer | string): number {
  if (typeof data !== "string") return data.length;
  // A UTF-16 unit is at most 3 UTF-8 bytes: count exactly only near the limit.
  return data.length * 3 <= MAX_EVENT_BYTES ? data.length : Buffer.byteLength(data, "utf8");
}

export function decodeFailure(message: RawMessage, reason: DeadLetterReason, detail: string): DeadLetter {
  const original = typeof message.data === "string" ? message.data : message.data.toString("utf8");
  const { text, count } = redactPansInText(original);
  const attrs = message.attributes ?? {};
  return {
    ok: false,
    reason,
    detail,
    paths: [],
    raw: count > 0 || typeof message.data === "string" ? Buffer.from(text, "utf8") : message.data,
    stage: "decode",
    event_id: attrs.event_id,
    event_type: attrs.event_type,
    origin: message.origin,
    receivedAtMs: message.receivedAtMs,
    pansRedacted: count,
  };
}
