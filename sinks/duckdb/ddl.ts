/**
 * DuckDB DDL, generated from the declarations: the Silver event and state
 * tables (schemas/silver.ts) and the operational tables (schemas/ops.ts).
 * A store made by an earlier version gets the columns a declaration has
 * added since (nullable, or with their default), so an upgrade needs no
 * manual step.
 */
import { OPS_TABLES } from "../../schemas/ops.js";
import { EVENT_TABLES, STATE_TABLES } from "../../schemas/silver.js";
import { type ColumnType, type TableDef, qualified } from "../../schemas/table.js";

const DUCKDB_TYPES: Record<ColumnType, string> = {
  STRING: "VARCHAR",
  INT64: "BIGINT",
  BOOL: "BOOLEAN",
  TIMESTAMP: "TIMESTAMP",
  DATE: "DATE",
  JSON: "JSON",
  BYTES: "BLOB",
  UUID: "UUID",
};

export function duckdbType(t: ColumnType): string {
  return DUCKDB_TYPES[t];
}

export function createTableSql(t: TableDef): string {
  const cols = t.columns.map(
    (c) => `  ${c.name} ${duckdbType(c.type)}${c.required ? " NOT NULL" : ""}${c.default !== undefined ? ` DEFAULT ${c.default}` : ""}`,
  );
  const key = t.columns.filter((c) => c.key).map((c) => c.name);
  if (key.length) cols.push(`  PRIMARY KEY (${key.join(", ")})`);
  return `CREATE TABLE IF NOT EXISTS ${qualified(t)} (\n${cols.join(",\n")}\n)`;
}

/** Every table of the local store, in creation order. */
export function duckdbTables(): TableDef[] {
  return [...OPS_TABLES.filter((t) => t.only !== "bigquery"), ...Object.values(EVENT_TABLES), ...STATE_TABLES];
}

export function allDdl(): string[] {
  return [`CREATE SCHEMA IF NOT EXISTS silver`, `CREATE SCHEMA IF NOT EXISTS ops`, `CREATE SCHEMA IF NOT EXISTS gold`, ...duckdbTables().map(createTableSql)];
}

/** ALTER statements adding the declared columns `existing` (table -> its column names) lacks. */
export function missingColumnsDdl(existing: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const out: string[] = [];
  for (const t of duckdbTables()) {
    const have = existing.get(qualified(t));
    if (!have) continue;
    for (const c of t.columns) {
      if (have.has(c.name)) continue;
      out.push(`ALTER TABLE ${qualified(t)} ADD COLUMN ${c.name} ${duckdbType(c.type)}${c.default !== undefined ? ` DEFAULT ${c.default}` : ""}`);
    }
  }
  return out;
}
