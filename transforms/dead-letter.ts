/**
 * Dead letters that echo nothing they reject: every column is scrubbed like
 * the event. The bytes kept for replay are the scrubbed value (or, for a
 * message that could not be decoded, its text with card numbers and
 * sensitive fields redacted); the event id is kept only when it is a UUID,
 * the event type only when it reads like a type name; the detail and the
 * failing paths lose card numbers and emails. A parse error gives a
 * position, never a snippet of the input.
 */
import { createHash } from "node:crypto";
import type { DeadLetterRow } from "../schemas/ops.js";
import { holdsPan, redactPansInRawText, redactPansInText } from "./scrub-pans.js";
import { isSensitiveName } from "./personal.js";
import type { DeadLetter, DeadLetterReason, DeadLetterStage, RawMessage } from "./types.js";

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const TYPE_LIKE = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;
const EMAIL = /[^\s@"'<>()[\]{},;:]+@[^\s@"'<>()[\]{},;:]+/g;
const MAX_DETAIL = 2000;

export interface DeadLetterParts {
  stage: DeadLetterStage;
  /** The decoded value, already scrubbed (sanitize.ts); absent when the message could not be decoded. */
  value?: unknown;
  paths?: readonly string[];
  /** Card numbers already redacted from `value`. */
  pansRedacted?: number;
}

export function deadLetter(message: RawMessage, reason: DeadLetterReason, detail: string, parts: DeadLetterParts): DeadLetter {
  let raw: Buffer;
  let pans = parts.pansRedacted ?? 0;
  if (parts.value !== undefined) raw = Buffer.from(JSON.stringify(parts.value), "utf8");
  else {
    const original = typeof message.data === "string" ? message.data : message.data.toString("utf8");
    const r = redactPansInRawText(original);
    pans += r.count;
    raw = Buffer.from(dropSensitiveInText(r.text), "utf8");
  }
  const value = parts.value !== null && typeof parts.value === "object" ? (parts.value as Record<string, unknown>) : {};
  const attrs = message.attributes ?? {};
  const version = value.schema_version;
  return {
    ok: false,
    reason,
    detail: scrubLabel(detail).slice(0, MAX_DETAIL),
    paths: (parts.paths ?? []).map(scrubLabel),
    raw,
    stage: parts.stage,
    event_id: uuidOrUndefined(value.event_id) ?? uuidOrUndefined(attrs.event_id),
    event_type: typeName(value.event_type) ?? typeName(attrs.event_type),
    schema_version: typeof version === "number" && Number.isSafeInteger(version) ? version : undefined,
    origin: message.origin,
    receivedAtMs: message.receivedAtMs,
    pansRedacted: pans,
  };
}

function uuidOrUndefined(v: unknown): string | undefined {
  return typeof v === "string" && UUID.test(v) ? v.toLowerCase() : undefined;
}

/** A producer's event_type, kept only when it reads like a type name and holds no card number. */
export function typeName(v: unknown): string | undefined {
  return typeof v === "string" && TYPE_LIKE.test(v) && !holdsPan(v) ? v : undefined;
}

/** A text for a dead letter's detail or paths: card numbers and emails redacted. */
export function scrubLabel(text: string): string {
  const { text: noPans } = redactPansInText(text);
  return noPans.includes("@") ? noPans.replace(EMAIL, "[email]") : noPans;
}

const MEMBER = /"((?:[^"\\]|\\.){1,128})"(\s*:\s*)("(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*|true|false|null)/g;

/** Text that is not JSON, with the values of sensitive-looking members (`"cvv": "123"`) replaced by null. */
export function dropSensitiveInText(text: string): string {
  if (!text.includes(":")) return text;
  return text.replace(MEMBER, (m, name: string, colon: string) => (isSensitiveName(name, false) ? `"${name}"${colon}null` : m));
}

/** A dead letter as its ops.dead_letters row: keyed by a hash of its scrubbed bytes, so a redelivered bad message is stored once. */
export function deadLetterRow(dl: DeadLetter): DeadLetterRow {
  return {
    dl_id: createHash("sha256").update(dl.raw).digest("hex").slice(0, 32),
    reason: dl.reason,
    detail: dl.detail,
    paths: JSON.stringify(dl.paths),
    stage: dl.stage,
    event_id: dl.event_id ?? null,
    event_type: dl.event_type ?? null,
    schema_version: dl.schema_version ?? null,
    origin: dl.origin,
    raw: dl.raw,
    subject_ref: dl.subjectRef ?? null,
    received_at: dl.receivedAtMs,
  };
}
