/** Runs SQL against the data dir: through the running instance when there is one, else on the file. */
import fs from "node:fs";
import { findInstance, queryInstance } from "../pipelines/local/instance.js";
import { storePath } from "../pipelines/local/engine.js";
import { DuckDbStore } from "../sinks/duckdb/store.js";

export async function runQuery(dataDir: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = findInstance(dataDir);
  if (instance) return queryInstance(instance, sql);
  const file = storePath(dataDir);
  if (!fs.existsSync(file)) throw new Error(`no data in ${dataDir} yet: run \`ecom start\` or \`ecom ingest <file>\` first (or pass --data-dir)`);
  const store = await DuckDbStore.open(file);
  try {
    return await store.query(sql);
  } finally {
    store.close();
  }
}
