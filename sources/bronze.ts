/**
 * Bronze as a bounded source, for a replay: the Bronze files of a data dir
 * whose dt partition lies in a date range, read back as messages with their
 * personal fields decrypted again (transforms/protect.ts: restoreFromBronze),
 * so they walk the same steps as at first ingestion. A subject whose key is
 * gone (erased) replays without their personal fields.
 *
 * The file listing and the per-file reader are the Beam batch pipeline's own
 * (pipelines/beam/file-source.ts); this module batches them for the local
 * runner and resolves the subject keys from the source data dir.
 */
import fs from "node:fs";
import path from "node:path";
import { openDuckDb } from "../sinks/duckdb/open.js";
import { checkStoreKeys } from "../sinks/keys/fingerprints.js";
import { type Kek, keysDir, loadKeys } from "../sinks/keys/local-keys.js";
import { type Queryable, loadStoredKeys } from "../sinks/keys/subject-keys.js";
import type { RawMessage } from "../transforms/types.js";
import { type BronzeReadContext, bronzeFilesInRange, bronzeKids, readBronzeFile } from "../pipelines/beam/file-source.js";

export interface BronzeSelection extends BronzeReadContext {
  /** Bronze files, relative to `root`, sorted. */
  names: string[];
}

/** The Bronze files of `sourceDataDir` with dt in [from, to] (YYYY-MM-DD, inclusive). */
export function bronzeFilesOf(sourceDataDir: string, from: string, to: string): { root: string; names: string[] } {
  const root = path.join(sourceDataDir, "bronze");
  return { root, names: bronzeFilesInRange(root, from, to) };
}

/** The key ids (kids) the given Bronze files name. */
export function kidsOf(root: string, names: readonly string[]): string[] {
  return bronzeKids(root, names);
}

/** Subject data keys (base64) by kid from an open store; erased subjects are missing. */
export async function subjectKeysFromStore(store: Queryable, kek: Kek, kids: readonly string[]): Promise<Record<string, string>> {
  const keys = await loadStoredKeys(store, kids, kek);
  return Object.fromEntries([...keys].map(([kid, key]) => [kid, key.toString("base64")]));
}

/**
 * Subject data keys (base64) by kid, read from another data dir's store
 * (opened read-only, closed again) and unwrapped with that dir's KEK, once
 * the keys passed the same checks as at Engine.open (private files, the
 * store's own fingerprints). Not for a data dir this process already holds open.
 */
export async function subjectKeysFromDataDir(sourceDataDir: string, kids: readonly string[]): Promise<Record<string, string>> {
  const dbFile = path.join(sourceDataDir, "ecom.duckdb");
  if (!fs.existsSync(dbFile)) throw new Error(`the source data dir ${sourceDataDir} has no DuckDB store (ecom.duckdb): its subject keys cannot be read`);
  const keys = loadKeys(sourceDataDir, false);
  const instance = await openDuckDb(dbFile, { readOnly: true });
  try {
    const conn = await instance.connect();
    try {
      const store: Queryable = {
        query: async (sql, params) => (await conn.runAndReadAll(sql, params as never)).getRowObjectsJson() as Record<string, unknown>[],
      };
      await checkStoreKeys(store, keys, keysDir(sourceDataDir));
      return await subjectKeysFromStore(store, keys.kek, kids);
    } finally {
      conn.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/** The selected Bronze files as batches of at most `batchSize` messages, personal fields restored where a key exists. */
export function* readBronzeBatches(selection: BronzeSelection, batchSize: number): Generator<RawMessage[]> {
  const ctx: BronzeReadContext = { root: selection.root, keys: selection.keys };
  let batch: RawMessage[] = [];
  for (const name of selection.names) {
    for (const m of readBronzeFile(name, ctx)) {
      batch.push(m);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length) yield batch;
}
