/**
 * The local executor's unit of work: one micro-batch through every ingest step
 * and committed exactly once.
 *
 * Order (each arrow is a point where a crash is safe):
 *   parse + validate -> claim event_ids (in the open transaction) -> write
 *   Bronze temp files -> Silver rows, dead letters, keys, drift, manifest ->
 *   COMMIT -> rename Bronze files -> (caller) ack.
 * A crash before COMMIT rolls everything back (temp files are orphans that
 * recovery deletes) and the unacked messages come again. A crash after COMMIT
 * leaves the batch committed: recovery finishes the renames and the redelivered
 * messages are all duplicates.
 */
import { createHash } from "node:crypto";
import type { Domain } from "../../schemas/registry.js";
import type { BatchTransaction, DuckDbStore, DeadLetterRow, DriftCount } from "../../sinks/duckdb/store.js";
import type { SubjectKeyring } from "../../sinks/keys/subject-keys.js";
import type { LocalBronze } from "../../sinks/local-files/bronze.js";
import type { SubjectKey } from "../../transforms/protect.js";
import type { SilverRow } from "../../transforms/to-silver.js";
import type { TokenKey } from "../../transforms/tokenize.js";
import type { DeadLetter, RawMessage, ValidEvent } from "../../transforms/types.js";
import { type ElementSteps, dedupeWithinBatch, internalError, parseMessage, project, subjectKidOf } from "../ingest-steps.js";

export const FAULT_POINTS = ["after_bronze_temp", "before_commit", "after_commit", "after_rename", "after_ack"] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

export interface BatchDeps {
  store: DuckDbStore;
  bronze: LocalBronze;
  keyring: SubjectKeyring;
  steps: ElementSteps;
  tokenKey: TokenKey;
  /** Test hook: called at each fault point with the batch's event ids; a test makes it kill the process or throw. */
  fault?: (point: FaultPoint, ids: readonly string[]) => void;
  /** Work that joins the batch's transaction (e.g. marking Gold windows dirty) or follows its commit. */
  extensions?: readonly BatchExtension[];
}

export interface BatchExtension {
  name: string;
  /** Runs inside the batch transaction, after the Silver rows are written: commits or rolls back with them. */
  beforeCommit?(tx: BatchTransaction, result: BatchResult): Promise<void>;
  /** Runs after the commit and the Bronze renames; a failure here is logged, not fatal (the work is durable). */
  afterCommit?(result: BatchResult): Promise<void>;
}

export interface BatchResult {
  batchId: bigint;
  read: number;
  valid: number;
  duplicates: number;
  deadLettered: number;
  pansRedacted: number;
  /** Milliseconds spent per phase: parse, claim, keys, project, bronze, silver, commit, rename. */
  phases: Record<string, number>;
  /** New Silver rows per domain. */
  perDomain: Partial<Record<Domain, number>>;
  /** event_time range of the new rows (for Gold refresh), epoch ms. */
  minEventTimeMs?: number;
  maxEventTimeMs?: number;
  rows: Map<Domain, SilverRow[]>;
}

export function deadLetterRow(dl: DeadLetter): DeadLetterRow {
  return {
    dl_id: createHash("sha256").update(dl.raw).digest("hex").slice(0, 32),
    reason: dl.reason,
    detail: dl.detail,
    paths: JSON.stringify(dl.paths),
    stage: dl.stage,
    event_id: dl.event_id ?? null,
    event_type: dl.event_type ?? null,
    schema_version: dl.schema_version ?? null,
    origin: dl.origin,
    raw: dl.raw,
    received_at: dl.receivedAtMs,
  };
}

/** Step 4's output for a batch's fresh events. */
export interface Projection {
  rows: Map<Domain, SilverRow[]>;
  partitions: Map<string, string[]>;
  drift: DriftCount[];
  minT: number;
  maxT: number;
  /** Fresh events step 4 threw on: dead letters instead of rows, their event_ids given back. */
  dead: DeadLetter[];
  failedIds: string[];
}

/**
 * Steps 1-3a done (parse every message, drop in-batch duplicates), step 4
 * ready to run: the batch's unique event_ids with their subject key ids, and
 * `project` for the ids that turn out fresh. In this thread (`parseBatch`) or
 * in worker threads (`ParallelParser`), the same functions run.
 */
export interface ParsedBatch {
  read: number;
  dead: DeadLetter[];
  inBatchDuplicates: number;
  pansRedacted: number;
  parseMs: number;
  /** Unique event_ids in arrival order, and the subject key id of each (undefined: no personal data owner). */
  ids: string[];
  kids: (string | undefined)[];
  project(fresh: ReadonlySet<string>, keys: ReadonlyMap<string, SubjectKey>, ingestedAtMs: number): Projection | Promise<Projection>;
  /** Frees what the parse holds when the batch will not be committed. */
  discard?(): void;
}

export function parseBatch(messages: readonly RawMessage[], steps: ElementSteps, tokenKey: TokenKey): ParsedBatch {
  const t0 = performance.now();
  const valid: ValidEvent[] = [];
  const dead: DeadLetter[] = [];
  let pans = 0;
  for (const m of messages) {
    const r = parseMessage(steps, m);
    pans += r.pansRedacted;
    if (r.ok) valid.push(r);
    else dead.push(r);
  }
  const { unique, duplicates } = dedupeWithinBatch(valid);
  const kids = unique.map((v) => subjectKidOf(v, tokenKey));
  return {
    read: messages.length,
    dead,
    inBatchDuplicates: duplicates,
    pansRedacted: pans,
    parseMs: performance.now() - t0,
    ids: unique.map((v) => v.event.event_id),
    kids,
    project: (fresh, keys, ingestedAtMs) => projectEvents(unique, kids, fresh, keys, { tokenKey, ingestedAtMs }),
  };
}

/** Step 4 over the fresh events of a parsed batch (`kids` aligned with `events`). */
export function projectEvents(
  events: readonly ValidEvent[],
  kids: readonly (string | undefined)[],
  fresh: ReadonlySet<string>,
  keys: ReadonlyMap<string, SubjectKey>,
  ctx: { tokenKey: TokenKey; ingestedAtMs: number },
): Projection {
  const rows = new Map<Domain, SilverRow[]>();
  const partitions = new Map<string, string[]>();
  const drift = new Map<string, DriftCount>();
  const dead: DeadLetter[] = [];
  const failedIds: string[] = [];
  let minT = Infinity;
  let maxT = -Infinity;
  for (let i = 0; i < events.length; i++) {
    const v = events[i]!;
    if (!fresh.has(v.event.event_id)) continue;
    const kid = kids[i];
    let p: ReturnType<typeof project>;
    try {
      p = project(v, kid === undefined ? undefined : keys.get(kid), ctx);
    } catch (err) {
      dead.push(internalError(v.message, "Project", "project", err));
      failedIds.push(v.event.event_id);
      continue;
    }
    if (v.extras) countDrift(drift, v);
    if (v.eventTimeMs < minT) minT = v.eventTimeMs;
    if (v.eventTimeMs > maxT) maxT = v.eventTimeMs;
    let list = rows.get(p.domain);
    if (!list) rows.set(p.domain, (list = []));
    list.push(p.row);
    let lines = partitions.get(p.partition);
    if (!lines) partitions.set(p.partition, (lines = []));
    lines.push(p.bronzeLine);
  }
  return { rows, partitions, drift: [...drift.values()], minT, maxT, dead, failedIds };
}

export async function processBatch(messages: readonly RawMessage[], deps: BatchDeps, origin: string): Promise<BatchResult> {
  return commitBatch(parseBatch(messages, deps.steps, deps.tokenKey), deps, origin);
}

/** Steps 3b-5: claim, project, write and commit a parsed batch (one transaction; see the header). */
export async function commitBatch(parsed: ParsedBatch, deps: BatchDeps, origin: string): Promise<BatchResult> {
  const phases: Record<string, number> = { parse: parsed.parseMs };
  let mark = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    phases[name] = (phases[name] ?? 0) + (now - mark);
    mark = now;
  };
  const { dead, inBatchDuplicates } = parsed;
  const pans = parsed.pansRedacted;
  let tx: BatchTransaction;
  try {
    tx = await deps.store.begin();
  } catch (err) {
    parsed.discard?.();
    throw err;
  }
  try {
    const fresh = await tx.claimEventIds(parsed.ids);
    lap("claim");

    const freshKids: string[] = [];
    for (let i = 0; i < parsed.ids.length; i++) {
      const kid = parsed.kids[i];
      if (kid !== undefined && fresh.has(parsed.ids[i]!)) freshKids.push(kid);
    }
    const { keys, created } = await deps.keyring.resolve(freshKids, deps.store);
    lap("keys");
    const projection = await parsed.project(fresh, keys, Date.now());
    const { rows, partitions, drift, minT, maxT } = projection;
    // Events step 4 threw on are dead letters, not Silver rows: their claims go back, so a replay can commit them.
    if (projection.failedIds.length) {
      await tx.unclaimEventIds(projection.failedIds);
      for (const id of projection.failedIds) fresh.delete(id);
    }
    lap("project");
    // Bronze gzip + write runs on the thread pool while the Silver rows are appended.
    const bronzeWritten = deps.bronze.writeTemp(tx.batchId, partitions);
    bronzeWritten.catch(() => undefined); // awaited below; avoid an unhandled rejection if Silver fails first
    await tx.writeSilver(rows);
    lap("silver");
    const files = await bronzeWritten;
    lap("bronze");
    deps.fault?.("after_bronze_temp", parsed.ids);
    const allDead = projection.dead.length ? [...dead, ...projection.dead] : dead;
    const newDead = await tx.writeDeadLetters(allDead.map(deadLetterRow));
    await tx.putSubjectKeys(created);
    await tx.recordDrift(drift);
    lap("ops");
    const result: BatchResult = {
      batchId: tx.batchId,
      read: parsed.read,
      valid: fresh.size,
      duplicates: inBatchDuplicates + (parsed.ids.length - fresh.size - projection.failedIds.length) + (allDead.length - newDead),
      deadLettered: newDead,
      pansRedacted: pans,
      perDomain: Object.fromEntries([...rows].map(([d, r]) => [d, r.length])),
      minEventTimeMs: fresh.size ? minT : undefined,
      maxEventTimeMs: fresh.size ? maxT : undefined,
      rows,
      phases,
    };
    await tx.recordBatch({
      origin,
      read: result.read,
      valid: result.valid,
      duplicates: result.duplicates,
      deadLettered: result.deadLettered,
      pansRedacted: pans,
      bronzeFiles: files.map((f) => f.name),
    });
    for (const ext of deps.extensions ?? []) await ext.beforeCommit?.(tx, result);
    deps.fault?.("before_commit", parsed.ids);
    lap("ops");
    await tx.commit();
    lap("commit");
    deps.keyring.committed();
    deps.fault?.("after_commit", parsed.ids);

    if (files.length) {
      await deps.bronze.finalize(files.map((f) => f.name));
      await deps.store.markBronzeDone(tx.batchId);
    }
    lap("rename");
    deps.fault?.("after_rename", parsed.ids);
    for (const ext of deps.extensions ?? []) await ext.afterCommit?.(result);
    return result;
  } catch (err) {
    parsed.discard?.();
    await tx.rollback().catch(() => undefined);
    throw err;
  }
}

function countDrift(drift: Map<string, DriftCount>, v: ValidEvent): void {
  for (const path of Object.keys(v.extras!)) {
    const k = `${v.eventType}\u0000${v.event.schema_version}\u0000${path}`;
    const d = drift.get(k);
    if (d) d.events++;
    else drift.set(k, { eventType: v.eventType, schemaVersion: v.event.schema_version, path, events: 1 });
  }
}

/** Startup recovery: finish the renames of committed batches, drop orphan temp files. */
export async function recover(store: DuckDbStore, bronze: LocalBronze): Promise<{ finalized: number; orphans: number }> {
  const pending = await store.query(`SELECT batch_id, bronze_files FROM ops.batches WHERE bronze_state = 'pending' ORDER BY batch_id`);
  for (const b of pending) {
    const files = JSON.parse(b.bronze_files as string) as string[];
    await bronze.finalize(files);
    await store.markBronzeDone(BigInt(b.batch_id as string));
  }
  const orphans = await bronze.removeOrphans();
  return { finalized: pending.length, orphans };
}
