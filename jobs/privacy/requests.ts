/**
 * The privacy request queue (ops.privacy_requests): compliance staff queue
 * erasure and export requests; a daily run processes them in due order and
 * reports what is past its legal deadline.
 *
 * Guarantees:
 * - the identifier is stored only sealed (sinks/keys/sealed-identifier.ts:
 *   AES-256-GCM under a fresh key, that key wrapped by the KEK, the KEK's id
 *   recorded) and is destroyed when the request is done: both columns NULL
 *   in the transaction that marks it done, then the request's pad
 *   (sinks/keys/request-pads.ts) removed, so the bytes a store keeps of
 *   deleted values open no more; queue and audit log name the person only
 *   by `subject_hash`;
 * - every transition is an audit entry committed with it: queued
 *   (`request_added`), done or failed (`erase`/`export`, with the counts);
 * - a key that does not open a request's identifier (another KEK, altered
 *   bytes) stops the run before any executor runs: nothing is decrypted,
 *   nothing changes, the error names the request and never the identifier;
 * - an executor's failure marks its request failed (attempts + 1, the error
 *   with the identifier and any email replaced) and the run goes on; a
 *   failed request is tried again on the next run. Executors must be
 *   idempotent: a crash after one finished and before its request was marked
 *   done runs it again;
 * - a kind with no executor is left pending, untouched, and reported.
 *
 * The executors are parameters: the CLI passes the erasure and export jobs.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import type { Engine } from "../../pipelines/local/engine.js";
import { findInstance, instanceFetch } from "../../pipelines/local/instance.js";
import { openDuckDb } from "../../sinks/duckdb/open.js";
import {
  type QueuedRequest,
  type RequestKind,
  type RequestListing,
  type RequestStatus,
  hasPrivacyTables,
  insertPrivacyRequest,
  listPrivacyRequests,
  markRequestDone,
  markRequestFailed,
  queuedRequests,
} from "../../sinks/duckdb/privacy.js";
import { publicErrorMessage } from "../../sinks/duckdb/read-only.js";
import { jsonRows } from "../../sinks/duckdb/rows.js";
import type { Queryable } from "../../sinks/duckdb/store.js";
import { KeyError } from "../../sinks/keys/local-keys.js";
import { createPad, destroyPad, padsOf, readPad } from "../../sinks/keys/request-pads.js";
import { openIdentifier, sealIdentifier } from "../../sinks/keys/sealed-identifier.js";
import type { KeyWrapper } from "../../sinks/keys/subject-keys.js";
import { dataDirPaths } from "../../sinks/local-files/data-dir.js";
import { InputError } from "../errors.js";
import { appendAudit } from "./audit.js";
import { checkCounts } from "./audit-chain.js";
import { type Identifier, identifierFromText, identifierText, subjectHash, withoutIdentifier } from "./identifier.js";

export type { RequestKind, RequestStatus } from "../../sinks/duckdb/privacy.js";

/** What an executor gets beside the identifier. */
export interface ExecutorContext {
  engine: Engine;
  requestId: string;
  operator: string | null;
  requestedAt: Date;
}

/** Numbers only (rows erased, keys destroyed, lines exported...): they go to the audit log. */
export type RequestCounts = Record<string, number>;

export interface RequestExecutors {
  erase(identifier: Identifier, ctx: ExecutorContext): Promise<RequestCounts>;
  export(identifier: Identifier, outPath: string, ctx: ExecutorContext): Promise<RequestCounts>;
}

export interface NewRequest {
  kind: RequestKind;
  identifier: Identifier;
  /** Export only: where the export is written (an absolute path). */
  outPath?: string;
  dueAt: Date;
  reason?: string;
  operator?: string;
}

export interface AddedRequest {
  request_id: string;
  kind: RequestKind;
  subject: string;
  due: string;
}

const EMAIL = /[^\s@]+@[^\s@]+\.[^\s@]+/;

/** Free text of a request that must not name the person (the reason, the operator). */
function checkFreeText(what: string, text: string | undefined, id: Identifier): void {
  if (!text) return;
  if (withoutIdentifier(text, id) !== text || EMAIL.test(text)) {
    throw new InputError(`${what} must not contain the identifier or an email address: it is kept in clear. Describe the request without them.`);
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
const day = (ms: number) => iso(ms).slice(0, 10);

/** Queues a request: sealed identifier, `request_added` audit entry, one transaction. */
export async function addRequest(engine: Engine, r: NewRequest, opts: { now?: () => Date; kek?: KeyWrapper } = {}): Promise<AddedRequest> {
  if (r.kind === "export" && !r.outPath) throw new InputError("an export request needs --out FILE: where the export is written");
  if (r.kind === "erase" && r.outPath) throw new InputError("--out is for export requests; an erasure writes no file");
  if (r.identifier.value.trim() === "") throw new InputError("the identifier is empty");
  checkFreeText("--reason", r.reason, r.identifier);
  checkFreeText("--operator", r.operator, r.identifier);
  const now = (opts.now ?? (() => new Date()))();
  const requestId = `pr_${randomUUID()}`;
  const hash = subjectHash(r.identifier, engine.keys.tokenKey);
  const pad = createPad(engine.dataDir, requestId);
  const sealed = await sealIdentifier(identifierText(r.identifier), requestId, opts.kek ?? engine.kek, pad);
  await appendAudit(
    engine,
    {
      request_id: requestId,
      kind: "request_added",
      subject_hash: hash,
      requested_at: now.toISOString(),
      done_at: null,
      counts: {},
      operator: r.operator ?? null,
      outcome: "queued",
    },
    {
      now: () => now,
      inTransaction: (q) =>
        insertPrivacyRequest(q, {
          requestId,
          kind: r.kind,
          subjectHash: hash,
          identifier: sealed.ciphertext,
          identifierKey: sealed.wrappedKey,
          kekId: sealed.kekId,
          outPath: r.outPath ?? null,
          reason: r.reason ?? null,
          operator: r.operator ?? null,
          requestedAtMs: now.getTime(),
          dueAtMs: r.dueAt.getTime(),
        }),
    },
  );
  return { request_id: requestId, kind: r.kind, subject: hash.slice(0, 12), due: day(r.dueAt.getTime()) };
}

/** A request as `requests list` and `requests run` show it: no identifier, no destination, no free text. */
export interface RequestRow {
  request_id: string;
  kind: RequestKind;
  subject: string;
  requested: string;
  due: string;
  status: RequestStatus;
  attempts: number;
  past_due: boolean;
  done_at: string | null;
  last_error: string | null;
}

export function requestRow(l: RequestListing, nowMs: number): RequestRow {
  return {
    request_id: l.request_id,
    kind: l.kind,
    subject: l.subject_hash.slice(0, 12),
    requested: iso(l.requested_at_ms),
    due: day(l.due_at_ms),
    status: l.status,
    attempts: l.attempts,
    past_due: l.status !== "done" && nowMs > l.due_at_ms,
    done_at: l.done_at_ms === null ? null : iso(l.done_at_ms),
    last_error: l.last_error,
  };
}

/** The queue on an open store. */
export async function requestRows(q: Queryable, filter: { status?: RequestStatus }, nowMs: number): Promise<RequestRow[]> {
  return (await listPrivacyRequests(q, filter)).map((l) => requestRow(l, nowMs));
}

/**
 * `ecom privacy requests list`: through the running instance when there is
 * one (its privacy route; the query port refuses the queue's table), else on
 * the DuckDB file opened read-only.
 */
export async function listRequests(dataDir: string, filter: { status?: RequestStatus } = {}, now: () => Date = () => new Date()): Promise<RequestRow[]> {
  const instance = findInstance(dataDir);
  if (instance) {
    const res = await instanceFetch(instance, "/privacy/requests", { method: "POST", body: JSON.stringify(filter) });
    const text = await res.text();
    if (res.status === 404) {
      throw new Error(
        `the running ecom process (pid ${instance.pid}) holds the data dir and does not serve the privacy queue.\n` +
          `  Stop it and run the command again, or restart it with a version that serves /privacy/requests.`,
      );
    }
    if (!res.ok) throw new Error(`listing privacy requests on the running instance (pid ${instance.pid}) failed: ${text}`);
    return JSON.parse(text) as RequestRow[];
  }
  return withReadOnlyStore(dataDir, async (q) => ((await hasPrivacyTables(q)) ? requestRows(q, filter, now().getTime()) : []));
}

/** The data dir's DuckDB file opened read-only (nothing else may hold it) for the platform's own SELECTs. */
async function withReadOnlyStore<T>(dataDir: string, work: (q: Queryable) => Promise<T>): Promise<T> {
  const db = await openDuckDb(existingStore(dataDir), { readOnly: true });
  try {
    const conn = await db.connect();
    try {
      return await work({ query: async (sql, params) => jsonRows(await conn.runAndReadAll(sql, params as never)) });
    } finally {
      conn.closeSync();
    }
  } finally {
    db.closeSync();
  }
}

/** The store file of a data dir that has one. */
export function existingStore(dataDir: string): string {
  const file = dataDirPaths(dataDir).store;
  if (!fs.existsSync(file)) throw new InputError(`no data in ${dataDir} yet: run \`ecom start\` or \`ecom ingest <file>\` first (or pass --data-dir)`);
  return file;
}

/** Refuses a command that writes the queue while `ecom start` holds the data dir (it owns the store). */
export function refuseWhileRunning(dataDir: string, what: string): void {
  const instance = findInstance(dataDir);
  if (instance) {
    throw new Error(
      `ecom start is running on ${dataDir} (pid ${instance.pid}); stop it (Ctrl-C) before ${what}: it writes the privacy queue and audit log in the store that process owns.`,
    );
  }
}

export interface RunResult {
  request_id: string;
  kind: RequestKind;
  status: "done" | "failed";
  attempts: number;
  counts?: RequestCounts;
  error?: string;
}

export interface RunSummary {
  /** Requests handed to an executor this run. */
  ran: number;
  done: number;
  failed: number;
  results: RunResult[];
  /** Left pending: no executor for their kind in this build. */
  skipped: { request_id: string; kind: RequestKind; why: string }[];
  /** Not done after their due time (after this run). */
  past_due: RequestRow[];
}

/** A key problem: the run stopped before any executor ran. */
export class RequestKeyError extends KeyError {}

function keyRefusal(r: QueuedRequest, why: string): RequestKeyError {
  return new RequestKeyError(
    `cannot open the identifier of privacy request ${r.requestId} (${why}). Nothing was decrypted or run; every request stays as it was.\n` +
      `  Restore keys/kek.json from your key backup (the request was queued under KEK "${r.kekId}"), then run again.`,
  );
}

/** Unwraps every runnable request's key in one call and opens the identifiers; any failure stops the run (fail closed). */
async function openAll(dataDir: string, rs: readonly QueuedRequest[], kek: KeyWrapper): Promise<Identifier[]> {
  for (const r of rs) if (r.kekId !== kek.id) throw keyRefusal(r, `it was sealed under KEK "${r.kekId}", the key file holds "${kek.id}"`);
  let keys: Buffer[];
  try {
    keys = await kek.unwrapAll(rs.map((r) => r.identifierKey));
  } catch {
    // Which one failed is unknown to a batch unwrap: name the first, the message says all stay.
    throw keyRefusal(rs[0]!, "the KEK does not unwrap its key");
  }
  try {
    return rs.map((r, i) => {
      let pad: Buffer;
      try {
        pad = readPad(dataDir, r.requestId);
      } catch (err) {
        throw keyRefusal(r, (err as Error).message);
      }
      try {
        return identifierFromText(openIdentifier(r.identifier, keys[i]!, pad, r.requestId));
      } catch {
        throw keyRefusal(r, "its sealed identifier does not authenticate under its key");
      }
    });
  } finally {
    for (const k of keys) k.fill(0);
  }
}

/** An error as it may be stored and shown: redacted like every error of the platform, without the identifier or any email, one line. */
function redacted(err: unknown, id: Identifier): string {
  const message = err instanceof Error ? publicErrorMessage(err) : String(err);
  return withoutIdentifier(message, id).split("\n")[0]!.slice(0, 500);
}

/**
 * `ecom privacy requests run`: every pending or failed request in due order
 * through its executor, then the past-due report (see the header).
 */
export async function runRequests(
  engine: Engine,
  executors: Partial<RequestExecutors>,
  opts: { now?: () => Date; kek?: KeyWrapper } = {},
): Promise<RunSummary> {
  const now = opts.now ?? (() => new Date());
  const queued = await queuedRequests(engine.store);
  // A pad left by a run that stopped after marking its request done (or by a queuing that did not commit) goes now.
  const open = new Set(queued.map((r) => r.requestId));
  for (const id of padsOf(engine.dataDir)) if (!open.has(id)) destroyPad(engine.dataDir, id);
  const runnable = queued.filter((r) => executors[r.kind] !== undefined);
  const summary: RunSummary = {
    ran: runnable.length,
    done: 0,
    failed: 0,
    results: [],
    skipped: queued
      .filter((r) => executors[r.kind] === undefined)
      .map((r) => ({ request_id: r.requestId, kind: r.kind, why: `no ${r.kind} job is wired into this build; the request stays pending` })),
    past_due: [],
  };
  const identifiers = runnable.length ? await openAll(engine.dataDir, runnable, opts.kek ?? engine.kek) : [];
  for (const [i, r] of runnable.entries()) {
    const id = identifiers[i]!;
    const ctx: ExecutorContext = { engine, requestId: r.requestId, operator: r.operator, requestedAt: new Date(r.requestedAtMs) };
    let counts: RequestCounts | undefined;
    let error: string | undefined;
    try {
      const out = r.kind === "erase" ? await executors.erase!(id, ctx) : await executors.export!(id, r.outPath ?? "", ctx);
      counts = checkCounts(out as Record<string, unknown>);
    } catch (err) {
      error = redacted(err, id);
    }
    const at = now();
    const attempts = r.attempts + 1;
    await appendAudit(
      engine,
      {
        request_id: r.requestId,
        kind: r.kind,
        subject_hash: r.subjectHash,
        requested_at: iso(r.requestedAtMs),
        done_at: counts ? at.toISOString() : null,
        counts: counts ?? { attempts },
        operator: r.operator,
        outcome: counts ? "done" : "failed",
      },
      {
        now: () => at,
        inTransaction: (q) => (counts ? markRequestDone(q, r.requestId, at.getTime(), counts) : markRequestFailed(q, r.requestId, error!)),
      },
    );
    if (counts) {
      destroyPad(engine.dataDir, r.requestId);
      summary.done++;
      summary.results.push({ request_id: r.requestId, kind: r.kind, status: "done", attempts, counts });
    } else {
      summary.failed++;
      summary.results.push({ request_id: r.requestId, kind: r.kind, status: "failed", attempts, error });
    }
  }
  // The destroyed identifiers leave the WAL for the database file now, not at some later checkpoint.
  if (summary.done) await engine.store.query("CHECKPOINT");
  const at = now().getTime();
  summary.past_due = (await requestRows(engine.store, {}, at)).filter((row) => row.past_due);
  return summary;
}
