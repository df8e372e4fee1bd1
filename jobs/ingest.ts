/**
 * The bounded ingest jobs, on either executor: NDJSON files and folders,
 * and the replay of a Bronze date range (from the data dir itself or from
 * another one). One function each, whichever runner: the local runner
 * commits in this process; the Beam DirectRunner commits through the same
 * commit in its sink's worker thread. Gold is refreshed once at the end
 * (its window marks are durable per batch meanwhile, or caught up after a
 * Beam run, whose sink commits without it).
 */
import fs from "node:fs";
import path from "node:path";
import { goldOf } from "../gold/register.js";
import { runOnDirectRunner } from "../pipelines/beam/run-direct.js";
import type { BatchResult } from "../pipelines/commit.js";
import type { EngineServices } from "../pipelines/local/engine.js";
import { faultHook } from "../pipelines/local/fault.js";
import { type Counts, countsOf } from "../schemas/ops.js";
import { dataDirPaths } from "../sinks/local-files/data-dir.js";
import { type BronzeSelection, bronzeFilesOf, kidsOf, readBronzeBatches, subjectKeysFrom, subjectKeysFromDataDir } from "../sources/bronze.js";
import { listInputFiles, readNdjsonBatches } from "../sources/ndjson.js";
import { ingestBatches } from "./ingest-files.js";
import { InputError } from "./errors.js";
import { recordedJob } from "./job-runs.js";
import { openRuntime } from "./runtime.js";

export const RUNNERS = ["local", "beam"] as const;
export type RunnerName = (typeof RUNNERS)[number];

/** One committed batch, as the jobs report it (one log line each). */
export interface BatchLine extends Counts {
  batch: number;
  ms: number;
  runner: RunnerName;
  phases?: Record<string, number>;
}

export interface IngestOptions {
  dataDir: string;
  runner: RunnerName;
  batchSize: number;
  /** Local runner: parse threads (0 = this thread). */
  parseThreads?: number;
  /** Crash tests: SIGKILL at this commit point of the n-th batch. */
  faultAt?: string;
  faultBatch?: number;
  onBatch?: (b: BatchLine) => void;
  /** The key-encryption key (local or Cloud KMS) and the text inspector; both also read a replay's source data dir. */
  services?: EngineServices;
  /** Told when the run could not be recorded in ops.job_runs. */
  onWarning?: (message: string) => void;
}

export interface IngestSummary {
  counts: Counts;
  /** Seconds spent committing, then refreshing Gold. */
  ingestSeconds: number;
  goldSeconds: number;
  goldWindows?: Record<string, number>;
  /** What the operator should know (e.g. a replay source whose keys differ). */
  warnings: string[];
}

export interface BronzeRange {
  /** First and last partition date, YYYY-MM-DD (UTC), inclusive. */
  from: string;
  to: string;
  /** The data dir whose Bronze and subject keys are read (default: the data dir itself). */
  sourceDataDir?: string;
}

/** NDJSON files and folders into the data dir; the run is recorded in ops.job_runs (job `ingest`). */
export function ingestFilesJob(inputs: readonly string[], opts: IngestOptions): Promise<IngestSummary> {
  return recordedJob(opts.dataDir, "ingest", () => ingestFilesRun(inputs, opts), { counts: summaryCounts, onWarning: opts.onWarning });
}

async function ingestFilesRun(inputs: readonly string[], opts: IngestOptions): Promise<IngestSummary> {
  const files = listInputFiles(inputs);
  const origin = `files:${files.length}`;
  if (opts.runner === "beam") return withGoldAfterBeam(opts, () => runOnDirectRunner({ files }, beamOptions(opts, origin)));
  return onLocalRunner(opts, async (engine, onBatch) => ingestBatches(engine, readNdjsonBatches(files, opts.batchSize), origin, onBatch));
}

/**
 * A Bronze date range through the same steps again, personal data decrypted
 * with the people's keys (an erased person's events replay without it). Into
 * the data dir itself everything is a duplicate; into another one (with the
 * source's keys/ copied) it rebuilds the same Silver. Recorded in ops.job_runs (job `bronze_replay`).
 */
export function replayBronzeJob(range: BronzeRange, opts: IngestOptions): Promise<IngestSummary> {
  return recordedJob(opts.dataDir, "bronze_replay", () => replayBronzeRun(range, opts), { counts: summaryCounts, onWarning: opts.onWarning });
}

const summaryCounts = (s: IngestSummary): Record<string, number> => ({ ...s.counts, seconds: s.ingestSeconds + s.goldSeconds });

async function replayBronzeRun(range: BronzeRange, opts: IngestOptions): Promise<IngestSummary> {
  const source = path.resolve(range.sourceDataDir ?? opts.dataDir);
  const same = source === path.resolve(opts.dataDir);
  const paths = dataDirPaths(source);
  if (!fs.existsSync(paths.bronze)) throw new InputError(`${same ? "the data dir" : "the source data dir"} ${source} has no Bronze folder (${paths.bronze})`);
  if (!same && !fs.existsSync(paths.keys))
    throw new InputError(`the source data dir ${source} has no keys/ folder: its Bronze personal data cannot be decrypted`);
  const origin = `bronze:${range.from}..${range.to}`;
  const warnings: string[] = [];
  if (!same && !sameKeys(source, opts.dataDir)) warnings.push(`the data dir's keys differ from ${source}'s: its tokens will not match the source's Silver`);
  // Another data dir's keys are read before this one opens (one process per store file).
  let other: BronzeSelection | undefined;
  if (!same) {
    const { root, names } = bronzeFilesOf(source, range.from, range.to);
    other = { root, names, keys: await subjectKeysFromDataDir(source, kidsOf(root, names), opts.services?.kek) };
  }
  const noFiles = (s: BronzeSelection) => {
    if (s.names.length === 0) warnings.push(`no Bronze files in ${source} between ${range.from} and ${range.to}`);
  };
  let summary: IngestSummary;
  if (opts.runner === "beam") {
    summary = await withGoldAfterBeam(opts, () =>
      runOnDirectRunner(
        (session) => {
          // The data dir itself: listed once the sink's open has recovered it; its keys through the sink, which holds the store.
          const selection = other ?? { ...bronzeFilesOf(source, range.from, range.to), keys: {} };
          if (!other) selection.keys = session.subjectKeys(kidsOf(selection.root, selection.names));
          noFiles(selection);
          return { bronze: selection };
        },
        beamOptions(opts, origin),
      ),
    );
  } else {
    summary = await onLocalRunner(opts, async (engine, onBatch) => {
      const selection = other ?? { ...bronzeFilesOf(source, range.from, range.to), keys: {} };
      if (!other) selection.keys = await subjectKeysFrom(engine.store, engine.kek, kidsOf(selection.root, selection.names));
      noFiles(selection);
      return ingestBatches(engine, readBronzeBatches(selection, opts.batchSize), origin, onBatch);
    });
  }
  summary.warnings.push(...warnings);
  return summary;
}

/** Gold, as the Beam sink's worker installs it: marks per batch, one refresh at the end of the job. */
const GOLD_IN_BEAM_SINK = { module: new URL("../gold/register.js", import.meta.url).href, name: "registerGold", options: { refreshAfterCommit: false } };

function beamOptions(opts: IngestOptions, origin: string) {
  return {
    dataDir: opts.dataDir,
    extensions: [GOLD_IN_BEAM_SINK],
    batchSize: opts.batchSize,
    origin,
    faultAt: opts.faultAt,
    faultBatch: opts.faultBatch,
    services: opts.services,
    onBatch: (b: { batch: number; read: number; valid: number; duplicates: number; dead_lettered: number; ms: number }) =>
      opts.onBatch?.({ ...b, pans_redacted: 0, runner: "beam" }),
  };
}

type Work = (engine: Awaited<ReturnType<typeof openRuntime>>, onBatch: (r: BatchResult, ms: number) => void) => Promise<Counts>;

/** The local runner: a runtime with Gold marking per batch and refreshing once at the end. */
async function onLocalRunner(opts: IngestOptions, work: Work): Promise<IngestSummary> {
  const engine = await openRuntime(opts.dataDir, {
    fault: faultHook(opts.faultAt, opts.faultBatch ?? 1),
    parseThreads: opts.parseThreads,
    gold: { refreshAfterCommit: false },
    ...opts.services,
  });
  try {
    const t0 = performance.now();
    const counts = await work(engine, (r, ms) =>
      opts.onBatch?.({ ...countsOf(r), batch: Number(r.batch.id), ms: Math.round(ms), runner: "local", phases: roundPhases(r.phases) }),
    );
    const t1 = performance.now();
    const gold = await goldOf(engine)?.flush();
    return { counts, ingestSeconds: (t1 - t0) / 1000, goldSeconds: (performance.now() - t1) / 1000, goldWindows: gold?.windows, warnings: [] };
  } finally {
    engine.close();
  }
}

/** A Beam run (its sink marks Gold windows per batch), then one refresh of what the run marked. */
async function withGoldAfterBeam(opts: IngestOptions, run: () => Promise<Counts>): Promise<IngestSummary> {
  const t0 = performance.now();
  const counts = await run();
  const t1 = performance.now();
  const engine = await openRuntime(opts.dataDir, { ...opts.services });
  try {
    return {
      counts,
      ingestSeconds: (t1 - t0) / 1000,
      goldSeconds: (performance.now() - t1) / 1000,
      goldWindows: goldOf(engine)?.lastRefresh?.windows,
      warnings: [],
    };
  } finally {
    engine.close();
  }
}

function sameKeys(a: string, b: string): boolean {
  const read = (d: string, f: "tokenKeys" | "kek"): string | undefined => {
    try {
      return fs.readFileSync(dataDirPaths(d)[f], "utf8");
    } catch {
      return undefined;
    }
  };
  // With the KEK in Cloud KMS neither has a kek.json, and only the token keys decide.
  return read(a, "tokenKeys") !== undefined && read(a, "tokenKeys") === read(b, "tokenKeys") && read(a, "kek") === read(b, "kek");
}

function roundPhases(p: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Math.round(v)]));
}
