/**
 * The local executor's resources for one data dir: the DuckDB store, Bronze,
 * keys and the step list, playing the roles of the one commit procedure
 * (pipelines/commit.ts). Opening it makes the data dir private (0700),
 * checks that the keys are private and are the store's own, then runs
 * recovery, so a crashed run is made whole before anything new is read; a
 * key that fails either check stops it before anything is written.
 *
 * Extensions (Gold, metrics, ...) are passed in by whoever builds a runtime
 * (`use`); the engine knows none of them.
 */
import fs from "node:fs";
import { type Registry, createRegistry } from "../../schemas/registry.js";
import { DuckDbStore, type DuckDbTransaction } from "../../sinks/duckdb/store.js";
import { checkStoreKeys, recordStoreKeys } from "../../sinks/keys/fingerprints.js";
import { type KekSource, LOCAL_KEK, type OpenedKek, openKek } from "../../sinks/keys/kek.js";
import { type KeyMaterial, loadKeys } from "../../sinks/keys/local-keys.js";
import { SubjectKeyring } from "../../sinks/keys/subject-keys.js";
import { LocalBronze } from "../../sinks/local-files/bronze.js";
import { type TextInspectorSource, openTextInspector } from "../../sinks/text-inspector.js";
import { dataDirPaths } from "../../sinks/local-files/data-dir.js";
import { ensurePrivateDir } from "../../sinks/local-files/private-files.js";
import { deadLetter } from "../../transforms/dead-letter.js";
import { tokenRedaction } from "../../transforms/text-findings.js";
import type { RawMessage } from "../../transforms/types.js";
import { type BatchExtension, type BatchResult, type FaultHook, commitBatch, recover } from "../commit.js";
import type { TextInspection } from "../inspect-free-text.js";
import { type ElementSteps, elementSteps } from "../ingest-steps.js";
import { type ParsedBatch, deadLettersOnly, parseBatch } from "../parse-batch.js";
import { ParallelParser } from "./parallel-parse.js";

/** An extension of the local engine: its transaction is DuckDB's. */
export type EngineExtension = BatchExtension<DuckDbTransaction>;

export interface EngineOptions {
  fault?: FaultHook;
  /** A registry other than the contract's (tests of the guard give one whose schema throws). */
  registry?: Registry;
  /** > 0: steps 1-4 on that many worker threads (the default registry only). */
  parseThreads?: number;
  /** Where the key-encryption key is: the data dir's kek.json (default) or a Cloud KMS key. */
  kek?: KekSource;
  /** Free text inspected once per batch: Cloud DLP; the built-in rules alone by default. */
  textInspector?: TextInspectorSource;
}

/** The services an engine opens for its data dir: plain data, so it crosses into a worker thread. */
export type EngineServices = Pick<EngineOptions, "kek" | "textInspector">;

export class Engine {
  private readonly extensions: EngineExtension[] = [];
  private parser: ParallelParser | undefined;
  private text: (TextInspection & { inspector: { close(): Promise<void> } }) | undefined;

  private constructor(
    readonly dataDir: string,
    readonly store: DuckDbStore,
    readonly bronze: LocalBronze,
    readonly keys: KeyMaterial,
    /** The key-encryption key, local or Cloud KMS: what wraps and unwraps every subject key of this data dir. */
    readonly kek: OpenedKek,
    readonly keyring: SubjectKeyring,
    readonly steps: ElementSteps,
    private readonly fault?: FaultHook,
  ) {}

  static async open(dataDir: string, opts: EngineOptions = {}): Promise<Engine> {
    ensurePrivateDir(dataDir);
    const paths = dataDirPaths(dataDir);
    // Keys first: a data dir with a store but no readable keys fails closed before anything opens.
    const source = opts.kek ?? LOCAL_KEK;
    const fresh = !fs.existsSync(paths.store);
    // kek.json is made only for a fresh data dir on the local KEK; otherwise it is read when it is there, and openKek says what a missing one means.
    const keys = loadKeys(dataDir, fresh, { localKek: fresh && source.kind === "local" });
    const kek = await openKek(source, keys);
    // Then whether they are the store's own keys, before the store writes anything (even its DDL).
    let store: DuckDbStore;
    try {
      store = await DuckDbStore.open(paths.store, { beforeWrite: (s) => checkStoreKeys(s, keys, kek, paths.keys) });
    } catch (err) {
      await kek.close();
      throw err;
    }
    try {
      await recordStoreKeys(store, keys, kek.record);
      const bronze = new LocalBronze(dataDir);
      await recover(store, bronze);
      const engine = new Engine(dataDir, store, bronze, keys, kek, new SubjectKeyring(kek), elementSteps(opts.registry ?? createRegistry()), opts.fault);
      const inspector = await openTextInspector(opts.textInspector);
      if (inspector) engine.text = { inspector, redact: tokenRedaction(keys.tokenKey) };
      if (opts.parseThreads && !opts.registry) engine.parser = new ParallelParser(opts.parseThreads, keys.tokenKey);
      store.protectFiles(); // recovery may have started a WAL
      return engine;
    } catch (err) {
      store.close();
      await kek.close();
      throw err;
    }
  }

  /** Adds work to every batch (inside its transaction or after its commit). */
  use(extension: EngineExtension): void {
    this.extensions.push(extension);
  }

  /**
   * Runs one batch through every step and commits it. `extra` joins this batch
   * only; `steps` replaces Decode/Validate (the Beam sink hands over outcomes
   * its own steps computed) while every extension still runs.
   */
  async processBatch(messages: readonly RawMessage[], origin: string, opts: { extra?: EngineExtension; steps?: ElementSteps } = {}): Promise<BatchResult> {
    const parsed = opts.steps ? parseBatch(messages, opts.steps, this.keys.tokenKey) : await this.parseBatch(messages);
    return this.commitBatch(parsed, origin, opts.extra);
  }

  /** The CPU half of a batch (no IO): callers may parse the next batch while the previous one commits. */
  parseBatch(messages: readonly RawMessage[]): ParsedBatch | Promise<ParsedBatch> {
    return this.parser ? this.parser.parse(messages) : parseBatch(messages, this.steps, this.keys.tokenKey);
  }

  /** Commits `messages` as dead letters only (`commit_failed`, with `detail`): what the delivery policy does with a message that kept failing. */
  setAside(messages: readonly RawMessage[], origin: string, detail: string): Promise<BatchResult> {
    const dead = messages.map((m) => deadLetter(m, "commit_failed", detail, { stage: "commit" }));
    return this.commitBatch(deadLettersOnly(dead, this.keys.tokenKey), origin);
  }

  /** Commits a parsed batch. One at a time: await each before starting the next. */
  commitBatch(parsed: ParsedBatch, origin: string, extra?: EngineExtension): Promise<BatchResult> {
    return commitBatch(
      parsed,
      {
        warehouse: this.store,
        bronze: this.bronze,
        keys: this.keyring,
        extensions: extra ? [...this.extensions, extra] : this.extensions,
        fault: this.fault,
        text: this.text,
      },
      { origin },
    );
  }

  close(): void {
    void this.parser?.close();
    this.store.close();
    void this.kek.close();
    void this.text?.inspector.close();
  }
}
