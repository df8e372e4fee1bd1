/**
 * Runs the Beam batch pipeline on the DirectRunner against a local data dir:
 * the same Bronze folder, DuckDB store and commit as `--runner=local`, and
 * the same counts. The commit runs in a worker thread that holds the data
 * dir (local-sink.ts); the caller builds the source, and may ask that
 * worker for the data dir's subject keys first (a Bronze replay of the data
 * dir itself).
 */
import { randomUUID } from "node:crypto";
import type { Counts } from "../../schemas/ops.js";
import { type BatchSource, batchIngestPipeline } from "./batch.js";
import { type CommittedBatch, type ExtensionModule, LocalCommitSession, type LocalSinkInit, localSink } from "./local-sink.js";
import { directRunner } from "./sdk.js";

export interface DirectRunOptions {
  dataDir: string;
  batchSize: number;
  /** Recorded in each batch manifest. */
  origin: string;
  onBatch?: (b: CommittedBatch) => void;
  /** Extensions the sink's worker installs on its engine. */
  extensions?: ExtensionModule[];
  /** Crash-test hook, as for the local runner: SIGKILL at this commit point of batch `faultBatch`. */
  faultAt?: string;
  faultBatch?: number;
  /** The sink's key-encryption key and text inspector. */
  services?: LocalSinkInit["services"];
}

/** The pipeline over `source` (or over what `source(session)` builds once the data dir is open) into the data dir. */
export async function runOnDirectRunner(source: BatchSource | ((session: LocalCommitSession) => BatchSource), opts: DirectRunOptions): Promise<Counts> {
  const session = LocalCommitSession.open(
    randomUUID(),
    { dataDir: opts.dataDir, origin: opts.origin, faultAt: opts.faultAt, faultBatch: opts.faultBatch, extensions: opts.extensions, services: opts.services },
    opts.batchSize,
    opts.onBatch,
  );
  try {
    const s = typeof source === "function" ? source(session) : source;
    await directRunner().run(batchIngestPipeline(s, localSink(session.id)));
    session.drain();
    return session.totals();
  } finally {
    await session.close();
  }
}
