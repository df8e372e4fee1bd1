/**
 * The privacy audit log: every privacy operation (a request queued, an
 * erasure, an export, a failed attempt) as one entry, append-only, kept
 * twice: in `ops.privacy_audit` and in `<data-dir>/audit/privacy-audit.ndjson`
 * (0600, folder 0700). Nothing erases or expires either copy. Entries name the
 * person only by `subject_hash` (identifier.ts) and hold numbers only as
 * counts; the chain (audit-chain.ts) makes any change, removal, reordering or
 * insertion visible to `verifyAudit`.
 *
 * Guarantees of `appendAudit`:
 * - appends are serialized: one at a time per store in this process, and one
 *   process holds the store (DuckDB's lock); the table's seq is the order;
 * - the table row is committed first (with whatever the caller does in the
 *   same transaction, e.g. marking its request done), then the line is
 *   appended to the file and fsynced. A crash between the two leaves the file
 *   one entry short: the next append copies what the file lacks from the
 *   table before adding its own;
 * - it refuses (AuditError, nothing recorded) when the file's last line is
 *   not the table's record of the same seq: the chain is not continued over
 *   a copy that was altered.
 */
import fs from "node:fs";
import { runQuery } from "../query.js";
import { type AuditRow, AUDIT_ROWS_SQL, auditRows, auditRowsOf, insertAuditRow, lastAuditRow } from "../../sinks/duckdb/privacy.js";
import type { Queryable } from "../../sinks/duckdb/store.js";
import { appendAuditLines, readAuditLines } from "../../sinks/local-files/audit-file.js";
import { dataDirPaths } from "../../sinks/local-files/data-dir.js";
import { type AuditInput, type AuditRecord, type Verdict, nextRecord, parseLine, recordLine, verifyCopies } from "./audit-chain.js";

export type { AuditInput, AuditRecord } from "./audit-chain.js";

/** Where the log lives: an open store (an Engine is one) and its data dir. */
export interface AuditTarget {
  store: Queryable;
  dataDir: string;
}

/** The log cannot be appended to as it stands: nothing was recorded. */
export class AuditError extends Error {}

const chains = new WeakMap<object, Promise<unknown>>();

/** Runs `work` after every earlier append on the same store has finished. */
function serialized<T>(key: object, work: () => Promise<T>): Promise<T> {
  const before = chains.get(key) ?? Promise.resolve();
  const run = before.then(work, work);
  chains.set(
    key,
    run.catch(() => undefined),
  );
  return run;
}

function toRecord(row: AuditRow): AuditRecord {
  return { seq: row.seq, entry: JSON.parse(row.entry), prev_hash: row.prevHash, entry_hash: row.entryHash };
}

function refused(why: string): AuditError {
  return new AuditError(
    `the privacy audit log cannot be continued: ${why}. Nothing was recorded.\n` +
      `  Run \`ecom privacy audit --verify\` to find the first bad entry, and restore the altered copy from your backup.`,
  );
}

/** Copies the records the file lacks at its end from the table (an append interrupted after its commit); how many. */
async function completeFile(target: AuditTarget, last: AuditRow | undefined): Promise<number> {
  const file = dataDirPaths(target.dataDir).auditFile;
  const lines = readAuditLines(file);
  const tail = lines.length ? parseLine(lines[lines.length - 1]!) : undefined;
  const fileSeq = lines.length;
  if (tail === null || (tail && tail.seq !== fileSeq)) throw refused(`the last line of ${file} is not entry ${fileSeq}`);
  const tableSeq = last?.seq ?? 0;
  if (fileSeq > tableSeq) throw refused(`${file} has ${fileSeq} entries, ops.privacy_audit ${tableSeq}`);
  if (tail) {
    const [row] = await auditRows(target.store, fileSeq);
    if (!row || row.seq !== fileSeq || row.entryHash !== tail.entry_hash) throw refused(`entry ${fileSeq} differs between ${file} and ops.privacy_audit`);
  }
  if (fileSeq === tableSeq) return 0;
  const missing = await auditRows(target.store, fileSeq + 1);
  appendAuditLines(
    file,
    missing.map((r) => recordLine(toRecord(r))),
  );
  return missing.length;
}

/**
 * Appends one entry (see the header). `inTransaction` runs in the same
 * transaction as the table row, before its commit: a request marked done
 * and its audit entry commit together. The store must not be inside a
 * transaction already.
 */
export function appendAudit(
  target: AuditTarget,
  input: AuditInput,
  opts: { inTransaction?: (q: Queryable) => Promise<void>; now?: () => Date } = {},
): Promise<AuditRecord> {
  return serialized(target.store, async () => {
    const q = target.store;
    await completeFile(target, await lastAuditRow(q));
    await q.query("BEGIN TRANSACTION");
    let record: AuditRecord;
    try {
      const last = await lastAuditRow(q);
      record = nextRecord(last ? { seq: last.seq, entry_hash: last.entryHash } : undefined, input, (opts.now ?? (() => new Date()))());
      await insertAuditRow(q, {
        seq: record.seq,
        entry: JSON.stringify(record.entry),
        prevHash: record.prev_hash,
        entryHash: record.entry_hash,
        recordedAtMs: Date.parse(record.entry.recorded_at),
      });
      await opts.inTransaction?.(q);
      await q.query("COMMIT");
    } catch (err) {
      await q.query("ROLLBACK");
      throw err;
    }
    appendAuditLines(dataDirPaths(target.dataDir).auditFile, [recordLine(record)]);
    return record;
  });
}

/** The table's rows, read like `ecom query` (through the running instance, else the file opened read-only); none in a store without the table. */
export async function readAuditTable(dataDir: string): Promise<AuditRow[]> {
  const exists = await runQuery(dataDir, `SELECT count(*) AS n FROM duckdb_tables() WHERE schema_name = 'ops' AND table_name = 'privacy_audit'`);
  if (Number(exists[0]?.n) === 0) return [];
  return auditRowsOf(await runQuery(dataDir, AUDIT_ROWS_SQL));
}

/** The log's entries, from the table (the file is only compared, by `verifyAudit`). */
export async function listAudit(dataDir: string): Promise<AuditRecord[]> {
  return (await readAuditTable(dataDir)).map(toRecord);
}

/** Recomputes the chain over the table and the file and checks they agree (audit-chain.ts `verifyCopies`). */
export async function verifyAudit(dataDir: string): Promise<Verdict & { file: string }> {
  const file = dataDirPaths(dataDir).auditFile;
  const rows = await readAuditTable(dataDir);
  const table = rows.map((r) => {
    let entry: unknown = null;
    try {
      entry = JSON.parse(r.entry);
    } catch {
      // an unparsable entry fails its hash below
    }
    return { seq: r.seq, entry, prev_hash: r.prevHash, entry_hash: r.entryHash };
  });
  const lines = fs.existsSync(file) ? readAuditLines(file) : [];
  return {
    ...verifyCopies(
      table,
      lines.map(parseLine),
      rows.map((r) => new Date(r.recordedAtMs).toISOString()),
    ),
    file,
  };
}
