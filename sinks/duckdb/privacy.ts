/**
 * The privacy tables' SQL on DuckDB: the request queue (ops.privacy_requests)
 * and the audit log (ops.privacy_audit), both declared in schemas/ops.ts.
 * Times go in and out as epoch milliseconds, so no time zone setting can
 * shift them. The audit table is only ever inserted into here: there is no
 * statement that updates or deletes an entry.
 */
import type { Queryable } from "./store.js";

export type RequestKind = "erase" | "export";
export type RequestStatus = "pending" | "done" | "failed";

export interface NewPrivacyRequest {
  requestId: string;
  kind: RequestKind;
  subjectHash: string;
  identifier: Buffer;
  identifierKey: Buffer;
  kekId: string;
  outPath: string | null;
  reason: string | null;
  operator: string | null;
  requestedAtMs: number;
  dueAtMs: number;
}

/** A request still to run, with its sealed identifier. */
export interface QueuedRequest {
  requestId: string;
  kind: RequestKind;
  subjectHash: string;
  identifier: Buffer;
  identifierKey: Buffer;
  kekId: string;
  outPath: string | null;
  operator: string | null;
  status: RequestStatus;
  attempts: number;
  requestedAtMs: number;
  dueAtMs: number;
}

/** What may be shown of a request: no identifier, no destination, no free text. */
export interface RequestListing {
  request_id: string;
  kind: RequestKind;
  subject_hash: string;
  requested_at_ms: number;
  due_at_ms: number;
  status: RequestStatus;
  attempts: number;
  done_at_ms: number | null;
  last_error: string | null;
}

export async function insertPrivacyRequest(q: Queryable, r: NewPrivacyRequest): Promise<void> {
  await q.query(
    `INSERT INTO ops.privacy_requests (request_id, kind, subject_hash, identifier, identifier_key, kek_id, out_path, reason, operator,
       requested_at, due_at, status, attempts)
     VALUES ($id, $kind, $hash, from_base64($ident), from_base64($key), $kek, $out, $reason, $operator, epoch_ms($req::BIGINT), epoch_ms($due::BIGINT),
       'pending', 0)`,
    {
      id: r.requestId,
      kind: r.kind,
      hash: r.subjectHash,
      ident: r.identifier.toString("base64"),
      key: r.identifierKey.toString("base64"),
      kek: r.kekId,
      out: r.outPath,
      reason: r.reason,
      operator: r.operator,
      req: r.requestedAtMs,
      due: r.dueAtMs,
    },
  );
}

/** Requests not done yet that still hold their identifier, in due order (then queue order). */
export async function queuedRequests(q: Queryable): Promise<QueuedRequest[]> {
  const rows = await q.query(
    `SELECT request_id, kind, subject_hash, to_base64(identifier) AS ident, to_base64(identifier_key) AS ikey, kek_id, out_path, operator, status,
       attempts, epoch_ms(requested_at) AS req_ms, epoch_ms(due_at) AS due_ms
     FROM ops.privacy_requests WHERE status <> 'done' AND identifier IS NOT NULL ORDER BY due_at, requested_at, request_id`,
  );
  return rows.map((r) => ({
    requestId: String(r.request_id),
    kind: r.kind as RequestKind,
    subjectHash: String(r.subject_hash),
    identifier: Buffer.from(String(r.ident), "base64"),
    identifierKey: Buffer.from(String(r.ikey), "base64"),
    kekId: String(r.kek_id),
    outPath: (r.out_path as string | null) ?? null,
    operator: (r.operator as string | null) ?? null,
    status: r.status as RequestStatus,
    attempts: Number(r.attempts),
    requestedAtMs: Number(r.req_ms),
    dueAtMs: Number(r.due_ms),
  }));
}

/** Done: the result counts kept, the identifier and its key destroyed (NULL). */
export async function markRequestDone(q: Queryable, requestId: string, doneAtMs: number, result: Record<string, number>): Promise<void> {
  await q.query(
    `UPDATE ops.privacy_requests SET status = 'done', attempts = attempts + 1, done_at = epoch_ms($done::BIGINT), result = $result::JSON,
       last_error = NULL, identifier = NULL, identifier_key = NULL
     WHERE request_id = $id`,
    { id: requestId, done: doneAtMs, result: JSON.stringify(result) },
  );
}

/** Failed this run: the attempt counted, the (redacted) error kept; it is tried again next run. */
export async function markRequestFailed(q: Queryable, requestId: string, error: string): Promise<void> {
  await q.query(`UPDATE ops.privacy_requests SET status = 'failed', attempts = attempts + 1, last_error = $e WHERE request_id = $id`, {
    id: requestId,
    e: error,
  });
}

export async function listPrivacyRequests(q: Queryable, filter: { status?: RequestStatus } = {}): Promise<RequestListing[]> {
  const rows = await q.query(
    `SELECT request_id, kind, subject_hash, epoch_ms(requested_at) AS requested_at_ms, epoch_ms(due_at) AS due_at_ms, status, attempts,
       epoch_ms(done_at) AS done_at_ms, last_error
     FROM ops.privacy_requests ${filter.status ? "WHERE status = $status" : ""} ORDER BY due_at, requested_at, request_id`,
    filter.status ? { status: filter.status } : undefined,
  );
  return rows.map((r) => ({
    request_id: String(r.request_id),
    kind: r.kind as RequestKind,
    subject_hash: String(r.subject_hash),
    requested_at_ms: Number(r.requested_at_ms),
    due_at_ms: Number(r.due_at_ms),
    status: r.status as RequestStatus,
    attempts: Number(r.attempts),
    done_at_ms: r.done_at_ms === null || r.done_at_ms === undefined ? null : Number(r.done_at_ms),
    last_error: (r.last_error as string | null) ?? null,
  }));
}

/** One audit row as stored: the entry as its JSON text. */
export interface AuditRow {
  seq: number;
  entry: string;
  prevHash: string;
  entryHash: string;
  recordedAtMs: number;
}

function auditRow(r: Record<string, unknown>): AuditRow {
  return {
    seq: Number(r.seq),
    entry: typeof r.entry === "string" ? r.entry : JSON.stringify(r.entry),
    prevHash: String(r.prev_hash),
    entryHash: String(r.entry_hash),
    recordedAtMs: Number(r.recorded_ms),
  };
}

const AUDIT_COLUMNS = `seq, entry::VARCHAR AS entry, prev_hash, entry_hash, epoch_ms(recorded_at) AS recorded_ms`;

export async function lastAuditRow(q: Queryable): Promise<AuditRow | undefined> {
  const rows = await q.query(`SELECT ${AUDIT_COLUMNS} FROM ops.privacy_audit ORDER BY seq DESC LIMIT 1`);
  return rows[0] ? auditRow(rows[0]) : undefined;
}

/** Audit rows in chain order, from `fromSeq` on. */
export async function auditRows(q: Queryable, fromSeq = 1): Promise<AuditRow[]> {
  return (await q.query(`SELECT ${AUDIT_COLUMNS} FROM ops.privacy_audit WHERE seq >= $from ORDER BY seq`, { from: fromSeq })).map(auditRow);
}

/** The SELECT `auditRows` runs, for a reader that can only send SQL text (the instance's query port). */
export const AUDIT_ROWS_SQL = `SELECT ${AUDIT_COLUMNS} FROM ops.privacy_audit ORDER BY seq`;

export function auditRowsOf(rows: readonly Record<string, unknown>[]): AuditRow[] {
  return rows.map(auditRow);
}

export async function insertAuditRow(q: Queryable, r: AuditRow): Promise<void> {
  await q.query(
    `INSERT INTO ops.privacy_audit (seq, entry, prev_hash, entry_hash, recorded_at) VALUES ($seq, $entry::JSON, $prev, $hash, epoch_ms($at::BIGINT))`,
    { seq: r.seq, entry: r.entry, prev: r.prevHash, hash: r.entryHash, at: r.recordedAtMs },
  );
}

/** Whether the store has the privacy tables (a store made before they were declared, opened read-only, has not). */
export async function hasPrivacyTables(q: Queryable): Promise<boolean> {
  const rows = await q.query(`SELECT count(*) AS n FROM duckdb_tables() WHERE schema_name = 'ops' AND table_name IN ('privacy_requests', 'privacy_audit')`);
  return Number(rows[0]?.n) === 2;
}
