/**
 * The DuckDB store, in the warehouse role (sinks/roles.ts): Silver, the
 * state tables, dead letters and the exactly-once bookkeeping in one file,
 * written by one process (see design.md).
 *
 * A batch is one transaction: claim the event_ids (ops.seen_events), append
 * the Silver rows, merge the state tables, insert the dead letters, subject
 * keys, drift counts and the batch manifest, commit. Either all of it is
 * there after a crash, or none of it. Rows arrive a batch at a time and are
 * appended table by table through the appender into staging tables.
 */
import { type DuckDBConnection, type DuckDBInstance, LIST, VARCHAR, listValue } from "@duckdb/node-api";
import {
  type BatchManifest,
  type BatchRef,
  DEAD_LETTERS,
  type DeadLetterRow,
  type DriftCount,
  type NewSubjectKey,
  type StoredSubjectKey,
  SUBJECT_INDEX,
} from "../../schemas/ops.js";
import { DOMAINS, type Domain } from "../../schemas/registry.js";
import { EVENT_TABLES } from "../../schemas/silver.js";
import { STATE_RULES } from "../../schemas/state.js";
import { qualified } from "../../schemas/table.js";
import type { Claim, CommittedBatch, WarehouseStore, WarehouseTransaction } from "../roles.js";
import { flagStateSql, mergeStateSql } from "../state-merge.js";
import { subjectIndexSql } from "../subject-index.js";
import type { SilverRow } from "../../transforms/to-silver.js";
import { appendRows } from "./appender.js";
import { allDdl, missingColumnsDdl } from "./ddl.js";
import { openDuckDb, protectDuckDbFiles } from "./open.js";
import { runReadOnly } from "./read-only.js";
import { jsonRows } from "./rows.js";

const STAGE = (d: Domain) => `stage_${d}`;

/** The dead-letter columns a batch provides (the rest the store fills). */
const DEAD_LETTER_INPUT = DEAD_LETTERS.columns.filter((c) => !["dead_lettered_at", "batch_id", "replay_attempts", "last_replay_error"].includes(c.name));

/** Query parameters: JS arrays become DuckDB lists. */
function bind(params?: Record<string, unknown>): never {
  if (!params) return undefined as never;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) out[k] = Array.isArray(v) ? listValue(v) : v;
  return out as never;
}

/** Types of the parameters DuckDB cannot infer: an empty list is a list of text. */
function types(params?: Record<string, unknown>): never {
  if (!params) return undefined as never;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) if (Array.isArray(v) && v.length === 0) out[k] = LIST(VARCHAR);
  return out as never;
}

/** A local batch's name: its sequence number, zero-padded (it names the batch's Bronze files). */
export function localBatchName(id: bigint): string {
  return id.toString().padStart(10, "0");
}

function committed(r: Record<string, unknown>): CommittedBatch {
  const id = BigInt(r.batch_id as string | number);
  return { ref: { id, name: (r.batch_name as string | null) ?? localBatchName(id) }, bronzeFiles: JSON.parse(r.bronze_files as string) as string[] };
}

/** What runs a query with parameters: a store, or a read-only connection on another data dir's file. */
export interface Queryable {
  query(sql: string, params?: Record<string, unknown>): Promise<Record<string, unknown>[]>;
}

/** The stored (wrapped) data keys among `kids` of a DuckDB store; an erased person's kid is missing. */
export async function storedSubjectKeys(store: Queryable, kids: readonly string[]): Promise<Map<string, Buffer>> {
  const keys = new Map<string, Buffer>();
  if (kids.length === 0) return keys;
  const rows = await store.query(
    `SELECT kid, to_base64(wrapped_key) AS w FROM ops.subject_keys WHERE kid IN (SELECT unnest(string_split($kids, ',')))`,
    { kids: kids.join(",") }, // kids are base64url: no commas
  );
  for (const r of rows) keys.set(r.kid as string, Buffer.from(r.w as string, "base64"));
  return keys;
}

export class DuckDbStore implements WarehouseStore {
  private nextBatchId = 1n;

  private constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
  ) {}

  /**
   * Opens (or creates) the store. `beforeWrite` runs on the opened file
   * before anything is written to it, even the DDL (the key check: a store
   * opened with the wrong keys is left exactly as it was).
   */
  static async open(path: string, opts: { beforeWrite?: (store: DuckDbStore) => Promise<void> } = {}): Promise<DuckDbStore> {
    // A larger WAL before automatic checkpoints: a checkpoint inside a batch commit stalls the stream.
    const instance = await openDuckDb(path, { settings: { checkpoint_threshold: "256MB" } });
    const conn = await instance.connect();
    const store = new DuckDbStore(path, instance, conn);
    try {
      await opts.beforeWrite?.(store);
      for (const sql of allDdl()) await conn.run(sql);
      await store.addMissingColumns();
      for (const d of DOMAINS) {
        await conn.run(`CREATE OR REPLACE TEMP TABLE ${STAGE(d)} AS SELECT * FROM ${qualified(EVENT_TABLES[d])} LIMIT 0`);
      }
      await conn.run(
        `CREATE OR REPLACE TEMP TABLE stage_dead_letters AS SELECT ${DEAD_LETTER_INPUT.map((c) => c.name).join(", ")} FROM ops.dead_letters LIMIT 0`,
      );
      const max = await store.scalar<bigint | null>("SELECT max(batch_id) FROM ops.batches");
      store.nextBatchId = (max ?? 0n) + 1n;
    } catch (err) {
      store.close();
      throw err;
    }
    return store;
  }

  /** Columns a declaration added since the store was made (an upgrade), and what they hold for old rows. */
  private async addMissingColumns(): Promise<void> {
    const rows = await this.query(
      `SELECT schema_name || '.' || table_name AS t, column_name AS c FROM duckdb_columns() WHERE schema_name IN ('silver', 'ops')`,
    );
    const existing = new Map<string, Set<string>>();
    for (const r of rows) {
      const t = r.t as string;
      if (!existing.has(t)) existing.set(t, new Set());
      existing.get(t)!.add(r.c as string);
    }
    const ddl = missingColumnsDdl(existing);
    for (const sql of ddl) await this.conn.run(sql);
    if (ddl.length) await this.conn.run(`UPDATE ops.batches SET batch_name = lpad(batch_id::VARCHAR, 10, '0') WHERE batch_name IS NULL`);
  }

  async scalar<T>(sql: string, params?: Record<string, unknown>): Promise<T> {
    const r = await this.conn.runAndReadAll(sql, bind(params));
    return r.getRows()[0]?.[0] as T;
  }

  async query(sql: string, params?: Record<string, unknown>): Promise<Record<string, unknown>[]> {
    return jsonRows(await this.conn.runAndReadAll(sql, bind(params)));
  }

  /**
   * Runs a person's query (`ecom query` served by a running instance) through
   * the read-only guard, on a connection of its own: it sees committed data
   * only, never joins a batch transaction, and is closed afterwards.
   */
  async queryReadOnly(sql: string): Promise<Record<string, unknown>[]> {
    const conn = await this.instance.connect();
    try {
      return await runReadOnly(conn, sql);
    } finally {
      conn.closeSync();
    }
  }

  /** A second connection for the platform's own work beside the batches (a Gold rebuild asked of a running instance). */
  async reader(): Promise<Queryable & { close(): void }> {
    const conn = await this.instance.connect();
    return {
      query: async (sql, params) => jsonRows(await conn.runAndReadAll(sql, bind(params))),
      close: () => conn.closeSync(),
    };
  }

  /**
   * A session for the platform's own multi-statement work (an erasure):
   * parameterized queries and statements that say how many rows they
   * changed. On the store's connection (nothing else runs: a command on the
   * data dir's file), or on a new one beside the batches (a running
   * instance), which `close` closes.
   */
  async session(own: boolean): Promise<SqlSession> {
    const conn = own ? await this.instance.connect() : this.conn;
    return {
      query: async (sql, params) => jsonRows(await conn.runAndReadAll(sql, bind(params), types(params))),
      run: async (sql, params) => Number((await conn.run(sql, bind(params), types(params))).rowsChanged),
      close: () => {
        if (own) conn.closeSync();
      },
    };
  }

  /** Makes the file and its WAL private again (a WAL that writes outside a batch created under a permissive umask). */
  protectFiles(): void {
    protectDuckDbFiles(this.path);
  }

  /** The batch committed under `name` (locally the store names batches, so only a name it gave can be found). */
  async committedBatch(name: string): Promise<CommittedBatch | undefined> {
    const rows = await this.query(`SELECT batch_id, batch_name, bronze_files FROM ops.batches WHERE batch_name = $n`, { n: name });
    return rows[0] ? committed(rows[0]) : undefined;
  }

  async pendingBronze(): Promise<CommittedBatch[]> {
    const rows = await this.query(`SELECT batch_id, batch_name, bronze_files FROM ops.batches WHERE bronze_state = 'pending' ORDER BY batch_id`);
    return rows.map(committed);
  }

  async markBronzeDone(ref: BatchRef): Promise<void> {
    await this.conn.run(`UPDATE ops.batches SET bronze_state = 'done' WHERE batch_id = $b`, { b: ref.id });
  }

  storedSubjectKeys(kids: readonly string[]): Promise<Map<string, Buffer>> {
    return storedSubjectKeys(this, kids);
  }

  async subjectKeysOf(refs: readonly string[]): Promise<StoredSubjectKey[]> {
    if (refs.length === 0) return [];
    const rows = await this.query(
      `SELECT kid, subject_ref, to_base64(wrapped_key) AS w, epoch_ms(created_at) AS ms FROM ops.subject_keys
       WHERE subject_ref IN (SELECT unnest(string_split($refs, ',')))`,
      { refs: refs.join(",") }, // references are base64url: no commas
    );
    return rows.map((r) => ({
      kid: r.kid as string,
      subjectRef: r.subject_ref as string,
      wrappedKey: Buffer.from(r.w as string, "base64"),
      createdAtMs: Number(r.ms),
    }));
  }

  async erasedSubjects(refs: readonly string[]): Promise<Set<string>> {
    if (refs.length === 0) return new Set();
    const rows = await this.query(`SELECT subject_ref FROM ops.erased_subjects WHERE subject_ref IN (SELECT unnest(string_split($refs, ',')))`, {
      refs: refs.join(","),
    });
    return new Set(rows.map((r) => r.subject_ref as string));
  }

  /** Starts a batch transaction. Exactly one may be open at a time. */
  async begin(name?: string): Promise<DuckDbTransaction> {
    const id = this.nextBatchId++;
    await this.conn.run("BEGIN TRANSACTION");
    return new DuckDbTransaction(this.conn, { id, name: name ?? localBatchName(id) }, () => protectDuckDbFiles(this.path));
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

export interface SqlSession {
  query(sql: string, params?: Record<string, unknown>): Promise<Record<string, unknown>[]>;
  /** Runs a statement; resolves to the rows it changed. */
  run(sql: string, params?: Record<string, unknown>): Promise<number>;
  close(): void;
}

export class DuckDbTransaction implements WarehouseTransaction {
  private done = false;

  constructor(
    private readonly conn: DuckDBConnection,
    readonly batch: BatchRef,
    /** After COMMIT: a WAL the commit created is made private (open.ts). */
    private readonly onCommit: () => void = () => undefined,
  ) {}

  /** Records the event_ids as seen and returns the ones not seen before (the rest are duplicates). Lower-case UUIDs expected. */
  async claimEventIds(claims: readonly Claim[]): Promise<Set<string>> {
    if (claims.length === 0) return new Set();
    // One joined string binds far faster than a list of 20 000 values; UUIDs hold no commas.
    const r = await this.conn.runAndReadAll(
      `INSERT INTO ops.seen_events SELECT unnest(string_split($ids, ','))::UUID, $batch ON CONFLICT DO NOTHING RETURNING event_id::VARCHAR`,
      { ids: claims.map((c) => c.id).join(","), batch: this.batch.id },
    );
    const fresh = new Set<string>();
    for (const row of r.getRows()) fresh.add(row[0] as string);
    return fresh;
  }

  async unclaimEventIds(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.conn.run(`DELETE FROM ops.seen_events WHERE event_id IN (SELECT unnest(string_split($ids, ','))::UUID)`, { ids: ids.join(",") });
  }

  /** Appends the batch's Silver rows (staged, then copied) and folds them into the state tables. */
  async writeSilver(rows: ReadonlyMap<Domain, SilverRow[]>): Promise<void> {
    const touched = new Set<Domain>();
    for (const [domain, list] of rows) {
      if (list.length === 0) continue;
      const table = EVENT_TABLES[domain];
      await this.conn.run(`DELETE FROM ${STAGE(domain)}`);
      const appender = await this.conn.createAppender(STAGE(domain), "main", "temp");
      appendRows(appender, table.columns, list);
      appender.flushSync();
      appender.closeSync();
      await this.conn.run(`INSERT INTO ${qualified(table)} SELECT * FROM ${STAGE(domain)}`);
      await this.conn.run(subjectIndexSql("duckdb", domain, STAGE(domain), qualified(SUBJECT_INDEX), "$batch"), { batch: this.batch.id });
      touched.add(domain);
    }
    for (const rules of STATE_RULES) {
      if (!touched.has(rules.from)) continue;
      await this.conn.run(mergeStateSql("duckdb", rules, STAGE(rules.from)));
      const flag = flagStateSql("duckdb", rules, STAGE(rules.from));
      if (flag) await this.conn.run(flag);
    }
  }

  async writeDeadLetters(rows: readonly DeadLetterRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    await this.conn.run(`DELETE FROM stage_dead_letters`);
    const appender = await this.conn.createAppender("stage_dead_letters", "main", "temp");
    appendRows(appender, DEAD_LETTER_INPUT, rows);
    appender.flushSync();
    appender.closeSync();
    const cols = DEAD_LETTER_INPUT.map((c) => c.name).join(", ");
    const r = await this.conn.runAndReadAll(
      `INSERT INTO ops.dead_letters (${cols}, dead_lettered_at, batch_id)
       SELECT DISTINCT ON (dl_id) ${cols}, now()::TIMESTAMP, $batch FROM stage_dead_letters
       ON CONFLICT DO NOTHING RETURNING dl_id`,
      { batch: this.batch.id },
    );
    return r.currentRowCount;
  }

  async putSubjectKeys(keys: readonly NewSubjectKey[]): Promise<void> {
    if (keys.length === 0) return;
    await this.conn.run(
      `INSERT INTO ops.subject_keys (kid, subject_ref, wrapped_key, kek_id, created_at)
       SELECT unnest($kids::VARCHAR[]), unnest($refs::VARCHAR[]), from_base64(unnest($keys::VARCHAR[])), unnest($keks::VARCHAR[]), now()::TIMESTAMP
       ON CONFLICT DO NOTHING`,
      {
        kids: listValue(keys.map((k) => k.kid)),
        refs: listValue(keys.map((k) => k.subjectRef)),
        keys: listValue(keys.map((k) => k.wrappedKey.toString("base64"))),
        keks: listValue(keys.map((k) => k.kekId)),
      },
    );
  }

  async recordDrift(drift: readonly DriftCount[]): Promise<void> {
    if (drift.length === 0) return;
    await this.conn.run(
      `INSERT INTO ops.schema_drift AS t
       SELECT unnest($types::VARCHAR[]), unnest($versions::BIGINT[]), unnest($paths::VARCHAR[]), now()::TIMESTAMP, now()::TIMESTAMP, unnest($counts::BIGINT[])
       ON CONFLICT DO UPDATE SET last_seen = EXCLUDED.last_seen, events = t.events + EXCLUDED.events`,
      {
        types: listValue(drift.map((d) => d.eventType)),
        versions: listValue(drift.map((d) => BigInt(d.schemaVersion))),
        paths: listValue(drift.map((d) => d.path)),
        counts: listValue(drift.map((d) => BigInt(d.events))),
      },
    );
  }

  async recordBatch(m: BatchManifest): Promise<void> {
    await this.conn.run(
      `INSERT INTO ops.batches (batch_id, batch_name, committed_at, origin, read, valid, duplicates, dead_lettered, pans_redacted, bronze_files, bronze_state)
       VALUES ($batch, $name, now()::TIMESTAMP, $origin, $read, $valid, $dup, $dl, $pans, $files, $state)`,
      {
        batch: this.batch.id,
        name: this.batch.name,
        origin: m.origin,
        read: BigInt(m.read),
        valid: BigInt(m.valid),
        dup: BigInt(m.duplicates),
        dl: BigInt(m.dead_lettered),
        pans: BigInt(m.pans_redacted),
        files: JSON.stringify(m.bronzeFiles),
        state: m.bronzeFiles.length ? "pending" : "done",
      },
    );
  }

  /** Runs a statement inside the batch transaction (for extensions). */
  async run(sql: string, params?: Record<string, unknown>): Promise<void> {
    await this.conn.run(sql, bind(params));
  }

  async commit(): Promise<void> {
    this.done = true;
    await this.conn.run("COMMIT");
    this.onCommit();
  }

  async rollback(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.conn.run("ROLLBACK");
  }
}
