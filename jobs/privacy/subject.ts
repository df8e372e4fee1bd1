/**
 * Finding a person in a data dir: from one identifier (a user id or an
 * email) to every token, session id, Silver partition, Bronze line and data
 * key of theirs. Erasure and export both start here.
 *
 * Tokens are computed under every token key the data dir holds (a rotation
 * leaves rows tokenized under the old key). The subject index names the
 * partitions that hold those tokens; the person's own rows there name
 * further identifiers of theirs (a login links an anonymous id to the user,
 * an order an email and a phone), which are looked up in turn until no new
 * one appears.
 */
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import zlib from "node:zlib";
import type { Engine } from "../../pipelines/local/engine.js";
import { IDENTITY_TOKEN_COLUMNS, type IdentityKind } from "../../schemas/personal-columns.js";
import { ERASURE_TABLES, type ErasureTable, indexLookupSql, ownedIdentifiersSql, workTablesSql } from "../../sinks/erasure-sql.js";
import type { SqlSession } from "../../sinks/duckdb/store.js";
import { unwrapStoredKeys } from "../../sinks/keys/subject-keys.js";
import { type ProtectedEvent, type SubjectKind, decryptPii, envelopeEntries, restoreFromBronze, subjectRef } from "../../transforms/protect.js";
import { type TokenKey, tokenize } from "../../transforms/tokenize.js";
import { qualified } from "../../schemas/table.js";

export interface SubjectIdentifier {
  userId?: string;
  email?: string;
}

/** What is held about a person, found from one identifier. */
export interface FoundSubject {
  /** Their tokens (any token key), with the kind of identifier each stands for. */
  tokens: Map<string, IdentityKind>;
  /** Their clickstream session ids (random, but they link the person's page views). */
  sessions: Set<string>;
  /** Silver partitions holding their tokens: table name -> dates (YYYY-MM-DD). */
  partitions: Map<string, Set<string>>;
  /** Batches that committed their rows (their Bronze files hold the events). */
  batches: Set<number>;
  /** Key-store references of their data keys (every kind, every token key). */
  refs: string[];
  /** Their data keys' ids (kids) in the key store now. */
  kids: string[];
  /** Their events in Bronze, decrypted (only when asked for). */
  bronzeEvents: { file: string; event: Record<string, unknown> }[];
  /** Bronze lines encrypted under their keys. */
  bronzeLines: number;
  /** Those lines as stored (the verification checks no clear identifier of theirs sits outside the envelope). */
  bronzeText: { file: string; line: string }[];
  /** Clear values of theirs: the identifier given and those their Bronze envelopes hold (for the dead-letter and verification scans). */
  clearValues: Set<string>;
}

const MAX_ROUNDS = 6;

export function tokenKeysOf(engine: Engine): TokenKey[] {
  const byId = new Map<string, TokenKey>([[engine.keys.tokenKey.id, engine.keys.tokenKey]]);
  for (const k of engine.keys.tokenKeys.values()) byId.set(k.id, k);
  return [...byId.values()];
}

/** The identifier in the form the audit and the request queue name it by (email trimmed and lower-cased). */
export function normalizedIdentifier(id: SubjectIdentifier): { kind: "user" | "email"; value: string } {
  if (id.userId !== undefined) return { kind: "user", value: id.userId };
  if (id.email !== undefined) return { kind: "email", value: id.email.trim().toLowerCase() };
  throw new Error("a person is named by --user-id or --email");
}

/** Finds the person named by `id` (see the module's comment). */
export async function findSubject(engine: Engine, s: SqlSession, id: SubjectIdentifier, opts: { decryptBronze?: boolean } = {}): Promise<FoundSubject> {
  const keys = tokenKeysOf(engine);
  const who = normalizedIdentifier(id);
  const tokens = new Map<string, IdentityKind>();
  for (const k of keys) tokens.set(tokenize(who.value, k, who.kind === "user" ? "id" : "email"), who.kind === "user" ? "user" : "email");
  const sessions = new Set<string>();
  const partitions = new Map<string, Set<string>>();
  const batches = new Set<number>();
  const looked = new Set<string>();

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const fresh = [...tokens.keys()].filter((t) => !looked.has(t));
    if (fresh.length === 0) break;
    for (const t of fresh) looked.add(t);
    for (const r of await s.query(indexLookupSql("duckdb", "ops.subject_index"), { tokens: fresh })) {
      const table = r.table_name as string;
      if (!partitions.has(table)) partitions.set(table, new Set());
      partitions.get(table)!.add(r.event_date as string);
      batches.add(Number(r.batch_id));
    }
    await fillWorkTables(s, tokens, sessions, partitions);
    for (const t of ERASURE_TABLES.filter((x) => x.partitioned && partitions.has(x.table.name))) {
      for (const row of await s.query(ownedIdentifiersSql("duckdb", t, qualified))) collect(t, row, tokens, sessions);
    }
  }

  const refs = referencesOf(tokens, sessions, keys);
  const kids = (await s.query(`SELECT kid FROM ops.subject_keys WHERE subject_ref IN (SELECT unnest($refs))`, { refs })).map((r) => r.kid as string);
  const clearValues = new Set<string>([who.value]);
  const bronze = await readBronzeOf(engine, s, batches, kids, clearValues, opts.decryptBronze ?? false);
  return { tokens, sessions, partitions, batches, refs, kids, clearValues, ...bronze };
}

/** Fills the work tables the statements read (pseudonyms are placeholders until erasure chooses them). */
export async function fillWorkTables(
  s: SqlSession,
  tokens: ReadonlyMap<string, unknown>,
  sessions: ReadonlySet<string>,
  partitions: ReadonlyMap<string, ReadonlySet<string>>,
  pseudonyms?: ReadonlyMap<string, string>,
): Promise<void> {
  const t = [...tokens.keys(), ...sessions];
  const parts = [...partitions].flatMap(([table, dates]) => [...dates].map((d) => [table, d] as const));
  const [map, partsSql] = workTablesSql("duckdb");
  await s.run(map!, { map_t: t, map_p: t.map((v) => pseudonyms?.get(v) ?? "") });
  await s.run(partsSql!, { parts_table: parts.map((p) => p[0]), parts_date: parts.map((p) => p[1]) });
}

function collect(t: ErasureTable, row: Record<string, unknown>, tokens: Map<string, IdentityKind>, sessions: Set<string>): void {
  for (const c of t.columns.identity) {
    const v = row[c];
    if (typeof v === "string" && !tokens.has(v)) tokens.set(v, IDENTITY_TOKEN_COLUMNS[c]!);
  }
  const sid = t.columns.session ? row[t.columns.session] : undefined;
  if (typeof sid === "string" && sid !== "") sessions.add(sid);
}

const KEY_KIND: Partial<Record<IdentityKind, SubjectKind>> = { user: "user", email: "email", anon: "anon" };

/** The references the key store may file the person's data keys under: each token of a keyed kind and each session, under each token key. */
export function referencesOf(tokens: ReadonlyMap<string, IdentityKind>, sessions: ReadonlySet<string>, keys: readonly TokenKey[]): string[] {
  const refs = new Set<string>();
  for (const k of keys) {
    for (const [token, kind] of tokens) {
      const subjectKind = KEY_KIND[kind];
      if (subjectKind) refs.add(subjectRef({ kind: subjectKind, token }, k));
    }
    for (const sid of sessions) {
      for (const tk of keys) refs.add(subjectRef({ kind: "session", token: tokenize(sid, tk, "id") }, k));
    }
  }
  return [...refs];
}

/** Bronze files the batches own. */
export async function batchBronzeFiles(s: SqlSession, batches: ReadonlySet<number>): Promise<string[]> {
  if (batches.size === 0) return [];
  const rows = await s.query(`SELECT bronze_files::VARCHAR AS f FROM ops.batches WHERE batch_id IN (SELECT unnest($ids))`, {
    ids: [...batches].map((b) => BigInt(b)),
  });
  return [...new Set(rows.flatMap((r) => JSON.parse(r.f as string) as string[]))].sort();
}

/**
 * Reads the person's Bronze lines (the lines of their batches' files under
 * their kids, found by searching each decompressed file for the kids, so
 * only their lines are parsed): counts them, keeps their text for the
 * verification, collects their clear identifiers, and decrypts the events
 * when asked.
 */
async function readBronzeOf(
  engine: Engine,
  s: SqlSession,
  batches: ReadonlySet<number>,
  kids: readonly string[],
  clearValues: Set<string>,
  decrypt: boolean,
): Promise<{ bronzeEvents: FoundSubject["bronzeEvents"]; bronzeLines: number; bronzeText: FoundSubject["bronzeText"] }> {
  const bronzeEvents: FoundSubject["bronzeEvents"] = [];
  const bronzeText: FoundSubject["bronzeText"] = [];
  if (kids.length === 0) return { bronzeEvents, bronzeLines: 0, bronzeText };
  const dataKeys = await unwrapStoredKeys(engine.store, kids, engine.keyring.kek);
  // Every envelope's kid is read in one pass per file; only the lines under the person's kids are parsed.
  const marker = Buffer.from(`"_pii":{"kid":"`);
  const files = await batchBronzeFiles(s, batches);
  // Decompressed a few at a time off the main thread (zlib's pool), scanned in order.
  const bodies = files.map(() => undefined as Promise<Buffer | undefined> | undefined);
  const start = (i: number) => {
    if (i < files.length) bodies[i] = gunzipBronzeFile(path.join(engine.bronze.root, files[i]!));
  };
  for (let i = 0; i < PARALLEL_READS; i++) start(i);
  for (const [i, file] of files.entries()) {
    const body = await bodies[i]!;
    bodies[i] = undefined;
    start(i + PARALLEL_READS);
    if (!body) continue;
    for (let at = body.indexOf(marker); at >= 0; at = body.indexOf(marker, at + marker.length)) {
      const from = at + marker.length;
      const kid = body.toString("latin1", from, body.indexOf(0x22 /* " */, from));
      const key = dataKeys.get(kid);
      if (!key) continue;
      const start = body.lastIndexOf(0x0a, at) + 1;
      const end = body.indexOf(0x0a, at);
      const line = body.toString("utf8", start, end < 0 ? body.length : end);
      const record = JSON.parse(line) as ProtectedEvent;
      bronzeText.push({ file, line });
      for (const [p, v] of envelopeEntries(decryptPii(record._pii!, key))) addClear(p, v, clearValues);
      if (decrypt) bronzeEvents.push({ file, event: restoreFromBronze(record, key) });
    }
  }
  return { bronzeEvents, bronzeLines: bronzeText.length, bronzeText };
}

const PARALLEL_READS = 4;
const gunzip = promisify(zlib.gunzip);

/** A Bronze file decompressed (off the main thread); undefined for one retention already removed. */
export async function gunzipBronzeFile(file: string): Promise<Buffer | undefined> {
  try {
    return await gunzip(await fs.promises.readFile(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

const IDENTIFIER_NAME = /(^|_)(user_id|anonymous_id|session_id|email|phone)$/i;

/** A case-insensitive RE2 pattern matching any of `values` as literals (one pass over a text, however many values). */
export function literalsPattern(values: readonly string[]): string {
  return `(?i)(${values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})`;
}

/**
 * Clear identifiers worth scanning for: the person's ids, emails and phone
 * numbers from their envelopes (names, cities and other values also occur in
 * other people's data, so a scan for them proves nothing).
 */
function addClear(path: readonly (string | number)[], v: unknown, out: Set<string>): void {
  const name = [...path].reverse().find((p) => typeof p === "string");
  if (typeof v === "string" && v.length >= 4 && typeof name === "string" && IDENTIFIER_NAME.test(name)) out.add(v);
}
