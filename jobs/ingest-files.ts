/**
 * Bounded ingest: NDJSON files and folders through the same steps as the
 * stream, committed batch by batch, then exit. Ingesting the same file twice
 * commits nothing the second time (every event_id is already claimed). A
 * batch whose commit fails goes through the delivery policy
 * (pipelines/local/isolate.ts): the rest of the run goes on, and a message
 * the store keeps refusing ends up in the dead-letter store.
 */
import type { BatchResult } from "../pipelines/commit.js";
import type { Engine } from "../pipelines/local/engine.js";
import { AttemptLedger, deliverAll } from "../pipelines/local/isolate.js";
import { type Counts, addCounts, noCounts } from "../schemas/ops.js";
import { listInputFiles, readNdjsonBatches } from "../sources/ndjson.js";
import type { RawMessage } from "../transforms/types.js";

export async function ingestFiles(
  engine: Engine,
  inputs: readonly string[],
  opts: { batchSize: number; onBatch?: (r: BatchResult, ms: number) => void },
): Promise<Counts> {
  const files = listInputFiles(inputs);
  return ingestBatches(engine, readNdjsonBatches(files, opts.batchSize), `files:${files.length}`, opts.onBatch);
}

/**
 * Any bounded stream of batches (files, a Bronze date range) into the engine.
 * Two batches in flight: the next one is read and parsed while the previous
 * one waits on DuckDB, gzip and the disk (other threads). Commits stay
 * strictly one after another.
 */
export async function ingestBatches(
  engine: Engine,
  batches: Iterable<RawMessage[]> | AsyncIterable<RawMessage[]>,
  origin: string,
  onBatch?: (r: BatchResult, ms: number) => void,
): Promise<Counts> {
  const totals = noCounts();
  const ledger = new AttemptLedger();
  let inflight: Promise<void> | undefined;
  for await (const batch of batches) {
    const parsed = await engine.parseBatch(batch);
    await inflight;
    const t0 = performance.now();
    const report = (r: BatchResult): void => {
      addCounts(totals, r);
      onBatch?.(r, performance.now() - t0 + parsed.parseMs);
    };
    inflight = engine.commitBatch(parsed, origin).then(report, async () => {
      for (const r of await deliverAll(engine, batch, origin, ledger)) report(r);
    });
    inflight.catch(() => undefined); // handled by the await above on the next turn or below
  }
  await inflight;
  return totals;
}
