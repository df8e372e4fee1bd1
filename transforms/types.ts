/**
 * The values that travel between steps. Every step returns a value; bad input
 * becomes a `DeadLetter` (a failsafe envelope holding the original bytes, the
 * stage and the cause), never an exception that could lose the event.
 */
import type { AnyEvent, Domain, EventType } from "../schemas/registry.js";

/** One message as it arrived, from any source. */
export interface RawMessage {
  /** The message body: bytes from Pub/Sub, or a line already read as UTF-8 text from a file. */
  data: Buffer | string;
  /** Pub/Sub attributes, when the source has them. */
  attributes?: Readonly<Record<string, string>>;
  /** Where it came from: `pubsub:<subscription>`, `file:<path>:<line>`, `generator`. */
  origin: string;
  receivedAtMs: number;
}

export const DEAD_LETTER_REASONS = [
  "too_large",
  "malformed_json",
  "not_an_object",
  "unknown_type",
  "unknown_version",
  "schema_violation",
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export interface DeadLetter {
  ok: false;
  reason: DeadLetterReason;
  /** Human-readable cause; never holds field values (they may be personal). */
  detail: string;
  /** The failing field paths, e.g. `payload.total_minor`. */
  paths: string[];
  /** The original bytes, with card numbers redacted. */
  raw: Buffer;
  stage: "decode" | "validate";
  event_id?: string;
  event_type?: string;
  schema_version?: number;
  origin: string;
  receivedAtMs: number;
  pansRedacted: number;
}

export interface Decoded {
  ok: true;
  value: Record<string, unknown>;
  message: RawMessage;
}

/** An event that passed its schema. */
export interface ValidEvent {
  ok: true;
  event: AnyEvent;
  eventType: EventType;
  domain: Domain;
  eventTimeMs: number;
  /** Fields the schema does not know, by path; null when there are none. */
  extras: Record<string, unknown> | null;
  message: RawMessage;
  pansRedacted: number;
}
