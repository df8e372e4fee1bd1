/**
 * DuckDB DDL for the Silver tables (generated from `schemas/silver.ts`) and the
 * operational tables the runner needs for exactly-once: the dedupe keys, the
 * batch manifest, dead letters, subject keys, key fingerprints and schema drift.
 */
import { type ColumnType, EVENT_TABLES, STATE_TABLES, type TableDef, qualified } from "../../schemas/silver.js";

const DUCKDB_TYPES: Record<ColumnType, string> = {
  STRING: "VARCHAR",
  INT64: "BIGINT",
  BOOL: "BOOLEAN",
  TIMESTAMP: "TIMESTAMP",
  DATE: "DATE",
  JSON: "JSON",
};

export function duckdbType(t: ColumnType): string {
  return DUCKDB_TYPES[t];
}

export function createTableSql(t: TableDef): string {
  const cols = t.columns.map((c) => `  ${c.name} ${duckdbType(c.type)}${c.required ? " NOT NULL" : ""}`);
  const key = t.columns.filter((c) => c.key).map((c) => c.name);
  if (key.length) cols.push(`  PRIMARY KEY (${key.join(", ")})`);
  return `CREATE TABLE IF NOT EXISTS ${qualified(t)} (\n${cols.join(",\n")}\n)`;
}

export const OPS_DDL = [
  `CREATE SCHEMA IF NOT EXISTS silver`,
  `CREATE SCHEMA IF NOT EXISTS ops`,
  `CREATE SCHEMA IF NOT EXISTS gold`,
  // Dedupe keys: one row per event_id ever committed (valid events). Committed
  // in the same transaction as the Silver rows.
  `CREATE TABLE IF NOT EXISTS ops.seen_events (
    event_id UUID PRIMARY KEY,
    batch_id BIGINT NOT NULL
  )`,
  // One row per committed batch: its counts and the Bronze files it owns.
  // bronze_state 'pending' = committed but files not all renamed into place
  // yet; recovery finishes the renames.
  `CREATE TABLE IF NOT EXISTS ops.batches (
    batch_id BIGINT PRIMARY KEY,
    committed_at TIMESTAMP NOT NULL,
    origin VARCHAR,
    read BIGINT NOT NULL,
    valid BIGINT NOT NULL,
    duplicates BIGINT NOT NULL,
    dead_lettered BIGINT NOT NULL,
    pans_redacted BIGINT NOT NULL,
    bronze_files JSON NOT NULL,
    bronze_state VARCHAR NOT NULL
  )`,
  // Dead letters, keyed by a hash of their (redacted) bytes so a redelivered
  // bad message is stored once.
  `CREATE TABLE IF NOT EXISTS ops.dead_letters (
    dl_id VARCHAR PRIMARY KEY,
    reason VARCHAR NOT NULL,
    detail VARCHAR NOT NULL,
    paths JSON,
    stage VARCHAR NOT NULL,
    event_id VARCHAR,
    event_type VARCHAR,
    schema_version BIGINT,
    origin VARCHAR,
    raw BLOB NOT NULL,
    received_at TIMESTAMP NOT NULL,
    dead_lettered_at TIMESTAMP NOT NULL,
    batch_id BIGINT NOT NULL,
    replay_attempts BIGINT NOT NULL DEFAULT 0,
    last_replay_error VARCHAR
  )`,
  // Per-subject data keys for Bronze, wrapped by the key-encryption key.
  // Deleting a row makes that person's Bronze data unreadable.
  `CREATE TABLE IF NOT EXISTS ops.subject_keys (
    kid VARCHAR PRIMARY KEY,
    wrapped_key BLOB NOT NULL,
    kek_id VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
  )`,
  // Fingerprints (HMAC of a fixed label, never the key) of the KEK and token
  // keys the store was written with: opening it with other keys is refused.
  `CREATE TABLE IF NOT EXISTS ops.key_fingerprints (
    key_file VARCHAR NOT NULL,
    key_id VARCHAR NOT NULL,
    fingerprint VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (key_file, key_id)
  )`,
  // Schema drift: fields producers send that the schema version does not know.
  `CREATE TABLE IF NOT EXISTS ops.schema_drift (
    event_type VARCHAR NOT NULL,
    schema_version BIGINT NOT NULL,
    field_path VARCHAR NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    events BIGINT NOT NULL,
    PRIMARY KEY (event_type, schema_version, field_path)
  )`,
];

export function allDdl(): string[] {
  return [...OPS_DDL, ...Object.values(EVENT_TABLES).map(createTableSql), ...STATE_TABLES.map(createTableSql)];
}
