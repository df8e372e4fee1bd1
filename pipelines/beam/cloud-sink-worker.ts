/**
 * The commit worker thread of the Dataflow sink (see cloud-sink.ts): holds
 * the GCS and BigQuery clients and commits each grouped batch with
 * CloudCommit (the one commit procedure), one at a time.
 */
import { serveHandlers } from "./blocking-bridge.js";
import { CloudCommit, type CloudSinkInit } from "./cloud-commit.js";
import { decodeBatch } from "./replayed-batch.js";

serveHandlers<CloudSinkInit>(async (init) => {
  const commit = await CloudCommit.open(init);
  return {
    ready: async () => true,
    commit: async ({ batch, text }: { batch: string; text: string }) => {
      const r = await commit.commit(batch, decodeBatch(text));
      return { ...r, batch: r.batch.name };
    },
  };
});
