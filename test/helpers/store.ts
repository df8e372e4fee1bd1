/** Reading a data dir's DuckDB file from a test, past every guard of the platform, to check what changed. */
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";

export type Row = Record<string, unknown>;
export type Rows = (sql: string) => Promise<Row[]>;

/** Tables whose row counts show whether anything was written. */
export const WATCHED_TABLES = [
  "ops.batches",
  "ops.seen_events",
  "ops.subject_keys",
  "ops.dead_letters",
  "ops.key_fingerprints",
  "silver.order_events",
  "silver.customer_events",
  "gold.daily_revenue",
];

export async function rowCounts(rows: Rows): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of WATCHED_TABLES) out[t] = Number((await rows(`SELECT count(*) AS n FROM ${t}`))[0]!.n);
  return out;
}

/** Runs `fn` on the data dir's file opened read-only (nothing else may hold it). */
export async function withStoreFile<T>(dataDir: string, fn: (rows: Rows) => Promise<T>, opts: { readOnly?: boolean } = {}): Promise<T> {
  const instance = await DuckDBInstance.create(path.join(dataDir, "ecom.duckdb"), opts.readOnly === false ? {} : { access_mode: "READ_ONLY" });
  const conn = await instance.connect();
  try {
    return await fn(async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson() as Row[]);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
