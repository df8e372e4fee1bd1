/**
 * How a table is declared once for every backend: logical column types, the
 * key, and the partitioning and clustering BigQuery uses. The DuckDB and
 * BigQuery DDL are generated from these declarations (sinks/duckdb/ddl.ts,
 * sinks/bigquery/ddl.ts), so the two stores cannot drift apart.
 */

/** Logical column types; each backend maps them (UUID is a 16-byte UUID on DuckDB, a STRING on BigQuery). */
export type ColumnType = "STRING" | "INT64" | "BOOL" | "TIMESTAMP" | "DATE" | "JSON" | "BYTES" | "UUID";

export interface Column {
  name: string;
  type: ColumnType;
  description: string;
  /** Part of the primary key. */
  key?: boolean;
  required?: boolean;
  /** SQL literal the column takes when an insert leaves it out. */
  default?: string;
}

export interface TableDef {
  schema: "silver" | "ops";
  name: string;
  description: string;
  columns: Column[];
  /** Date or timestamp expression to partition on (BigQuery). */
  partitionBy?: string;
  clusterBy?: string[];
  /** Only these backends have the table (e.g. DuckDB's dedupe store; BigQuery dedupes on Silver itself). */
  only?: "duckdb" | "bigquery";
}

export const column = (name: string, type: ColumnType, description: string, extra: Partial<Column> = {}): Column => ({
  name,
  type,
  description,
  ...extra,
});

export function qualified(t: TableDef): string {
  return `${t.schema}.${t.name}`;
}
