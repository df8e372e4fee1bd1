/**
 * Bronze as a bounded source, for a replay: the Bronze files of a data dir
 * whose partition date lies in a range, read back as messages with their
 * personal data decrypted again (transforms/protect.ts: restoreFromBronze),
 * so they walk the same steps as at first ingestion. A person whose key is
 * gone (erased) replays without their personal data.
 *
 * Both executors read Bronze through this module: the local runner in
 * batches (`readBronzeBatches`), the Beam batch pipeline one file per
 * element (`readBronzeFile`, a sync generator: a DoFn cannot await).
 */
import fs from "node:fs";
import path from "node:path";
import { openDuckDb } from "../sinks/duckdb/open.js";
import { type Queryable, storedSubjectKeys } from "../sinks/duckdb/store.js";
import { checkStoreKeys } from "../sinks/keys/fingerprints.js";
import { type KekSource, LOCAL_KEK, openKek } from "../sinks/keys/kek.js";
import { loadKeys } from "../sinks/keys/local-keys.js";
import { type KeyWrapper, unwrapStoredKeys } from "../sinks/keys/subject-keys.js";
import { LocalBronze } from "../sinks/local-files/bronze.js";
import { dataDirPaths } from "../sinks/local-files/data-dir.js";
import type { WarehouseStore } from "../sinks/roles.js";
import { type ProtectedEvent, restoreFromBronze } from "../transforms/protect.js";
import type { RawMessage } from "../transforms/types.js";
import { fileLines } from "./ndjson.js";

const BLANK = /^\s*$/;

export interface BronzeReadContext {
  /** The Bronze root the names are relative to. */
  root: string;
  /** Subject data keys by kid (base64), resolved before the run; a missing kid = erased: the data stays absent. */
  keys: Record<string, string>;
}

export interface BronzeSelection extends BronzeReadContext {
  /** Bronze files, relative to `root`, sorted. */
  names: string[];
}

/** The Bronze files of a data dir with partition dates in [from, to] (YYYY-MM-DD, inclusive). */
export function bronzeFilesOf(dataDir: string, from: string, to: string): { root: string; names: string[] } {
  const bronze = new LocalBronze(dataDir);
  return { root: bronze.root, names: bronze.list({ from, to }) };
}

/** The key ids (kids) the given Bronze files name (read before a run, to resolve their keys). */
export function kidsOf(root: string, names: readonly string[]): string[] {
  const kids = new Set<string>();
  for (const name of names) {
    for (const [line] of fileLines(path.join(root, name))) {
      const m = /"_pii":\{"kid":"([^"]+)"/.exec(line);
      if (m) kids.add(m[1]!);
    }
  }
  return [...kids];
}

/** Subject data keys (base64) by kid from an open store; erased people's kids are missing. */
export async function subjectKeysFrom(
  store: Pick<WarehouseStore, "storedSubjectKeys">,
  kek: KeyWrapper,
  kids: readonly string[],
): Promise<Record<string, string>> {
  const keys = await unwrapStoredKeys(store, kids, kek);
  return Object.fromEntries([...keys].map(([kid, key]) => [kid, key.toString("base64")]));
}

/**
 * Subject data keys (base64) by kid, read from another data dir's store
 * (opened read-only, closed again) and unwrapped with that dir's KEK, once
 * the keys passed the same checks as at Engine.open (private files, the
 * store's own fingerprints). Not for a data dir this process already holds open.
 */
export async function subjectKeysFromDataDir(sourceDataDir: string, kids: readonly string[], source: KekSource = LOCAL_KEK): Promise<Record<string, string>> {
  const paths = dataDirPaths(sourceDataDir);
  if (!fs.existsSync(paths.store)) throw new Error(`the source data dir ${sourceDataDir} has no DuckDB store (ecom.duckdb): its subject keys cannot be read`);
  const keys = loadKeys(sourceDataDir, false, { localKek: source.kind === "local" });
  const kek = await openKek(source, keys);
  try {
    return await readKeys(paths, kids, keys, kek);
  } finally {
    await kek.close();
  }
}

async function readKeys(
  paths: ReturnType<typeof dataDirPaths>,
  kids: readonly string[],
  keys: ReturnType<typeof loadKeys>,
  kek: Awaited<ReturnType<typeof openKek>>,
): Promise<Record<string, string>> {
  const instance = await openDuckDb(paths.store, { readOnly: true });
  try {
    const conn = await instance.connect();
    try {
      const store: Queryable = {
        query: async (sql, params) => (await conn.runAndReadAll(sql, params as never)).getRowObjectsJson() as Record<string, unknown>[],
      };
      await checkStoreKeys(store, keys, kek, paths.keys);
      return await subjectKeysFrom({ storedSubjectKeys: (k) => storedSubjectKeys(store, k) }, kek, kids);
    } finally {
      conn.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/** One Bronze file -> its messages, personal data decrypted again (a Beam flatMap over the file names). */
export function* readBronzeFile(name: string, ctx: BronzeReadContext): Generator<RawMessage> {
  const receivedAtMs = Date.now();
  for (const [line, lineNo] of fileLines(path.join(ctx.root, name))) {
    if (line.length === 0 || BLANK.test(line)) continue;
    const record = JSON.parse(line) as ProtectedEvent;
    const kid = record._pii?.kid;
    const key = kid === undefined || ctx.keys[kid] === undefined ? undefined : Buffer.from(ctx.keys[kid]!, "base64");
    yield { data: JSON.stringify(restoreFromBronze(record, key)), origin: `bronze:${name}:${lineNo}`, receivedAtMs };
  }
}

/** The selected Bronze files as batches of at most `batchSize` messages. */
export function* readBronzeBatches(selection: BronzeSelection, batchSize: number): Generator<RawMessage[]> {
  let batch: RawMessage[] = [];
  for (const name of selection.names) {
    for (const m of readBronzeFile(name, selection)) {
      batch.push(m);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length) yield batch;
}
