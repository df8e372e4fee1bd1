/**
 * The functions Beam runs on its workers for the ingest steps. Beam
 * serializes what it is given to `map`/`flatMap`; a function that captures a
 * variable would fail there (design.md), so each one here is an exported
 * top-level function registered with `requireForSerialization`, and its
 * configuration travels as the map's context argument.
 *
 * Nothing here implements a step: `runElementStep` walks the step list of
 * `pipelines/ingest-steps.ts`, built once per worker process.
 */
import { requireForSerialization } from "./sdk.js";
import { createRegistry } from "../../schemas/registry.js";
import type { DeadLetter, RawMessage } from "../../transforms/types.js";
import { type ElementStep, type ElementSteps, elementSteps, internalError } from "../ingest-steps.js";

/** The name under which workers `require` this module (the package is installed in the worker image). */
export const STEP_FNS_MODULE = "ecom-stream/dist/pipelines/beam/step-fns.js";

/** A step's outcome as a tagged union, for `split(["ok", "dead"])`: the dead letter is a side output, not an exception. */
export type Tagged<T> = { ok: T } | { dead: DeadLetter };

let steps: ElementSteps | undefined;

/** The step list, built once per worker process (the registry compiles the schemas). */
export function workerSteps(): ElementSteps {
  return (steps ??= elementSteps(createRegistry()));
}

/** Replaces this process's step list (the DirectRunner runs steps in the driver: tests give it a step that throws). */
export function useWorkerSteps(replacement: ElementSteps): void {
  steps = replacement;
}

/**
 * Runs element step number `ctx.step` of the step list on one element,
 * inside the failsafe guard: whatever the step throws becomes a dead letter
 * on the tagged output, never a failed bundle.
 */
export function runElementStep(input: unknown, ctx: { step: number }): Tagged<unknown> {
  const step = workerSteps()[ctx.step] as ElementStep<unknown, { ok: true }> | undefined;
  if (!step) throw new Error(`the ingest step list has no step ${ctx.step}`);
  try {
    const r = step.run(input);
    return r.ok ? { ok: r } : { dead: r };
  } catch (err) {
    const message = (ctx.step === 0 ? input : (input as { message: RawMessage }).message) as RawMessage;
    return {
      dead: internalError(message, step.name, ctx.step === 0 ? "decode" : "validate", err, ctx.step === 0 ? undefined : (input as { value?: unknown }).value),
    };
  }
}

/** A Pub/Sub message as the cross-language read decodes it (PubsubMessage proto). */
export interface PubsubMessageLike {
  data?: Uint8Array | null;
  attributes?: Record<string, string> | null;
  messageId?: string | null;
}

/** Pub/Sub message -> the RawMessage every step takes. */
export function toRawMessage(m: PubsubMessageLike, ctx: { origin: string }): RawMessage {
  const data = m.data ?? new Uint8Array();
  return {
    // Buffer, not Uint8Array: decode reads `data.toString("utf8")`.
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    attributes: m.attributes ?? {},
    origin: ctx.origin,
    receivedAtMs: Date.now(),
  };
}

requireForSerialization(STEP_FNS_MODULE, { workerSteps, runElementStep, toRawMessage });
