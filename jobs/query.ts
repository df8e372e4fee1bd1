/**
 * `ecom query`: one read-only statement on the data dir, through the running
 * instance when there is one, else on the DuckDB file opened read-only (no
 * recovery, no DDL, nothing written) with the same guard (sinks/duckdb/read-only.ts).
 */
import fs from "node:fs";
import { findInstance, queryInstance } from "../pipelines/local/instance.js";
import { dataDirPaths } from "../sinks/local-files/data-dir.js";
import { openDuckDb } from "../sinks/duckdb/open.js";
import { runReadOnly } from "../sinks/duckdb/read-only.js";

export async function runQuery(dataDir: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = findInstance(dataDir);
  if (instance) return queryInstance(instance, sql);
  const file = dataDirPaths(dataDir).store;
  if (!fs.existsSync(file)) throw new Error(`no data in ${dataDir} yet: run \`ecom start\` or \`ecom ingest <file>\` first (or pass --data-dir)`);
  const db = await openDuckDb(file, { readOnly: true });
  try {
    const conn = await db.connect();
    try {
      return await runReadOnly(conn, sql);
    } finally {
      conn.closeSync();
    }
  } finally {
    db.closeSync();
  }
}
