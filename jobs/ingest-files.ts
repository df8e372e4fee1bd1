/**
 * Bounded ingest: NDJSON files and folders through the same steps as the
 * stream, committed batch by batch, then exit. Ingesting the same file twice
 * commits nothing the second time (every event_id is already claimed).
 */
import { type Engine, type Totals, addToTotals, emptyTotals } from "../pipelines/local/engine.js";
import type { BatchResult } from "../pipelines/local/process-batch.js";
import { listInputFiles, readNdjsonBatches } from "../sources/files.js";

export async function ingestFiles(
  engine: Engine,
  inputs: readonly string[],
  opts: { batchSize: number; onBatch?: (r: BatchResult, ms: number) => void },
): Promise<Totals> {
  const files = listInputFiles(inputs);
  const totals = emptyTotals();
  for await (const batch of readNdjsonBatches(files, opts.batchSize)) {
    const t0 = performance.now();
    const r = await engine.processBatch(batch, `files:${files.length}`);
    addToTotals(totals, r);
    opts.onBatch?.(r, performance.now() - t0);
  }
  return totals;
}
