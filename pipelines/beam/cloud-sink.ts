/**
 * The Beam pipelines' sink on Dataflow: Bronze on GCS, Silver and dead
 * letters on BigQuery, exactly once per event_id.
 *
 * Steps (each named):
 *  WindowIntoCommitWindows   fixed windows (streaming: the only way a GroupByKey fires; batch: one global window)
 *  KeyByCommitShard          shard = hash(event_id) mod shards, so every copy of an event_id meets in one batch
 *  GroupIntoCommitBatches    one group per (window, shard) = one commit batch with a deterministic name
 *  CommitToBronzeAndSilver / WriteFailedRecords
 *                            the batch handed to CloudCommit in the commit worker thread; the DoFn
 *                            blocks until it is durable (a TypeScript DoFn cannot await)
 */
import { createHash } from "node:crypto";
import type { DeadLetter, RawMessage, ValidEvent } from "../../transforms/types.js";
import type { IngestSink } from "./apply-steps.js";
import { BlockingBridge } from "./blocking-bridge.js";
import type { CloudSinkInit } from "./cloud-commit.js";
import { type ReplayedMessage, encodeBatch } from "./replayed-batch.js";
import { beam, requireForSerialization } from "./sdk.js";

export const CLOUD_SINK_MODULE = "ecom-stream/dist/pipelines/beam/cloud-sink.js";

export interface CloudSinkOptions {
  init: CloudSinkInit;
  /** Commit shards per window: parallelism of the commit, and the number of BigQuery transactions per window. */
  shards: number;
  /** Fixed window length in seconds; 0 = one global window (bounded input). */
  windowSeconds: number;
  /** Prefix of batch names, unique per job (the job name), so two jobs never share a batch name. */
  runName: string;
}

interface ShardContext {
  shards: number;
}

interface CommitContext {
  init: CloudSinkInit;
  runName: string;
  window: beam.ParDoLookupParam<beam.Window>;
}

export function shardOf(id: string, shards: number): number {
  return createHash("md5").update(id).digest().readUInt32BE(0) % shards;
}

export function keyEventByShard(v: ValidEvent, ctx: ShardContext): { shard: number; v: ValidEvent } {
  return { shard: shardOf(v.event.event_id, ctx.shards), v };
}

export function keyDeadLetterByShard(dl: DeadLetter, ctx: ShardContext): { shard: number; v: DeadLetter } {
  return { shard: shardOf(dl.origin + dl.receivedAtMs, ctx.shards), v: dl };
}

let bridge: BlockingBridge | undefined;

/** One commit worker thread per worker process, opened on first use. */
function commitBridge(init: CloudSinkInit): BlockingBridge {
  if (!bridge) {
    bridge = new BlockingBridge(new URL("./cloud-sink-worker.js", import.meta.url), init);
    bridge.call("ready");
  }
  return bridge;
}

/** The group's deterministic batch name: run, window start, shard. */
export function batchName(prefix: string, runName: string, window: beam.Window, shard: number): string {
  const start = (window as { start?: { toString(): string } }).start;
  return `${prefix}${runName}_${start === undefined ? "global" : start.toString()}_${shard}`;
}

/** GCS bodies and dead letters may arrive as Uint8Array after a shuffle; the commit wants Buffers (JSON-safe). */
function asBuffer(b: Buffer | Uint8Array | string): Buffer | string {
  return typeof b === "string" || Buffer.isBuffer(b) ? b : Buffer.from(b);
}

function carriers<T extends ValidEvent | DeadLetter>(group: Iterable<{ v: T }>): ReplayedMessage[] {
  const out: ReplayedMessage[] = [];
  for (const { v } of group) {
    if (v.ok) {
      const m = v.message as ReplayedMessage;
      m.data = asBuffer(m.data);
      m.outcome = v;
      out.push(m);
    } else {
      v.raw = asBuffer(v.raw) as Buffer;
      out.push({ data: v.raw, origin: v.origin, receivedAtMs: v.receivedAtMs, outcome: v } as RawMessage as ReplayedMessage);
    }
  }
  return out;
}

export function commitEventGroup(kv: { key: number; value: Iterable<{ v: ValidEvent }> }, ctx: CommitContext): void {
  const batch = batchName("ev_", ctx.runName, ctx.window.lookup(), kv.key);
  commitBridge(ctx.init).call("commit", { batch, text: encodeBatch(carriers(kv.value)) });
}

export function commitDeadLetterGroup(kv: { key: number; value: Iterable<{ v: DeadLetter }> }, ctx: CommitContext): void {
  const batch = batchName("dl_", ctx.runName, ctx.window.lookup(), kv.key);
  commitBridge(ctx.init).call("commit", { batch, text: encodeBatch(carriers(kv.value)) });
}

requireForSerialization(CLOUD_SINK_MODULE, { keyEventByShard, keyDeadLetterByShard, commitEventGroup, commitDeadLetterGroup, shardOf });

function grouped<T>(
  input: beam.PCollection<T>,
  opts: CloudSinkOptions,
  keyFn: (x: T, ctx: ShardContext) => { shard: number; v: T },
): beam.PCollection<{ key: number; value: Iterable<{ v: T }> }> {
  const windowed =
    opts.windowSeconds > 0 ? input.apply(beam.withName("WindowIntoCommitWindows", beam.windowInto(beam.fixedWindows(opts.windowSeconds)))) : input;
  return windowed
    .apply(beam.withName("KeyByCommitShard", (pc: beam.PCollection<T>) => pc.map(keyFn, { shards: opts.shards })))
    .apply(beam.withName("GroupIntoCommitBatches", beam.groupBy("shard"))) as never;
}

/** The sink steps of a pipeline on Dataflow. */
export function cloudSink(opts: CloudSinkOptions): IngestSink {
  const ctx = () => ({ init: opts.init, runName: opts.runName, window: beam.windowParam() });
  return {
    writeSuccessful: (valid) => {
      valid.apply(
        beam.withName("CommitToBronzeAndSilver", (pc: beam.PCollection<ValidEvent>) => {
          grouped(pc, opts, keyEventByShard).apply(beam.withName("CommitBatch", beam.parDo({ process: commitEventGroup }, ctx())));
        }),
      );
    },
    writeFailed: (dead) => {
      dead.apply(
        beam.withName("WriteFailedRecords", (pc: beam.PCollection<DeadLetter>) => {
          grouped(pc, opts, keyDeadLetterByShard).apply(beam.withName("CommitBatch", beam.parDo({ process: commitDeadLetterGroup }, ctx())));
        }),
      );
    },
  };
}
