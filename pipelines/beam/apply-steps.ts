/**
 * Graph construction shared by the batch and the streaming pipeline: one
 * named Beam transform per element step of `pipelines/ingest-steps.ts`
 * (walked from the list itself, so a step added there appears here), each
 * with its dead letters as a tagged output, then one collection of all dead
 * letters. Every transform has a name.
 */
import { beam } from "./sdk.js";
import type { DeadLetter, RawMessage, ValidEvent } from "../../transforms/types.js";
import { type Tagged, runElementStep, workerSteps } from "./step-fns.js";

export interface StepOutputs {
  valid: beam.PCollection<ValidEvent>;
  deadLetters: beam.PCollection<DeadLetter>;
}

type Outcomes = { ok: beam.PCollection<unknown>; dead: beam.PCollection<DeadLetter> };

export function applyElementSteps(messages: beam.PCollection<RawMessage>): StepOutputs {
  let current = messages as beam.PCollection<unknown>;
  const dead: beam.PCollection<DeadLetter>[] = [];
  workerSteps().forEach((step, index) => {
    const out: Outcomes = current.apply(
      beam.withName(step.name, (input: beam.PCollection<unknown>): Outcomes => {
        const tagged: beam.PCollection<Tagged<unknown>> = input.map(runElementStep, { step: index });
        return tagged.apply(beam.split(["ok", "dead"]) as never) as Outcomes;
      }),
    );
    dead.push(out.dead);
    current = out.ok;
  });
  const deadLetters: beam.PCollection<DeadLetter> = beam.P(dead).apply(beam.withName("CollectDeadLetters", beam.flatten<DeadLetter>()));
  return { valid: current as beam.PCollection<ValidEvent>, deadLetters };
}

/** Where a pipeline's outcomes go: the valid events and the dead letters, each through its own named sink step. */
export interface IngestSink {
  writeSuccessful(valid: beam.PCollection<ValidEvent>): void;
  writeFailed(deadLetters: beam.PCollection<DeadLetter>): void;
}
