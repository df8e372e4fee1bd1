/**
 * The Beam batch pipeline's sink on the DirectRunner: the same Bronze folder,
 * DuckDB store and exactly-once commit as the local runner.
 *
 * The two sink steps (WriteSuccessfulRecords, WriteFailedRecords) append each
 * step outcome, in arrival order, to one buffer; every `batchSize` outcomes
 * become one batch handed to the local engine's commit (the one commit
 * procedure, pipelines/commit.ts), which runs in the commit worker thread
 * that holds the data dir (local-sink-worker.ts). So the dedupe store,
 * Bronze temp + rename, batch manifest, subject keys and crash recovery are
 * not re-implemented: they are the same code.
 *
 * The DirectRunner pushes elements depth-first in file order, so the batches
 * hold exactly the messages the local runner's batches hold.
 */
import { beam } from "./sdk.js";
import { requireForSerialization } from "./sdk.js";
import type { DeadLetter, ValidEvent } from "../../transforms/types.js";
import type { Counts } from "../../schemas/ops.js";
import type { EngineOptions } from "../local/engine.js";
import type { IngestSink } from "./apply-steps.js";
import { BlockingBridge } from "./blocking-bridge.js";
import { type ReplayedMessage, encodeBatch } from "./replayed-batch.js";

export const LOCAL_SINK_MODULE = "ecom-stream/dist/pipelines/beam/local-sink.js";

/**
 * An extension the sink's worker installs on its engine: a module (URL) and
 * the export to call as `install(engine, options)`. Passed in by the job
 * that builds the run, so this layer imports no extension.
 */
export interface ExtensionModule {
  module: string;
  name: string;
  /** Structured-cloneable options for the install function. */
  options?: unknown;
}

export interface LocalSinkInit {
  dataDir: string;
  /** The engine's key-encryption key and text inspector (plain data: it crosses into the worker thread). */
  services?: Pick<EngineOptions, "kek" | "textInspector">;
  extensions?: ExtensionModule[];
  /** Origin recorded in each batch manifest (the local runner's `files:<n>`). */
  origin: string;
  faultAt?: string;
  faultBatch?: number;
}

export interface CommittedBatch {
  batch: number;
  read: number;
  valid: number;
  duplicates: number;
  dead_lettered: number;
  ms: number;
}

export interface LocalSinkContext {
  session: string;
}

/** One run's handle on the data dir: created by the driver before the run, found by the sink steps by id. */
export class LocalCommitSession {
  private buffer: ReplayedMessage[] = [];

  constructor(
    readonly id: string,
    private readonly bridge: BlockingBridge,
    private readonly batchSize: number,
    private readonly onBatch?: (b: CommittedBatch) => void,
  ) {}

  static open(id: string, init: LocalSinkInit, batchSize: number, onBatch?: (b: CommittedBatch) => void): LocalCommitSession {
    const bridge = new BlockingBridge(new URL("./local-sink-worker.js", import.meta.url), init);
    const session = new LocalCommitSession(id, bridge, batchSize, onBatch);
    try {
      bridge.call("ready");
    } catch (err) {
      void bridge.close();
      throw err;
    }
    sessions.set(id, session);
    return session;
  }

  add(m: ReplayedMessage): void {
    this.buffer.push(m);
    if (this.buffer.length >= this.batchSize) this.flush();
  }

  /** Hands the buffer to the commit worker; waits for the previous batch first (one in flight). */
  private flush(): void {
    if (this.buffer.length === 0) return;
    this.settle();
    this.bridge.post("commit", encodeBatch(this.buffer));
    this.buffer = [];
  }

  /** Commits what is buffered and waits until every batch is durable. */
  drain(): void {
    this.flush();
    this.settle();
  }

  /** Waits for the batch in flight, if any (an optional call would skip the wait with no listener). */
  private settle(): void {
    if (!this.bridge.busy) return;
    const committed = this.bridge.wait<CommittedBatch>();
    this.onBatch?.(committed);
  }

  /** Subject data keys (base64) of the data dir, by kid; erased subjects are missing. */
  subjectKeys(kids: string[]): Record<string, string> {
    return this.bridge.call<Record<string, string>>("subjectKeys", kids);
  }

  totals(): Counts {
    return this.bridge.call<Counts>("totals");
  }

  async close(): Promise<void> {
    sessions.delete(this.id);
    try {
      if (this.bridge.busy) this.bridge.wait();
      this.bridge.call("close");
    } finally {
      await this.bridge.close();
    }
  }
}

const sessions = new Map<string, LocalCommitSession>();

function sessionOf(ctx: LocalSinkContext): LocalCommitSession {
  const s = sessions.get(ctx.session);
  if (!s) {
    throw new Error(
      `the local commit sink ${ctx.session} is not open in this process. ` +
        `It runs only on the DirectRunner, in the process that opened the data dir (runBatchOnDirectRunner).`,
    );
  }
  return s;
}

export function writeValid(v: ValidEvent, ctx: LocalSinkContext): void {
  // The event's own message carries it (a cycle the structured clone keeps), so the line is not copied twice.
  const m = v.message as ReplayedMessage;
  m.outcome = v;
  sessionOf(ctx).add(m);
}

export function writeDeadLetter(dl: DeadLetter, ctx: LocalSinkContext): void {
  sessionOf(ctx).add({ data: dl.raw, origin: dl.origin, receivedAtMs: dl.receivedAtMs, outcome: dl });
}

export function drainSession(ctx: LocalSinkContext): void {
  sessionOf(ctx).drain();
}

requireForSerialization(LOCAL_SINK_MODULE, { writeValid, writeDeadLetter, drainSession });

/** The sink steps of a pipeline on the DirectRunner, bound to an open session. */
export function localSink(session: string): IngestSink {
  const ctx: LocalSinkContext = { session };
  return {
    writeSuccessful: (valid) => {
      valid.apply(beam.withName("WriteSuccessfulRecords", beam.parDo({ process: writeValid, finishBundle: drainSession }, ctx)));
    },
    writeFailed: (dead) => {
      dead.apply(beam.withName("WriteFailedRecords", beam.parDo({ process: writeDeadLetter, finishBundle: drainSession }, ctx)));
    },
  };
}
