/**
 * Steps 1-4 on worker threads. The steps are pure, so they run on every core
 * while the commit thread does what must stay on one thread: the DuckDB
 * transaction (claim, append, commit), the keyring and the Bronze renames.
 * A batch is split into one contiguous chunk per worker; the first copy of an
 * event_id in arrival order wins across chunks, exactly as `parseBatch` does
 * in one thread, so both give the same commit.
 */
import { Worker } from "node:worker_threads";
import type { Domain } from "../../schemas/registry.js";
import type { DriftCount } from "../../schemas/ops.js";
import type { SubjectKey } from "../../transforms/protect.js";
import type { SilverRow } from "../../transforms/to-silver.js";
import type { TokenKey } from "../../transforms/tokenize.js";
import type { DeadLetter, RawMessage } from "../../transforms/types.js";
import { type ParsedBatch, type Projection, mergeDrift } from "../parse-batch.js";

/** A data key for a worker: reference, kid and bytes, or the reference and null for an erased person. */
export type WorkerKey = [ref: string, kid: string, key: Uint8Array] | [ref: string, kid: null];

export type ToWorker =
  | { op: "parse"; chunk: number; messages: readonly RawMessage[] }
  /** `keys`: the data key of each person the chunk's fresh events name. */
  | { op: "project"; chunk: number; fresh: string[]; keys: WorkerKey[]; ingestedAtMs: number }
  | { op: "drop"; chunk: number };

/** A worker's parse of one chunk: the data half of a ParsedBatch. */
type Parsed = Omit<ParsedBatch, "project" | "discard"> & { chunk: number };

interface Projected {
  chunk: number;
  rows: [Domain, SilverRow[]][];
  partitions: [string, string[]][];
  drift: DriftCount[];
  minT: number;
  maxT: number;
  dead: DeadLetter[];
  failedIds: string[];
}

// Run from TypeScript sources (vitest), the worker is taken from the build in
// dist/ (`npm test` builds first): a worker thread cannot load .ts itself.
const WORKER_URL = import.meta.url.endsWith(".ts")
  ? new URL("../../dist/pipelines/local/parse-worker.js", import.meta.url)
  : new URL("./parse-worker.js", import.meta.url);

class ParseWorker {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;

  constructor(tokenKey: TokenKey) {
    this.worker = new Worker(WORKER_URL, {
      workerData: { tokenKey: { id: tokenKey.id, secret: new Uint8Array(tokenKey.secret) } },
    });
    this.worker.on("message", (m: { chunk: number; error?: string }) => {
      const w = this.waiting.get(m.chunk);
      this.waiting.delete(m.chunk);
      if (this.waiting.size === 0) this.worker.unref();
      if (m.error) w?.reject(new Error(`parse worker failed: ${m.error}`));
      else w?.resolve(m);
    });
    this.worker.on("error", (err) => this.fail(err));
    this.worker.on("exit", (code) => {
      if (code !== 0) this.fail(new Error(`parse worker exited with code ${code}`));
    });
    // Referenced only while a call waits on it: an idle pool never keeps the process alive.
    this.worker.unref();
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  call<T>(msg: ToWorker): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.worker.ref();
      this.waiting.set(msg.chunk, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage(msg);
    });
  }

  send(msg: ToWorker): void {
    if (!this.failure) this.worker.postMessage(msg);
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

export class ParallelParser {
  private readonly workers: ParseWorker[];
  private nextChunk = 1;
  /**
   * Opens when the previous batch has posted its project (or was discarded).
   * A worker runs its messages in order, so parsing the next batch must queue
   * behind the previous batch's projection, not before it: the commit thread
   * waits on that projection, while the next parse overlaps the rest of the commit.
   */
  private gate: Promise<void> = Promise.resolve();

  constructor(threads: number, tokenKey: TokenKey) {
    this.workers = Array.from({ length: threads }, () => new ParseWorker(tokenKey));
  }

  async parse(messages: readonly RawMessage[]): Promise<ParsedBatch> {
    await this.gate;
    let open!: () => void;
    this.gate = new Promise<void>((resolve) => (open = resolve));
    const t0 = performance.now();
    const size = Math.ceil(messages.length / this.workers.length);
    const jobs = this.workers.map((w, i) => ({ w, part: messages.slice(i * size, (i + 1) * size), chunk: this.nextChunk++ })).filter((j) => j.part.length > 0);
    const parts = await Promise.all(jobs.map((j) => j.w.call<Parsed>({ op: "parse", chunk: j.chunk, messages: j.part })));

    // Across chunks the first copy of an id wins, as in one thread.
    const owner = new Map<string, number>();
    const ids: string[] = [];
    const domains: ParsedBatch["domains"] = [];
    const dates: string[] = [];
    const refs: (string | undefined)[] = [];
    const dead: DeadLetter[] = [];
    let inBatchDuplicates = 0;
    const validByType: ParsedBatch["validByType"] = {};
    let pansRedacted = 0;
    parts.forEach((p, j) => {
      inBatchDuplicates += p.inBatchDuplicates;
      for (const [t, n] of Object.entries(p.validByType) as [keyof ParsedBatch["validByType"], number][]) validByType[t] = (validByType[t] ?? 0) + n;
      pansRedacted += p.pansRedacted;
      for (const d of p.dead) dead.push({ ...d, raw: asBuffer(d.raw) });
      for (let i = 0; i < p.ids.length; i++) {
        const id = p.ids[i]!;
        if (owner.has(id)) inBatchDuplicates++;
        else {
          owner.set(id, j);
          ids.push(id);
          domains.push(p.domains[i]!);
          dates.push(p.dates[i]!);
          refs.push(p.refs[i] ?? undefined);
        }
      }
    });
    return {
      read: messages.length,
      dead,
      inBatchDuplicates,
      validByType,
      pansRedacted,
      parseMs: performance.now() - t0,
      ids,
      domains,
      dates,
      refs,
      project: async (fresh: ReadonlySet<string>, keys: ReadonlyMap<string, SubjectKey | null>, ingestedAtMs: number) => {
        const perChunk: string[][] = jobs.map(() => []);
        const refsPerChunk: Set<string>[] = jobs.map(() => new Set());
        for (let i = 0; i < ids.length; i++) {
          const id = ids[i]!;
          if (!fresh.has(id)) continue;
          const j = owner.get(id)!;
          perChunk[j]!.push(id);
          const ref = refs[i];
          if (ref !== undefined) refsPerChunk[j]!.add(ref);
        }
        const calls = jobs.map((job, j) =>
          job.w.call<Projected>({
            op: "project",
            chunk: job.chunk,
            fresh: perChunk[j]!,
            keys: [...refsPerChunk[j]!].flatMap((ref): WorkerKey[] => {
              const k = keys.get(ref);
              if (k === null) return [[ref, null]];
              return k ? [[ref, k.kid, new Uint8Array(k.key)]] : [];
            }),
            ingestedAtMs,
          }),
        );
        open();
        return merge(await Promise.all(calls));
      },
      discard: () => {
        for (const j of jobs) j.w.send({ op: "drop", chunk: j.chunk });
        open();
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Chunks in order, so rows and Bronze lines keep arrival order as in one thread. */
function merge(parts: Projected[]): Projection {
  const rows = new Map<Domain, SilverRow[]>();
  const partitions = new Map<string, string[]>();
  let minT = Infinity;
  let maxT = -Infinity;
  const dead: DeadLetter[] = [];
  const failedIds: string[] = [];
  for (const p of parts) {
    for (const d of p.dead) dead.push({ ...d, raw: asBuffer(d.raw) });
    for (const id of p.failedIds) failedIds.push(id);
    for (const [d, list] of p.rows) {
      const into = rows.get(d);
      if (into) for (const r of list) into.push(r);
      else rows.set(d, list);
    }
    for (const [name, lines] of p.partitions) {
      const into = partitions.get(name);
      if (into) for (const l of lines) into.push(l);
      else partitions.set(name, lines);
    }
    minT = Math.min(minT, p.minT);
    maxT = Math.max(maxT, p.maxT);
  }
  return { rows, partitions, drift: mergeDrift(parts.map((p) => p.drift)), minT, maxT, dead, failedIds };
}
