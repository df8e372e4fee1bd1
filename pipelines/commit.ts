/**
 * The one commit procedure: a parsed batch committed exactly once through
 * the roles of sinks/roles.ts, whichever backend plays them (DuckDB + local
 * files for the local runner and the Beam DirectRunner, BigQuery + GCS for
 * Dataflow).
 *
 * Order (each arrow is a point where a crash is safe):
 *   [named batch already committed? -> only finalize its Bronze files again]
 *   begin -> claim the event_ids -> resolve the subject keys -> project ->
 *   [inspect the free text, when a batch inspector is given] -> Bronze temp files -> Silver rows + state merge, dead letters, new keys,
 *   drift, manifest, extensions -> COMMIT -> finalize Bronze -> (caller) ack.
 * A crash before COMMIT leaves nothing visible (temp files are orphans that
 * recovery removes) and the unacked messages come again. A crash after COMMIT
 * leaves the batch committed: recovery (or the retried named batch) finishes
 * Bronze, and the redelivered messages are all duplicates.
 */
import type { BatchRef, Counts } from "../schemas/ops.js";
import type { Domain } from "../schemas/registry.js";
import type { BronzeWriter, Claim, KeyStore, WarehouseStore, WarehouseTransaction } from "../sinks/roles.js";
import { deadLetterRow } from "../transforms/dead-letter.js";
import { type TextInspection, inspectFreeText } from "./inspect-free-text.js";
import { type BatchBreakdown, allDuplicates, batchBreakdown } from "./observe/breakdown.js";
import type { ParsedBatch } from "./parse-batch.js";

export const FAULT_POINTS = ["after_bronze_temp", "before_commit", "after_commit", "after_rename", "after_ack"] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

/** Test hook: called at each fault point with the batch's event ids; a crash test makes it kill the process, a poison test throw. */
export type FaultHook = (point: FaultPoint, ids: readonly string[]) => void;

/** `BatchBreakdown`: the counts per event type and dead-letter reason, and the new rows' event times (for the metrics). */
export interface BatchResult extends Counts, BatchBreakdown {
  batch: BatchRef;
  /** The batch had committed before (a retry): nothing new was written. */
  alreadyCommitted: boolean;
  /** Milliseconds spent per phase: parse, claim, keys, project, silver, bronze, ops, commit, rename. */
  phases: Record<string, number>;
  /** New Silver rows per domain. */
  perDomain: Partial<Record<Domain, number>>;
  /** event_time range of the new rows, epoch ms. */
  minEventTimeMs?: number;
  maxEventTimeMs?: number;
  /** The `ingested_at` of every new row of the batch, epoch ms. */
  ingestedAtMs: number;
}

/** Work that joins every batch: inside its transaction (committed or rolled back with it) or after its commit. */
export interface BatchExtension<Tx extends WarehouseTransaction = WarehouseTransaction> {
  name: string;
  beforeCommit?(tx: Tx, result: BatchResult): Promise<void>;
  /** Runs after the commit and Bronze; a failure here is the extension's to report (the batch is durable). */
  afterCommit?(result: BatchResult): Promise<void>;
}

export interface CommitRoles<Tx extends WarehouseTransaction = WarehouseTransaction> {
  warehouse: Omit<WarehouseStore, "begin"> & { begin(name?: string): Promise<Tx> };
  bronze: BronzeWriter;
  keys: KeyStore;
  extensions?: readonly BatchExtension<Tx>[];
  fault?: FaultHook;
  /** Free text inspected once per batch (Cloud DLP); absent: the built-in rules of the projection only. */
  text?: TextInspection;
}

/** Commits a parsed batch (see the header). `name`: a batch name a retry computes again; the store names it otherwise. */
export async function commitBatch<Tx extends WarehouseTransaction>(
  parsed: ParsedBatch,
  roles: CommitRoles<Tx>,
  opts: { origin: string; name?: string },
): Promise<BatchResult> {
  const phases: Record<string, number> = { parse: parsed.parseMs };
  let mark = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    phases[name] = (phases[name] ?? 0) + (now - mark);
    mark = now;
  };
  const ingestedAtMs = Date.now();
  if (opts.name) {
    const done = await roles.warehouse.committedBatch(opts.name);
    if (done) {
      parsed.discard?.();
      await roles.bronze.finalize(done.ref, done.bronzeFiles);
      const breakdown = allDuplicates(parsed.validByType, parsed.dead);
      return { ...zero(parsed.read), ...breakdown, batch: done.ref, alreadyCommitted: true, phases, perDomain: {}, ingestedAtMs };
    }
  }
  let tx: Tx;
  try {
    tx = await roles.warehouse.begin(opts.name);
  } catch (err) {
    parsed.discard?.();
    throw err;
  }
  try {
    const claims: Claim[] = parsed.ids.map((id, i) => ({ id, domain: parsed.domains[i]!, date: parsed.dates[i]! }));
    const fresh = await tx.claimEventIds(claims);
    lap("claim");
    const freshRefs = new Set<string>();
    parsed.ids.forEach((id, i) => {
      const ref = parsed.refs[i];
      if (ref !== undefined && fresh.has(id)) freshRefs.add(ref);
    });
    const { keys, created } = await roles.keys.resolve([...freshRefs], roles.warehouse as WarehouseStore);
    lap("keys");
    const projection = await parsed.project(fresh, keys, ingestedAtMs);
    // Events step 4 threw on are dead letters, not Silver rows: their claims go back, so a replay can commit them.
    if (projection.failedIds.length) {
      await tx.unclaimEventIds(projection.failedIds);
      for (const id of projection.failedIds) fresh.delete(id);
    }
    lap("project");
    if (roles.text) {
      await inspectFreeText(projection.rows, roles.text);
      lap("inspect");
    }
    // Bronze compression and writes run on the thread pool while the Silver rows are written.
    const bronzeWritten = roles.bronze.writeTemp(tx.batch, projection.partitions);
    bronzeWritten.catch(() => undefined); // awaited below; no unhandled rejection if Silver fails first
    await tx.writeSilver(projection.rows);
    lap("silver");
    const files = await bronzeWritten;
    lap("bronze");
    roles.fault?.("after_bronze_temp", parsed.ids);
    const dead = projection.dead.length ? [...parsed.dead, ...projection.dead] : parsed.dead;
    const deadRows = dead.map(deadLetterRow);
    const newDeadIds = await tx.writeDeadLetters(deadRows);
    const newDead = newDeadIds.size;
    await tx.putSubjectKeys(created);
    await tx.recordDrift(projection.drift);
    const counts: Counts = {
      read: parsed.read,
      valid: fresh.size,
      duplicates: parsed.inBatchDuplicates + (parsed.ids.length - fresh.size - projection.failedIds.length) + (dead.length - newDead),
      dead_lettered: newDead,
      pans_redacted: parsed.pansRedacted,
    };
    const result: BatchResult = {
      ...counts,
      ...batchBreakdown(parsed.validByType, projection.rows, projection.dead, dead, deadRows, newDeadIds),
      batch: tx.batch,
      alreadyCommitted: false,
      phases,
      perDomain: Object.fromEntries([...projection.rows].map(([d, r]) => [d, r.length])),
      minEventTimeMs: fresh.size ? projection.minT : undefined,
      maxEventTimeMs: fresh.size ? projection.maxT : undefined,
      ingestedAtMs,
    };
    await tx.recordBatch({ ...counts, origin: opts.origin, bronzeFiles: files });
    for (const ext of roles.extensions ?? []) await ext.beforeCommit?.(tx, result);
    roles.fault?.("before_commit", parsed.ids);
    lap("ops");
    await tx.commit();
    lap("commit");
    roles.keys.committed();
    roles.fault?.("after_commit", parsed.ids);
    if (files.length) {
      await roles.bronze.finalize(tx.batch, files);
      await roles.warehouse.markBronzeDone(tx.batch);
    }
    lap("rename");
    roles.fault?.("after_rename", parsed.ids);
    for (const ext of roles.extensions ?? []) await ext.afterCommit?.(result);
    return result;
  } catch (err) {
    parsed.discard?.();
    await tx.rollback().catch(() => undefined);
    throw err;
  }
}

function zero(read: number): Counts {
  return { read, valid: 0, duplicates: read, dead_lettered: 0, pans_redacted: 0 };
}

/** Startup recovery: finish Bronze for committed batches, then remove temp files no committed batch owns. */
export async function recover(warehouse: WarehouseStore, bronze: BronzeWriter): Promise<{ finalized: number; orphans: number }> {
  const pending = await warehouse.pendingBronze();
  for (const b of pending) {
    await bronze.finalize(b.ref, b.bronzeFiles);
    await warehouse.markBronzeDone(b.ref);
  }
  return { finalized: pending.length, orphans: await bronze.removeOrphans() };
}
