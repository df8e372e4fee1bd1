/**
 * `ecom privacy erase`: removes one person from a data dir, then proves it.
 *
 *   1. Find them (subject.ts): tokens, session ids, partitions, batches, keys.
 *   2. One transaction (sinks/erasure-sql.ts): their rows pseudonymised in
 *      the partitions the subject index names, their data keys deleted (every
 *      key a rotation left: Bronze lines of theirs can never be decrypted
 *      again), their references added to ops.erased_subjects (a replay or a
 *      redelivered message writes none of their personal data), their dead
 *      letters and index rows deleted.
 *   3. Gold windows of their dates recomputed from the pseudonymised Silver:
 *      every figure stays (one pseudonym per value keeps distinct counts).
 *   4. Verification: every Silver, Gold and ops table and every Bronze file
 *      scanned for their tokens, session ids and clear identifiers; a hit
 *      fails the command loudly.
 *
 * Idempotent: a second run, or a run for an unknown person, changes nothing
 * and reports zeros.
 */
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { DuckDbGold } from "../../gold/duckdb/executor.js";
import type { Engine } from "../../pipelines/local/engine.js";
import { qualified } from "../../schemas/table.js";
import type { SqlSession } from "../../sinks/duckdb/store.js";
import { ERASURE_TABLES, PSEUDONYM_PREFIX, forgetSql, pseudonymiseSql, residueSql, tokensPattern } from "../../sinks/erasure-sql.js";
import { appendAudit } from "./audit.js";
import { type Identifier, subjectHash } from "./identifier.js";
import { type FoundSubject, type SubjectIdentifier, fillWorkTables, findSubject, gunzipBronzeFile, literalsPattern } from "./subject.js";

export interface EraseRequest extends SubjectIdentifier {
  reason?: string;
  requestId?: string;
  operator?: string;
}

export interface ErasureResult {
  request_id: string;
  subject_found: boolean;
  bronze_keys_destroyed: number;
  bronze_lines_shredded: number;
  silver_rows_pseudonymised: number;
  dead_letters_deleted: number;
  index_rows_deleted: number;
  gold_windows_refreshed: number;
  /** What the verification scanned: tables, Bronze files, and whether every row and file (`full`) or the person's. */
  verified: { tables: number; bronze_files: number; full: boolean };
  /** Milliseconds per phase: finding the person, the transaction, Gold, the verification scan. */
  phases_ms: { find: number; commit: number; gold: number; verify: number };
  seconds: number;
}

export class ErasureVerificationError extends Error {}

/** Erases the person on the engine's store. `own`: on a connection of its own (beside a running instance's batches). */
export async function eraseSubject(engine: Engine, req: EraseRequest, opts: { own?: boolean; fullScan?: boolean } = {}): Promise<ErasureResult> {
  const t0 = performance.now();
  const requestId = req.requestId ?? randomUUID();
  const s = await engine.store.session(opts.own ?? false);
  try {
    const found = await findSubject(engine, s, req);
    const tFound = performance.now();
    const pseudonyms = new Map<string, string>();
    for (const v of [...found.tokens.keys(), ...found.sessions]) pseudonyms.set(v, PSEUDONYM_PREFIX + randomBytes(16).toString("base64url"));
    const pattern = tokensPattern([...found.tokens.keys()]);
    const deadLetterIds = await deadLettersOf(s, [...found.clearValues, ...found.sessions]);

    let rows = 0;
    let keys = 0;
    let dead = 0;
    let index = 0;
    await s.run("BEGIN TRANSACTION");
    try {
      await fillWorkTables(s, found.tokens, found.sessions, found.partitions, pseudonyms);
      for (const t of ERASURE_TABLES) {
        if (t.partitioned && !found.partitions.has(t.table.name)) continue;
        rows += await s.run(pseudonymiseSql("duckdb", t, qualified), { pattern });
      }
      const [delKeys, addErased, delDead, delIndex] = forgetSql("duckdb", {
        subjectKeys: "ops.subject_keys",
        erasedSubjects: "ops.erased_subjects",
        subjectIndex: "ops.subject_index",
        deadLetters: "ops.dead_letters",
      });
      keys = await s.run(delKeys!, { refs: found.refs });
      await s.run(addErased!, { refs: found.refs, request_id: requestId });
      dead = await s.run(delDead!, { refs: found.refs, dead_letter_ids: deadLetterIds });
      index = await s.run(delIndex!);
      await s.run("COMMIT");
    } catch (err) {
      await s.run("ROLLBACK").catch(() => undefined);
      throw err;
    }
    engine.keyring.forget(found.refs);
    engine.store.protectFiles();
    const tCommitted = performance.now();

    const windows = await refreshGold(s, found);
    const tGold = performance.now();
    const verified = await verifyErased(engine, s, found, pattern, opts.fullScan ?? false);
    const ms = (a: number, b: number) => Math.round(b - a);
    return {
      request_id: requestId,
      subject_found: rows + keys + dead + index + found.bronzeLines > 0,
      bronze_keys_destroyed: keys,
      bronze_lines_shredded: found.bronzeLines,
      silver_rows_pseudonymised: rows,
      dead_letters_deleted: dead,
      index_rows_deleted: index,
      gold_windows_refreshed: windows,
      verified,
      phases_ms: { find: ms(t0, tFound), commit: ms(tFound, tCommitted), gold: ms(tCommitted, tGold), verify: ms(tGold, performance.now()) },
      seconds: Math.round(performance.now() - t0) / 1000,
    };
  } finally {
    s.close();
  }
}

/** Dead letters whose bytes hold one of the person's clear identifiers (found by value, not only by their reference). */
async function deadLettersOf(s: SqlSession, values: readonly string[]): Promise<string[]> {
  if (values.length === 0) return [];
  const rows = await s.query(`SELECT dl_id FROM ops.dead_letters WHERE regexp_matches(CAST(raw AS VARCHAR), $re)`, {
    re: literalsPattern([...new Set(values)]),
  });
  return rows.map((r) => r.dl_id as string);
}

/** Recomputes the Gold windows of the person's dates (each date of every time-windowed model); returns how many. */
async function refreshGold(s: SqlSession, found: FoundSubject): Promise<number> {
  const dates = [...new Set([...found.partitions.values()].flatMap((d) => [...d]))].sort();
  if (dates.length === 0) return 0;
  const gold = new DuckDbGold({ run: async (sql) => void (await s.run(sql)), query: (sql) => s.query(sql) });
  const models = gold.models.filter((m) => m.window.grain !== "key").map((m) => m.name);
  for (const date of dates) await gold.rebuild({ from: date, to: date, models });
  return dates.length * models.length;
}

/**
 * The scan after an erasure. By default: no identity or session column of
 * any row of any Silver table holds a token or session id of the person; no
 * text or JSON column of their partitions (the subject index names every
 * partition whose texts held a token of theirs), of Gold or of ops holds one
 * of their tokens or clear identifiers; none of their data keys is left; and
 * none of their Bronze files (their batches' files: the only ones that held
 * lines of theirs) holds a clear identifier of theirs. `full`: every text
 * column of every row and every Bronze file, for an audit (its cost grows
 * with the store).
 */
async function verifyErased(
  engine: Engine,
  s: SqlSession,
  found: FoundSubject,
  pattern: string,
  full: boolean,
): Promise<{ tables: number; bronze_files: number; full: boolean }> {
  const problems: string[] = [];
  for (const t of ERASURE_TABLES) {
    const n = Number((await s.query(residueSql("duckdb", t, qualified, full), { pattern }))[0]!.n);
    if (n > 0) problems.push(`${qualified(t.table)}: ${n} rows still hold a token or session id of the person`);
  }
  const values = [...new Set([...found.clearValues].map((v) => v.toLowerCase()))];
  const columns = await s.query(
    `SELECT schema_name AS s, table_name AS t, list(column_name) AS cols FROM duckdb_columns()
     WHERE database_name = current_database() AND schema_name IN ('silver', 'gold', 'ops')
       AND (data_type IN ('VARCHAR', 'JSON') OR (table_name = 'dead_letters' AND column_name = 'raw'))
       AND NOT (schema_name = 'ops' AND table_name IN ('privacy_requests', 'privacy_audit'))
     GROUP BY ALL ORDER BY ALL`,
  );
  const scoped = new Map(ERASURE_TABLES.filter((t) => t.partitioned).map((t) => [t.table.name, t]));
  // One pass over each row's joined text, however many values.
  const re = literalsPattern(values);
  for (const c of columns) {
    if (values.length === 0) break;
    const table = c.s === "silver" ? scoped.get(c.t as string) : undefined;
    const where = table && !full ? `event_date IN (SELECT event_date FROM erasure_parts WHERE table_name = '${table.table.name}') AND ` : "";
    const joined = `concat_ws(chr(31), ${(c.cols as string[]).map((n) => `CAST("${n}" AS VARCHAR)`).join(", ")})`;
    const n = Number((await s.query(`SELECT count(*) AS n FROM "${c.s}"."${c.t}" WHERE ${where}regexp_matches(${joined}, $re)`, { re }))[0]!.n);
    if (n > 0) problems.push(`${c.s}.${c.t}: ${n} rows hold a clear identifier of the person`);
  }
  const left = Number((await s.query(`SELECT count(*) AS n FROM ops.subject_keys WHERE kid IN (SELECT unnest($kids))`, { kids: found.kids }))[0]!.n);
  if (left > 0) problems.push(`ops.subject_keys: ${left} data keys of the person are left`);
  const bronzeFiles = full ? await scanAllBronze(engine.bronze.root, values, problems) : scanOwnLines(found.bronzeText, values, problems);
  if (problems.length) {
    // The messages name tables and counts, never the values found.
    throw new ErasureVerificationError(`erasure verification failed:\n  ${problems.join("\n  ")}\n  Run the erasure again; if it persists, report it.`);
  }
  return { tables: ERASURE_TABLES.length + columns.length, bronze_files: bronzeFiles, full };
}

/** The person's own Bronze lines, their envelope set aside (ciphertext is no place for a clear value): none may hold a clear identifier of theirs. Returns how many files they are in. */
function scanOwnLines(lines: FoundSubject["bronzeText"], values: readonly string[], problems: string[]): number {
  let hits = 0;
  for (const { line } of lines) {
    const { _pii, ...rest } = JSON.parse(line) as Record<string, unknown>;
    void _pii;
    const text = JSON.stringify(rest).toLowerCase();
    if (values.some((v) => text.includes(v) || text.includes(JSON.stringify(v).slice(1, -1)))) hits++;
  }
  if (hits) problems.push(`Bronze: ${hits} lines of the person hold a clear identifier outside their envelope`);
  return new Set(lines.map((l) => l.file)).size;
}

/** Every Bronze file, decompressed, searched for each clear value (as stored, lower-cased, JSON-escaped); returns how many files it read. */
async function scanAllBronze(root: string, values: readonly string[], problems: string[]): Promise<number> {
  if (!fs.existsSync(root)) return 0;
  const needles = [...new Set(values.flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]))].map((v) => Buffer.from(v));
  let read = 0;
  let hits = 0;
  for (const e of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith(".ndjson.gz") || e.name.startsWith(".")) continue;
    const body = await gunzipBronzeFile(path.join(e.parentPath, e.name));
    if (!body) continue;
    read++;
    // Lower-cased once, so a value matches in any case (Bronze is ASCII JSON but for producer text).
    const lower = Buffer.from(body.toString("latin1").toLowerCase(), "latin1");
    if (needles.some((n) => lower.includes(n))) hits++;
  }
  if (hits) problems.push(`Bronze: ${hits} files hold a clear identifier of the person`);
  return read;
}

/** The identifier as the request queue and the audit log name it. */
export function identifierOf(req: SubjectIdentifier): Identifier {
  return req.userId !== undefined ? { kind: "user_id", value: req.userId } : { kind: "email", value: req.email! };
}

/** Counts of an erasure, numbers only, as the audit log and the request queue record them. */
export function erasureCounts(r: ErasureResult): Record<string, number> {
  return {
    subject_found: r.subject_found ? 1 : 0,
    bronze_keys_destroyed: r.bronze_keys_destroyed,
    bronze_lines_shredded: r.bronze_lines_shredded,
    silver_rows_pseudonymised: r.silver_rows_pseudonymised,
    dead_letters_deleted: r.dead_letters_deleted,
    gold_windows_refreshed: r.gold_windows_refreshed,
    seconds: r.seconds,
  };
}

/** `ecom privacy erase`: the erasure, then its entry in the audit log (a failed one is recorded as failed, and the error goes on). */
export async function eraseAndAudit(engine: Engine, req: EraseRequest, opts: { fullScan?: boolean } = {}): Promise<ErasureResult> {
  const requestedAt = new Date().toISOString();
  const requestId = req.requestId ?? randomUUID();
  const entry = {
    request_id: requestId,
    kind: "erase" as const,
    subject_hash: subjectHash(identifierOf(req), engine.keys.tokenKey),
    requested_at: requestedAt,
    operator: req.operator ?? null,
  };
  let result: ErasureResult;
  try {
    result = await eraseSubject(engine, { ...req, requestId }, opts);
  } catch (err) {
    await appendAudit({ dataDir: engine.dataDir, store: engine.store }, { ...entry, done_at: null, counts: {}, outcome: "failed" });
    throw err;
  }
  await appendAudit(
    { dataDir: engine.dataDir, store: engine.store },
    { ...entry, done_at: new Date().toISOString(), counts: erasureCounts(result), outcome: "done" },
  );
  return result;
}
