/**
 * Where everything of a local data dir lives, the one place those paths are
 * spelled. The layout:
 *
 *   <data-dir>/bronze/              Bronze files (schemas/bronze.ts layout)
 *   <data-dir>/ecom.duckdb          the store: Silver, Gold, ops
 *   <data-dir>/keys/                token-keys.json, kek.json (back them up)
 *   <data-dir>/ecom.instance.json   the running instance's port and access token
 *   <data-dir>/pubsub-emulator/     the emulator's own files, when ecom start runs it
 *   <data-dir>/audit/               privacy-audit.ndjson: the privacy audit log's file copy (never erased or expired)
 */
import path from "node:path";

export interface DataDirPaths {
  root: string;
  bronze: string;
  store: string;
  keys: string;
  tokenKeys: string;
  kek: string;
  instance: string;
  emulator: string;
  auditDir: string;
  auditFile: string;
}

export function dataDirPaths(dataDir: string): DataDirPaths {
  const keys = path.join(dataDir, "keys");
  return {
    root: dataDir,
    bronze: path.join(dataDir, "bronze"),
    store: path.join(dataDir, "ecom.duckdb"),
    keys,
    tokenKeys: path.join(keys, "token-keys.json"),
    kek: path.join(keys, "kek.json"),
    instance: path.join(dataDir, "ecom.instance.json"),
    emulator: path.join(dataDir, "pubsub-emulator"),
    auditDir: path.join(dataDir, "audit"),
    auditFile: path.join(dataDir, "audit", "privacy-audit.ndjson"),
  };
}
