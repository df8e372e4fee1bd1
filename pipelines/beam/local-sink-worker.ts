/**
 * The commit worker thread of the DirectRunner sink (see local-sink.ts): it
 * opens the data dir with the local runner's Engine (which runs crash
 * recovery first) and commits each batch with the local runner's
 * `processBatch`. The Decode and Validate steps already ran in Beam, so the
 * commit is given replay steps that return each message's recorded outcome:
 * the commit dedupes, claims, projects and writes exactly as it does for the
 * local runner, without parsing anything twice.
 */
import { subjectKeysFromStore } from "../../sources/bronze.js";
import { type Totals, Engine, addToTotals, emptyTotals } from "../local/engine.js";
import { faultHook } from "../local/fault.js";
import type { ElementSteps } from "../ingest-steps.js";
import type { DeadLetter, Decoded, RawMessage, ValidEvent } from "../../transforms/types.js";
import { serveHandlers } from "./blocking-bridge.js";
import type { CommittedBatch, LocalSinkInit } from "./local-sink.js";
import { type ReplayedMessage, decodeBatch } from "./replayed-batch.js";

/** Steps that hand back the outcome Beam computed: a decode-stage dead letter at Decode, the rest at Validate. */
const REPLAY_STEPS: ElementSteps = [
  {
    name: "Decode",
    run: (m: RawMessage) => {
      const outcome = (m as ReplayedMessage).outcome;
      return !outcome.ok && outcome.stage === "decode" ? outcome : ({ ok: true, value: {}, message: m, pansRedacted: 0 } satisfies Decoded);
    },
  },
  { name: "Validate", run: (d: Decoded): ValidEvent | DeadLetter => (d.message as ReplayedMessage).outcome },
];

serveHandlers<LocalSinkInit>(async (init) => {
  const fault = faultHook(init.faultAt, init.faultBatch ?? 1);
  const engine = await Engine.open(init.dataDir, { fault });
  const totals: Totals = emptyTotals();
  return {
    ready: async () => true,
    commit: async (text: string): Promise<CommittedBatch> => {
      const t0 = performance.now();
      // Through the Engine, so its extensions (Gold window marks) run exactly as for the local runner.
      const r = await engine.processBatch(decodeBatch(text), init.origin, { steps: REPLAY_STEPS });
      addToTotals(totals, r);
      return {
        batch: Number(r.batchId),
        read: r.read,
        valid: r.valid,
        duplicates: r.duplicates,
        dead_lettered: r.deadLettered,
        ms: Math.round(performance.now() - t0),
      };
    },
    totals: async () => totals,
    /** Subject data keys by kid (base64), for replaying Bronze; missing kids are erased subjects. */
    subjectKeys: (kids: string[]) => subjectKeysFromStore(engine.store, engine.keys.kek, kids),
    close: async () => {
      engine.close();
      return true;
    },
  };
});
