/**
 * The local executor's resources for one data dir: the DuckDB store, Bronze,
 * keys and the step list. Opening it makes the data dir private (0700),
 * checks that the keys are private and are the store's own, then runs
 * recovery, so a crashed run is made whole before anything new is read; a
 * key that fails either check stops it before anything is written.
 */
import fs from "node:fs";
import path from "node:path";
import { type Registry, createRegistry } from "../../schemas/registry.js";
import { DuckDbStore } from "../../sinks/duckdb/store.js";
import { checkStoreKeys, recordStoreKeys } from "../../sinks/keys/fingerprints.js";
import { type KeyMaterial, keysDir, loadKeys } from "../../sinks/keys/local-keys.js";
import { SubjectKeyring } from "../../sinks/keys/subject-keys.js";
import { LocalBronze } from "../../sinks/local-files/bronze.js";
import { ensurePrivateDir } from "../../sinks/local-files/private-files.js";
import { deadLetter } from "../../transforms/dead-letter.js";
import type { RawMessage } from "../../transforms/types.js";
import { type ElementSteps, elementSteps } from "../ingest-steps.js";
import { ParallelParser } from "./parallel-parse.js";
import { registerGold } from "../../gold/register.js";
import {
  type BatchDeps,
  type BatchExtension,
  type BatchResult,
  type FaultPoint,
  type ParsedBatch,
  commitBatch,
  parseBatch,
  recover,
} from "./process-batch.js";

export interface Totals {
  read: number;
  valid: number;
  duplicates: number;
  dead_lettered: number;
  pans_redacted: number;
}

export function emptyTotals(): Totals {
  return { read: 0, valid: 0, duplicates: 0, dead_lettered: 0, pans_redacted: 0 };
}

export function addToTotals(t: Totals, r: BatchResult): void {
  t.read += r.read;
  t.valid += r.valid;
  t.duplicates += r.duplicates;
  t.dead_lettered += r.deadLettered;
  t.pans_redacted += r.pansRedacted;
}

export function storePath(dataDir: string): string {
  return path.join(dataDir, "ecom.duckdb");
}

export class Engine {
  private constructor(
    readonly dataDir: string,
    readonly store: DuckDbStore,
    readonly bronze: LocalBronze,
    readonly keys: KeyMaterial,
    readonly keyring: SubjectKeyring,
    readonly steps: ElementSteps,
    private readonly fault?: (p: FaultPoint, ids: readonly string[]) => void,
  ) {}

  /**
   * `parseThreads` > 0 runs steps 1-4 on that many worker threads (the default
   * registry only; a custom registry parses in this thread).
   */
  static async open(
    dataDir: string,
    opts: { fault?: (p: FaultPoint, ids: readonly string[]) => void; registry?: Registry; parseThreads?: number } = {},
  ): Promise<Engine> {
    ensurePrivateDir(dataDir);
    const dbFile = storePath(dataDir);
    // Keys first: a data dir with a store but no readable keys fails closed before anything opens.
    const keys = loadKeys(dataDir, !fs.existsSync(dbFile));
    // Then whether they are the store's own keys, before the store writes anything (even its DDL).
    const store = await DuckDbStore.open(dbFile, { beforeWrite: (s) => checkStoreKeys(s, keys, keysDir(dataDir)) });
    try {
      await recordStoreKeys(store, keys);
    } catch (err) {
      store.close();
      throw err;
    }
    const bronze = new LocalBronze(dataDir);
    await recover(store, bronze);
    const engine = new Engine(dataDir, store, bronze, keys, new SubjectKeyring(keys.kek), elementSteps(opts.registry ?? createRegistry()), opts.fault);
    if (opts.parseThreads && !opts.registry) engine.parser = new ParallelParser(opts.parseThreads, keys.tokenKey);
    await registerGold(engine); // Gold: tables, interrupted refreshes, per-batch window marks + refresh
    store.protectFiles(); // recovery and Gold may have started a WAL
    return engine;
  }

  private readonly extensions: BatchExtension[] = [];
  private parser: ParallelParser | undefined;

  /** Adds work to every batch (inside its transaction or after its commit). */
  use(extension: BatchExtension): void {
    this.extensions.push(extension);
  }

  /**
   * Runs one batch through every step and commits it. `extra` joins this batch
   * only; `steps` replaces Decode/Validate (the Beam sink hands over outcomes
   * its own steps computed) while every extension still runs.
   */
  processBatch(
    messages: readonly RawMessage[],
    origin: string,
    opts: { extra?: BatchExtension; steps?: ElementSteps } = {},
  ): Promise<BatchResult> {
    const parsed = opts.steps ? parseBatch(messages, opts.steps, this.keys.tokenKey) : this.parseBatch(messages);
    return Promise.resolve(parsed).then((p) => this.commitBatch(p, origin, opts.extra));
  }

  /** The CPU half of a batch (no IO): callers may parse the next batch while the previous one commits. */
  parseBatch(messages: readonly RawMessage[]): ParsedBatch | Promise<ParsedBatch> {
    return this.parser ? this.parser.parse(messages) : parseBatch(messages, this.steps, this.keys.tokenKey);
  }

  /**
   * Commits `messages` as dead letters only (`commit_failed`, with `detail`):
   * what the delivery policy does with a message that kept failing.
   */
  setAside(messages: readonly RawMessage[], origin: string, detail: string): Promise<BatchResult> {
    const dead = messages.map((m) => deadLetter(m, "commit_failed", detail, { stage: "commit" }));
    const parsed: ParsedBatch = {
      read: messages.length,
      dead,
      inBatchDuplicates: 0,
      pansRedacted: dead.reduce((n, d) => n + d.pansRedacted, 0),
      parseMs: 0,
      ids: [],
      kids: [],
      project: () => ({ rows: new Map(), partitions: new Map(), drift: [], minT: Infinity, maxT: -Infinity, dead: [], failedIds: [] }),
    };
    return this.commitBatch(parsed, origin);
  }

  /** Commits a parsed batch. One at a time: await each before starting the next. */
  commitBatch(parsed: ParsedBatch, origin: string, extra?: BatchExtension): Promise<BatchResult> {
    return commitBatch(parsed, this.deps(extra), origin);
  }

  private deps(extra?: BatchExtension): BatchDeps {
    return {
      store: this.store,
      bronze: this.bronze,
      keyring: this.keyring,
      steps: this.steps,
      tokenKey: this.keys.tokenKey,
      fault: this.fault,
      extensions: extra ? [...this.extensions, extra] : this.extensions,
    };
  }

  close(): void {
    void this.parser?.close();
    this.store.close();
  }
}
