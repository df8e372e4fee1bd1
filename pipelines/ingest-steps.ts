/**
 * The ingest pipeline's steps, defined once. The local runner and the Beam
 * pipelines both walk this list, so the two executors cannot drift.
 *
 * Steps:
 *  1. Decode      bytes -> JSON object, card numbers   (dead letter: too_large, too_deep, malformed_json, not_an_object)
 *                 and sensitive authentication data scrubbed
 *  2. Validate    schema by (event_type, version),     (dead letter: unknown_type, unknown_version, schema_violation)
 *                 drift found
 *  3. Dedupe      first copy of an event_id wins       (executor: within the batch, then against the dedupe store)
 *  4. Project     Silver row with tokens, then the Bronze record with personal data encrypted
 *  5. Commit      Bronze temp files -> Silver transaction -> rename -> ack (executor)
 *
 * Every per-message step runs inside a guard: an exception becomes a dead
 * letter (`internal_error`, naming the step, echoing nothing of the input),
 * so one message never fails its batch.
 */
import type { Registry } from "../schemas/registry.js";
import { deadLetter } from "../transforms/dead-letter.js";
import { decode } from "../transforms/decode.js";
import { type SubjectKey, protectForBronze, subjectOf, subjectRef } from "../transforms/protect.js";
import { type SilverRow, eraseFromRow, toSilverRow } from "../transforms/to-silver.js";
import type { TokenKey } from "../transforms/tokenize.js";
import type { DeadLetter, DeadLetterStage, Decoded, RawMessage, ValidEvent } from "../transforms/types.js";
import { createValidator } from "../transforms/validate.js";
import type { Domain } from "../schemas/registry.js";
import { partitionOf } from "../schemas/bronze.js";

export interface ElementStep<I, O> {
  name: string;
  run(input: I): O | DeadLetter;
}

/** Steps 1-2: per message, no IO. */
export type ElementSteps = [ElementStep<RawMessage, Decoded>, ElementStep<Decoded, ValidEvent>];

/** The step list, each step guarded. */
export function elementSteps(registry: Registry): ElementSteps {
  const validator = createValidator(registry);
  return guardSteps([
    { name: "Decode", run: decode },
    { name: "Validate", run: (d) => validator.validate(d) },
  ]);
}

/** Wraps each step in the failsafe guard (a step list built elsewhere, e.g. with another registry, gets it too). */
export function guardSteps(steps: ElementSteps): ElementSteps {
  const [d, v] = steps;
  return [
    { name: d.name, run: (m) => guarded(d, "decode", m, m, undefined) },
    { name: v.name, run: (x) => guarded(v, "validate", x, x.message, x.value) },
  ];
}

function guarded<I, O>(step: ElementStep<I, O>, stage: DeadLetterStage, input: I, message: RawMessage, value: unknown): O | DeadLetter {
  try {
    return step.run(input);
  } catch (err) {
    return internalError(message, step.name, stage, err, value);
  }
}

/**
 * The dead letter of a message a step threw on: the step, the error's class
 * and where in the code it was thrown; never the error's message, which may
 * quote the input.
 */
export function internalError(message: RawMessage, stepName: string, stage: DeadLetterStage, err: unknown, value?: unknown): DeadLetter {
  const kind = err instanceof Error ? err.constructor.name : typeof err;
  const frame = err instanceof Error ? /\(?([^()\s]*\/(?:transforms|schemas|pipelines|sinks|sources)\/[^():\s]+:\d+)/.exec(err.stack ?? "")?.[1] : undefined;
  const at = frame ? ` at ${frame.replace(/^.*\/(transforms|schemas|pipelines|sinks|sources)\//, "$1/")}` : "";
  return deadLetter(message, "internal_error", `the ${stepName} step failed on this message (${kind}${at}); the rest of its batch went on`, {
    stage,
    value,
  });
}

/** Walks steps 1-2 for one message. */
export function parseMessage(steps: ElementSteps, message: RawMessage): ValidEvent | DeadLetter {
  const decoded = steps[0].run(message);
  if (!decoded.ok) return decoded;
  return steps[1].run(decoded);
}

/** Step 3 within a batch: the first copy of each event_id; the rest are duplicates. */
export function dedupeWithinBatch(events: readonly ValidEvent[]): { unique: ValidEvent[]; duplicates: number } {
  const seen = new Set<string>();
  const unique: ValidEvent[] = [];
  for (const e of events) {
    if (seen.has(e.event.event_id)) continue;
    seen.add(e.event.event_id);
    unique.push(e);
  }
  return { unique, duplicates: events.length - unique.length };
}

/** The reference of the person whose key encrypts an event's personal data, or undefined when no one owns any. */
export function subjectRefOf(valid: ValidEvent, tokenKey: TokenKey): string | undefined {
  const subject = subjectOf(valid.event, tokenKey);
  return subject === undefined ? undefined : subjectRef(subject, tokenKey);
}

/** Names the person a dead letter's message names (by the same reference as their keys), so erasure can find it. */
export function nameDeadLetterSubject(dl: DeadLetter, tokenKey: TokenKey): DeadLetter {
  if (dl.subjectRef !== undefined || dl.raw[0] !== 0x7b /* { */) return dl;
  let value: unknown;
  try {
    value = JSON.parse(dl.raw.toString("utf8"));
  } catch {
    return dl;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return dl;
  const subject = subjectOf(value as Record<string, unknown>, tokenKey);
  if (subject) dl.subjectRef = subjectRef(subject, tokenKey);
  return dl;
}

export interface Projected {
  domain: Domain;
  row: SilverRow;
  partition: string;
  bronzeLine: string;
}

/**
 * Step 4: the Silver row (tokens), then the Bronze line (personal fields
 * encrypted under `subjectKey`, the key of `subjectRefOf(valid)`). Consumes
 * the event. `subjectKey` null: the person is erased (a replay, a late
 * redelivery): the row keeps no token of them and Bronze none of their data.
 */
export function project(valid: ValidEvent, subjectKey: SubjectKey | null | undefined, ctx: { tokenKey: TokenKey; ingestedAtMs: number }): Projected {
  const { domain, row } = toSilverRow(valid, ctx);
  if (subjectKey === null) eraseFromRow(row, domain);
  const bronze = protectForBronze(valid.event, subjectKey ?? undefined);
  return { domain, row, partition: partitionOf(valid.eventType, valid.eventTimeMs), bronzeLine: JSON.stringify(bronze) };
}
