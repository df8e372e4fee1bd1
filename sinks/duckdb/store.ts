/**
 * The DuckDB store: Silver tables, dead letters and the exactly-once
 * bookkeeping in one file, written by one process (see design.md).
 *
 * A batch is one transaction: claim the event_ids (dedupe keys), append the
 * Silver rows, merge the state tables, insert the dead letters, subject keys,
 * drift counts and the batch manifest, commit. Either all of it is there after
 * a crash, or none of it.
 */
import { type DuckDBConnection, type DuckDBInstance, listValue } from "@duckdb/node-api";
import { EVENT_TABLES, type TableDef, qualified } from "../../schemas/silver.js";
import { DOMAINS, type Domain } from "../../schemas/registry.js";
import { type AppendColumn, appendRows, type RowValue } from "./appender.js";
import { jsonRows } from "./rows.js";
import { allDdl } from "./ddl.js";
import { openDuckDb, protectDuckDbFiles } from "./open.js";
import { runReadOnly } from "./read-only.js";
import {
  flagOrdersSql,
  flagPaymentsSql,
  mergeInventorySql,
  mergeOrdersSql,
  mergePaymentsSql,
} from "./state.js";

export interface DeadLetterRow {
  dl_id: string;
  reason: string;
  detail: string;
  paths: string;
  stage: string;
  event_id: string | null;
  event_type: string | null;
  schema_version: number | null;
  origin: string;
  raw: Uint8Array;
  received_at: number;
}

export interface NewSubjectKey {
  kid: string;
  wrappedKey: Buffer;
  kekId: string;
}

export interface DriftCount {
  eventType: string;
  schemaVersion: number;
  path: string;
  events: number;
}

export interface BatchManifest {
  origin: string;
  read: number;
  valid: number;
  duplicates: number;
  deadLettered: number;
  pansRedacted: number;
  bronzeFiles: string[];
}

const STAGE = (d: Domain) => `stage_${d}`;

/** Query parameters: JS arrays become DuckDB lists. */
function bind(params?: Record<string, unknown>): never {
  if (!params) return undefined as never;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) out[k] = Array.isArray(v) ? listValue(v) : v;
  return out as never;
}

const DEAD_LETTER_COLUMNS: AppendColumn[] = [
  { name: "dl_id", type: "STRING" },
  { name: "reason", type: "STRING" },
  { name: "detail", type: "STRING" },
  { name: "paths", type: "JSON" },
  { name: "stage", type: "STRING" },
  { name: "event_id", type: "STRING" },
  { name: "event_type", type: "STRING" },
  { name: "schema_version", type: "INT64" },
  { name: "origin", type: "STRING" },
  { name: "raw", type: "BLOB" },
  { name: "received_at", type: "TIMESTAMP" },
];

export class DuckDbStore {
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
      for (const d of DOMAINS) {
        await conn.run(`CREATE OR REPLACE TEMP TABLE ${STAGE(d)} AS SELECT * FROM ${qualified(EVENT_TABLES[d])} LIMIT 0`);
      }
      await conn.run(`CREATE OR REPLACE TEMP TABLE stage_dead_letters (
        dl_id VARCHAR, reason VARCHAR, detail VARCHAR, paths JSON, stage VARCHAR, event_id VARCHAR, event_type VARCHAR,
        schema_version BIGINT, origin VARCHAR, raw BLOB, received_at TIMESTAMP)`);
      const max = await store.scalar<bigint | null>("SELECT max(batch_id) FROM ops.batches");
      store.nextBatchId = (max ?? 0n) + 1n;
    } catch (err) {
      store.close();
      throw err;
    }
    return store;
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
  async reader(): Promise<{ query(sql: string): Promise<Record<string, unknown>[]>; close(): void }> {
    const conn = await this.instance.connect();
    return {
      query: async (sql) => jsonRows(await conn.runAndReadAll(sql)),
      close: () => conn.closeSync(),
    };
  }

  /** Makes the file and its WAL private again (a WAL that writes outside a batch created under a permissive umask). */
  protectFiles(): void {
    protectDuckDbFiles(this.path);
  }

  /** A committed batch's Bronze files are all in place (recovery has nothing left to rename). */
  async markBronzeDone(batchId: bigint): Promise<void> {
    await this.conn.run(`UPDATE ops.batches SET bronze_state = 'done' WHERE batch_id = $b`, { b: batchId });
  }

  /** Starts a batch transaction. Exactly one may be open at a time. */
  async begin(): Promise<BatchTransaction> {
    const batchId = this.nextBatchId++;
    await this.conn.run("BEGIN TRANSACTION");
    return new BatchTransaction(this.conn, batchId, () => protectDuckDbFiles(this.path));
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

export class BatchTransaction {
  private done = false;
  private touched = new Set<Domain>();

  constructor(
    private readonly conn: DuckDBConnection,
    readonly batchId: bigint,
    /** After COMMIT: a WAL the commit created is made private (open.ts). */
    private readonly committed: () => void = () => undefined,
  ) {}

  /**
   * Records the event_ids as seen and returns the ones that were not seen
   * before (the rest are duplicates). Lower-case UUIDs expected.
   */
  async claimEventIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    // One joined string binds far faster than a list of 20 000 values; UUIDs hold no commas.
    const r = await this.conn.runAndReadAll(
      `INSERT INTO ops.seen_events SELECT unnest(string_split($ids, ','))::UUID, $batch ON CONFLICT DO NOTHING RETURNING event_id::VARCHAR`,
      { ids: ids.join(","), batch: this.batchId },
    );
    const fresh = new Set<string>();
    for (const row of r.getRows()) fresh.add(row[0] as string);
    return fresh;
  }

  /** Gives claims back (events that became dead letters after their ids were claimed). */
  async unclaimEventIds(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.conn.run(`DELETE FROM ops.seen_events WHERE event_id IN (SELECT unnest(string_split($ids, ','))::UUID)`, { ids: ids.join(",") });
  }

  /** Appends the batch's Silver rows (staged, then copied, then merged into the state tables). */
  async writeSilver(rows: ReadonlyMap<Domain, Record<string, RowValue>[]>): Promise<void> {
    for (const [domain, list] of rows) {
      if (list.length === 0) continue;
      const table: TableDef = EVENT_TABLES[domain];
      await this.conn.run(`DELETE FROM ${STAGE(domain)}`);
      const appender = await this.conn.createAppender(STAGE(domain), "main", "temp");
      appendRows(appender, table.columns, list);
      appender.flushSync();
      appender.closeSync();
      await this.conn.run(`INSERT INTO ${qualified(table)} SELECT * FROM ${STAGE(domain)}`);
      this.touched.add(domain);
    }
    if (this.touched.has("order")) {
      await this.conn.run(mergeOrdersSql(STAGE("order")));
      await this.conn.run(flagOrdersSql(STAGE("order")));
    }
    if (this.touched.has("payment")) {
      await this.conn.run(mergePaymentsSql(STAGE("payment")));
      await this.conn.run(flagPaymentsSql(STAGE("payment")));
    }
    if (this.touched.has("inventory")) await this.conn.run(mergeInventorySql(STAGE("inventory")));
  }

  /** Inserts dead letters; returns how many were new (a redelivered bad message is stored once). */
  async writeDeadLetters(rows: readonly DeadLetterRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    await this.conn.run(`DELETE FROM stage_dead_letters`);
    const appender = await this.conn.createAppender("stage_dead_letters", "main", "temp");
    appendRows(appender, DEAD_LETTER_COLUMNS, rows);
    appender.flushSync();
    appender.closeSync();
    const r = await this.conn.runAndReadAll(
      `INSERT INTO ops.dead_letters (dl_id, reason, detail, paths, stage, event_id, event_type, schema_version, origin, raw, received_at, dead_lettered_at, batch_id)
       SELECT DISTINCT ON (dl_id) *, now()::TIMESTAMP, $batch FROM stage_dead_letters
       ON CONFLICT DO NOTHING RETURNING dl_id`,
      { batch: this.batchId },
    );
    return r.currentRowCount;
  }

  async putSubjectKeys(keys: readonly NewSubjectKey[]): Promise<void> {
    if (keys.length === 0) return;
    await this.conn.run(
      `INSERT INTO ops.subject_keys
       SELECT unnest($kids::VARCHAR[]), from_base64(unnest($keys::VARCHAR[])), $kek, now()::TIMESTAMP
       ON CONFLICT DO NOTHING`,
      {
        kids: listValue(keys.map((k) => k.kid)),
        keys: listValue(keys.map((k) => k.wrappedKey.toString("base64"))),
        kek: keys[0]!.kekId,
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
      `INSERT INTO ops.batches VALUES ($batch, now()::TIMESTAMP, $origin, $read, $valid, $dup, $dl, $pans, $files, $state)`,
      {
        batch: this.batchId,
        origin: m.origin,
        read: BigInt(m.read),
        valid: BigInt(m.valid),
        dup: BigInt(m.duplicates),
        dl: BigInt(m.deadLettered),
        pans: BigInt(m.pansRedacted),
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
    this.committed();
  }

  async rollback(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.conn.run("ROLLBACK");
  }
}
