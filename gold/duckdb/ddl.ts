/**
 * DuckDB DDL for Gold: the tables (from the models' columns) and the
 * bookkeeping that makes the refresh incremental and crash-safe:
 * `ops.gold_dirty` (windows to recompute, written in the batch transaction),
 * `ops.gold_state` (the newest event time the marks were computed with) and
 * `ops.gold_models` (which version of each model's SQL built its table).
 * Every writer commits with the Gold extension, so every batch marks its
 * windows in its own transaction; a store Gold arrives on later is covered
 * by the rebuild of the tables it lacks.
 */
import { duckdb } from "../dialect/duckdb.js";
import type { GoldModel } from "../model.js";

export const GOLD_OPS_DDL = [
  `CREATE SCHEMA IF NOT EXISTS gold`,
  `CREATE SCHEMA IF NOT EXISTS ops`,
  // One row per (model, window) still to recompute. batch_id: the latest batch
  // that marked it, so a refresh deletes only the marks it has read.
  `CREATE TABLE IF NOT EXISTS ops.gold_dirty (
    model VARCHAR NOT NULL,
    window_key VARCHAR NOT NULL,
    batch_id BIGINT NOT NULL,
    marked_at TIMESTAMP NOT NULL,
    PRIMARY KEY (model, window_key)
  )`,
  `CREATE TABLE IF NOT EXISTS ops.gold_state (
    name VARCHAR PRIMARY KEY,
    ts TIMESTAMP
  )`,
  `CREATE TABLE IF NOT EXISTS ops.gold_models (
    model VARCHAR PRIMARY KEY,
    signature VARCHAR NOT NULL,
    built_at TIMESTAMP NOT NULL,
    build_ms BIGINT NOT NULL
  )`,
];

export function goldTable(m: GoldModel): string {
  return `gold.${m.name}`;
}

export function createGoldTableSql(m: GoldModel): string {
  const cols = m.columns.map((c) => `  ${c.name} ${duckdb.type(c.type)}`);
  return `CREATE TABLE ${goldTable(m)} (\n${cols.join(",\n")}\n)`;
}
