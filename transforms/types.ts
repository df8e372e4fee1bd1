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
  "too_deep",
  "malformed_json",
  "not_an_object",
  "unknown_type",
  "unknown_version",
  "schema_violation",
  /** A step threw on this message (a bug the message revealed); the batch went on without it. */
  "internal_error",
  /** The message kept failing its batch's commit; after the bounded attempts it was set aside here. */
  "commit_failed",
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** The step a dead letter left the pipeline at. */
export type DeadLetterStage = "decode" | "validate" | "project" | "commit";

export interface DeadLetter {
  ok: false;
  reason: DeadLetterReason;
  /** Human-readable cause; never holds field values (they may be personal). */
  detail: string;
  /** The failing field paths, e.g. `payload.total_minor`. */
  paths: string[];
  /**
   * The message for replay: the decoded value after the card-number and
   * sensitive-data scrub, or, when it could not be decoded, the original
   * text with card numbers and sensitive fields redacted.
   */
  raw: Buffer;
  stage: DeadLetterStage;
  event_id?: string;
  event_type?: string;
  schema_version?: number;
  origin: string;
  receivedAtMs: number;
  pansRedacted: number;
  /** Reference of the person the message names (protect.ts: subjectRef), when its bytes are an object that names one. */
  subjectRef?: string;
}

export interface Decoded {
  ok: true;
  /** The JSON object, already scrubbed of card numbers and sensitive authentication data. */
  value: Record<string, unknown>;
  message: RawMessage;
  pansRedacted: number;
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
