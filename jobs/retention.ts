/**
 * `ecom retention run`: deletes what the retention policy (schemas/retention.ts)
 * says is too old, from a local data dir: Bronze date partitions, Silver,
 * Gold and ops rows, and the exactly-once bookkeeping no layer needs any
 * more (sinks/duckdb/retention.ts says which). Never touched: the tables of
 * NEVER_EXPIRED and every file outside `<data-dir>/bronze/` (the audit
 * folder, keys).
 *
 * Steps:
 *   1. refuse a real run while `ecom start` holds the data dir (it writes, as
 *      a dead-letter replay does); a dry run asks the running instance;
 *   2. open the store (recovery first, so no Bronze file is half-written);
 *   3. one transaction deletes the rows it plans inside it;
 *   4. then the Bronze folders go (a run cut short here finishes next time).
 * A dry run lists the same plan and deletes nothing.
 */
import fs from "node:fs";
import { goldRetention } from "../gold/retention.js";
import { findInstance, queryInstance } from "../pipelines/local/instance.js";
import { type Cutoffs, NEVER_EXPIRED, type RetentionPolicy, type RowRetention, WAREHOUSE_RETENTION, cutoffsOf } from "../schemas/retention.js";
import { openDuckDb } from "../sinks/duckdb/open.js";
import { type QueryFn, type RowsPlan, deleteRows, planRows } from "../sinks/duckdb/retention.js";
import { jsonRows } from "../sinks/duckdb/rows.js";
import { type BronzePartition, bronzePartitionsBefore, removeBronzePartitions } from "../sinks/local-files/bronze-partitions.js";
import { dataDirPaths } from "../sinks/local-files/data-dir.js";
import { InputError } from "./errors.js";
import type { EngineServices } from "../pipelines/local/engine.js";
import { openRuntime } from "./runtime.js";

export interface RetentionOptions {
  /** The key-encryption key (local or Cloud KMS): the store is opened, and recovered, with its keys. */
  services?: EngineServices;
  policy: RetentionPolicy;
  dryRun: boolean;
  /** The day the cutoffs count back from (epoch ms); now when absent. */
  nowMs?: number;
}

export interface RetentionReport {
  dry_run: boolean;
  policy: RetentionPolicy;
  /** First kept day of Bronze and of Silver/Gold; dead letters received before this time go. */
  cutoffs: { bronze: string; silver_gold: string; dead_letters: string };
  bronze: { partitions: number; files: number; bytes: number; list: Omit<BronzePartition, "eventType">[] };
  tables: RowsPlan[];
  /** Rows over every table, files over Bronze. */
  totals: { rows: number; files: number };
  /** Tables never expired. */
  kept: readonly string[];
  seconds: number;
}

/** Every table retention deletes from: Silver and ops (schemas/retention.ts), then Gold. */
export function retentionTargets(): RowRetention[] {
  return [...WAREHOUSE_RETENTION, ...goldRetention()];
}

export async function runRetention(dataDir: string, opts: RetentionOptions): Promise<RetentionReport> {
  const t0 = performance.now();
  const c = cutoffsOf(opts.policy, opts.nowMs ?? Date.now());
  if (!fs.existsSync(dataDirPaths(dataDir).store)) {
    throw new InputError(`no data in ${dataDir} yet: run \`ecom start\` or \`ecom ingest <file>\` first (or pass --data-dir)`);
  }
  const instance = findInstance(dataDir);
  if (opts.dryRun) {
    const tables = instance ? await planRows((sql) => queryInstance(instance, sql), retentionTargets(), c) : await onReadOnlyFile(dataDir, c);
    return report(opts, c, bronzePartitionsBefore(dataDir, c.bronze), tables, t0);
  }
  if (instance) {
    throw new Error(
      `ecom start (pid ${instance.pid}) is running on ${dataDir}; stop it (Ctrl-C) before a retention run, which deletes from the store it owns.\n` +
        `  \`ecom retention run --dry-run\` works while it runs.`,
    );
  }
  const engine = await openRuntime(dataDir, { ...opts.services });
  let tables: RowsPlan[];
  try {
    const conn = engine.store.conn;
    tables = await deleteRows({ query: (sql) => engine.store.query(sql), change: async (sql) => (await conn.run(sql)).rowsChanged }, retentionTargets(), c);
  } finally {
    engine.close();
  }
  const partitions = bronzePartitionsBefore(dataDir, c.bronze);
  removeBronzePartitions(dataDir, partitions);
  return report(opts, c, partitions, tables, t0);
}

async function onReadOnlyFile(dataDir: string, c: Cutoffs): Promise<RowsPlan[]> {
  const db = await openDuckDb(dataDirPaths(dataDir).store, { readOnly: true });
  try {
    const conn = await db.connect();
    try {
      const query: QueryFn = async (sql) => jsonRows(await conn.runAndReadAll(sql));
      return await planRows(query, retentionTargets(), c);
    } finally {
      conn.closeSync();
    }
  } finally {
    db.closeSync();
  }
}

function report(opts: RetentionOptions, c: Cutoffs, partitions: BronzePartition[], tables: RowsPlan[], t0: number): RetentionReport {
  const files = partitions.reduce((n, p) => n + p.files, 0);
  return {
    dry_run: opts.dryRun,
    policy: { ...opts.policy },
    cutoffs: { bronze: c.bronze, silver_gold: c.silver, dead_letters: new Date(c.deadLettersMs).toISOString() },
    bronze: {
      partitions: partitions.length,
      files,
      bytes: partitions.reduce((n, p) => n + p.bytes, 0),
      list: partitions.map(({ partition, date, files, bytes }) => ({ partition, date, files, bytes })),
    },
    tables,
    totals: { rows: tables.reduce((n, t) => n + t.rows, 0), files },
    kept: NEVER_EXPIRED,
    seconds: Math.round(performance.now() - t0) / 1000,
  };
}
