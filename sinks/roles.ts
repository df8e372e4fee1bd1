/**
 * The roles a backend plays in the one commit procedure
 * (pipelines/commit.ts), each behind a small interface, the way each kysely
 * dialect fills the same role files:
 *
 *   WarehouseStore / WarehouseTransaction  Silver, the state tables, dead letters, subject keys,
 *                                          drift and the batch manifest, one transaction per batch
 *   BronzeWriter                           raw events, written under temporary names before the
 *                                          commit and finalized after it
 *   KeyStore                               the per-person data keys, wrapped by the KEK
 *   TextInspector                          personal data found in free text
 *
 * DuckDB + local files (sinks/duckdb, sinks/local-files) and BigQuery + GCS
 * (sinks/bigquery, sinks/gcs) implement them; the text inspector is the
 * built-in detector (transforms/text-findings.ts) or Cloud DLP (sinks/dlp). Every call takes a whole batch
 * (rows or names per table), never one call per row, so a backend can load
 * columns in bulk behind the same interface.
 */
import type { BatchManifest, BatchRef, DeadLetterRow, DriftCount, NewSubjectKey, StoredSubjectKey } from "../schemas/ops.js";
import type { Domain } from "../schemas/registry.js";
import type { SubjectKey } from "../transforms/protect.js";
import type { TextFinding } from "../transforms/text-findings.js";
import type { SilverRow } from "../transforms/to-silver.js";

/** An event the batch wants to commit: its id, and where its Silver row goes (a backend that dedupes on Silver reads only those partitions). */
export interface Claim {
  id: string;
  domain: Domain;
  /** UTC date of event_time, `YYYY-MM-DD`. */
  date: string;
}

/** A committed batch, as its manifest records it. */
export interface CommittedBatch {
  ref: BatchRef;
  bronzeFiles: string[];
}

export interface WarehouseStore {
  /**
   * Starts a batch transaction (one at a time per store). `name` names a
   * batch a retry will compute again (the Dataflow sink's window and shard);
   * without it the store names the batch.
   */
  begin(name?: string): Promise<WarehouseTransaction>;
  /** The manifest of a batch already committed under `name`, or undefined. */
  committedBatch(name: string): Promise<CommittedBatch | undefined>;
  /** Committed batches whose Bronze files may not all be in place yet. */
  pendingBronze(): Promise<CommittedBatch[]>;
  /** Records that a committed batch's Bronze files are all in place. */
  markBronzeDone(ref: BatchRef): Promise<void>;
  /** The stored (wrapped) data keys among `kids` (what Bronze envelopes name); an erased person's kid is missing. */
  storedSubjectKeys(kids: readonly string[]): Promise<Map<string, Buffer>>;
  /** Every stored data key of the people `refs` name (a rotation leaves several). */
  subjectKeysOf(refs: readonly string[]): Promise<StoredSubjectKey[]>;
  /** Which of `refs` name erased people (ops.erased_subjects): no key is made for them and none of their personal data is kept. */
  erasedSubjects(refs: readonly string[]): Promise<Set<string>>;
}

export interface WarehouseTransaction {
  readonly batch: BatchRef;
  /** Claims the events; returns the ids not committed before (the rest are duplicates). */
  claimEventIds(claims: readonly Claim[]): Promise<Set<string>>;
  /** Gives claims back (events that became dead letters after their claim). */
  unclaimEventIds(ids: readonly string[]): Promise<void>;
  /** Appends the Silver rows and folds them into the state tables. */
  writeSilver(rows: ReadonlyMap<Domain, SilverRow[]>): Promise<void>;
  /** Stores dead letters; returns the dl_ids that were new (a redelivered bad message is stored once). */
  writeDeadLetters(rows: readonly DeadLetterRow[]): Promise<ReadonlySet<string>>;
  /** Stores the data keys the batch created (a backend may have stored them already: see KeyStore). */
  putSubjectKeys(keys: readonly NewSubjectKey[]): Promise<void>;
  recordDrift(drift: readonly DriftCount[]): Promise<void>;
  recordBatch(manifest: BatchManifest): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

export interface BronzeWriter {
  /** Writes each partition's lines under a temporary name; returns the final names (what the manifest records). */
  writeTemp(batch: BatchRef, partitions: ReadonlyMap<string, string[]>): Promise<string[]>;
  /** Moves a committed batch's files to their final names. Idempotent: run it again after any crash. */
  finalize(batch: BatchRef, names: readonly string[]): Promise<void>;
  /** Removes temporary files no committed batch owns (after pending batches are finalized); how many went. */
  removeOrphans(): Promise<number>;
}

export interface ResolvedKeys {
  /** The key each person's data of this batch is encrypted under, by the person's reference; null for an erased person (their data is dropped). */
  keys: Map<string, SubjectKey | null>;
  /** Keys made for this batch that the transaction must store. */
  created: NewSubjectKey[];
}

export interface KeyStore {
  /** The current data key of each person `refs` names: cached, stored, or new (a new random kid); null for an erased person. */
  resolve(refs: readonly string[], warehouse: WarehouseStore): Promise<ResolvedKeys>;
  /** The batch that resolved last committed: its new keys may be cached. */
  committed(): void;
  /** Drops what is cached for `refs` (their keys were just destroyed by an erasure in this process). */
  forget(refs: readonly string[]): void;
}

/** Personal data found in a text: its span (UTF-16 offsets into the text) and what it is (DLP's info type names). */
export type { TextFinding };

/**
 * Inspects free text (search queries, messages, titles, URLs) for personal
 * data, a whole batch in one call: the built-in detector locally, Cloud DLP
 * as the production option. What it finds is tokenized in Silver and kept
 * only encrypted in Bronze.
 */
export interface TextInspector {
  readonly name: string;
  /** Findings per text, in the order of `texts`. */
  inspect(texts: readonly string[]): Promise<TextFinding[][]>;
}
