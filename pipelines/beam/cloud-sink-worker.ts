/**
 * The commit worker thread of the Dataflow sink (see cloud-sink.ts): holds
 * the GCS and BigQuery clients and commits each grouped batch with
 * CloudCommit, one at a time.
 */
import type { DeadLetter, ValidEvent } from "../../transforms/types.js";
import { serveHandlers } from "./blocking-bridge.js";
import { CloudCommit, type CloudSinkInit } from "./cloud-commit.js";
import { decodeBatch } from "./replayed-batch.js";

serveHandlers<CloudSinkInit>(async (init) => {
  const commit = await CloudCommit.open(init);
  return {
    ready: async () => true,
    commitEvents: async ({ batch, text }: { batch: string; text: string }) =>
      commit.commitEvents(batch, decodeBatch(text).map((m) => m.outcome as ValidEvent)),
    commitDeadLetters: async ({ batch, text }: { batch: string; text: string }) =>
      commit.commitDeadLetters(batch, decodeBatch(text).map((m) => m.outcome as DeadLetter)),
  };
});
