/**
 * Runs the Beam batch pipeline on the DirectRunner against a local data dir:
 * the same Bronze folder, DuckDB store and commit as `--runner=local`, and
 * the same totals. Used by `ecom ingest --runner=beam`, the equality test
 * and the benchmark.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import { directRunner } from "./sdk.js";
import { listInputFiles } from "../../sources/files.js";
import type { Totals } from "../local/engine.js";
import { type BatchSource, batchIngestPipeline } from "./batch.js";
import { bronzeFilesInRange, bronzeKids } from "./file-source.js";
import { type CommittedBatch, LocalCommitSession, localSink } from "./local-sink.js";

export interface DirectRunOptions {
  dataDir: string;
  batchSize: number;
  onBatch?: (b: CommittedBatch) => void;
  /** Crash-test hook, as for the local runner: SIGKILL at this commit point of batch `faultBatch`. */
  faultAt?: string;
  faultBatch?: number;
}

/** NDJSON files and folders -> the data dir, through the Beam batch pipeline. */
export async function ingestFilesOnDirectRunner(inputs: readonly string[], opts: DirectRunOptions): Promise<Totals> {
  const files = listInputFiles(inputs);
  return run({ files }, `files:${files.length}`, opts);
}

/**
 * The data dir's own Bronze partitions with dt in [from, to] -> the same
 * steps again (a replay): personal fields are decrypted with the subjects'
 * keys first; an erased subject's fields stay absent.
 */
export async function replayBronzeOnDirectRunner(from: string, to: string, opts: DirectRunOptions): Promise<Totals> {
  const root = path.join(opts.dataDir, "bronze");
  const names = bronzeFilesInRange(root, from, to);
  const session = openSession(`bronze:${from}..${to}`, opts);
  try {
    const keys = session.subjectKeys(bronzeKids(root, names));
    return await runWith(session, { bronze: { root, names, keys } });
  } finally {
    await session.close();
  }
}

function openSession(origin: string, opts: DirectRunOptions): LocalCommitSession {
  return LocalCommitSession.open(
    randomUUID(),
    { dataDir: opts.dataDir, origin, faultAt: opts.faultAt, faultBatch: opts.faultBatch },
    opts.batchSize,
    opts.onBatch,
  );
}

async function run(source: BatchSource, origin: string, opts: DirectRunOptions): Promise<Totals> {
  const session = openSession(origin, opts);
  try {
    return await runWith(session, source);
  } finally {
    await session.close();
  }
}

async function runWith(session: LocalCommitSession, source: BatchSource): Promise<Totals> {
  await directRunner().run(batchIngestPipeline(source, localSink(session.id)));
  session.drain();
  return session.totals();
}
