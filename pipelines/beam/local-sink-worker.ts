/**
 * The commit worker thread of the DirectRunner sink (see local-sink.ts): it
 * opens the data dir with the local runner's Engine (which runs crash
 * recovery first) and commits each batch through the same commit as the
 * local runner. The Decode and Validate steps already ran in Beam, so the
 * commit is given replay steps that return each message's recorded outcome.
 * The extensions the job passed in (Gold's window marks) are installed on
 * the engine, so they join every batch as they do on the local runner.
 */
import { addCounts, noCounts } from "../../schemas/ops.js";
import { subjectKeysFrom } from "../../sources/bronze.js";
import { Engine } from "../local/engine.js";
import { faultHook } from "../local/fault.js";
import { serveHandlers } from "./blocking-bridge.js";
import type { CommittedBatch, LocalSinkInit } from "./local-sink.js";
import { REPLAY_STEPS, decodeBatch } from "./replayed-batch.js";

serveHandlers<LocalSinkInit>(async (init) => {
  const fault = faultHook(init.faultAt, init.faultBatch ?? 1);
  const engine = await Engine.open(init.dataDir, { fault, ...init.services });
  for (const e of init.extensions ?? []) {
    const install = ((await import(e.module)) as Record<string, (engine: Engine, options: unknown) => Promise<unknown>>)[e.name];
    if (!install) throw new Error(`the extension module ${e.module} exports no ${e.name}`);
    await install(engine, e.options);
  }
  const totals = noCounts();
  return {
    ready: async () => true,
    commit: async (text: string): Promise<CommittedBatch> => {
      const t0 = performance.now();
      const r = await engine.processBatch(decodeBatch(text), init.origin, { steps: REPLAY_STEPS });
      addCounts(totals, r);
      return {
        batch: Number(r.batch.id),
        read: r.read,
        valid: r.valid,
        duplicates: r.duplicates,
        dead_lettered: r.dead_lettered,
        ms: Math.round(performance.now() - t0),
      };
    },
    totals: async () => totals,
    /** Subject data keys by kid (base64), for replaying Bronze; missing kids are erased subjects. */
    subjectKeys: (kids: string[]) => subjectKeysFrom(engine.store, engine.kek, kids),
    close: async () => {
      engine.close();
      return true;
    },
  };
});
