/**
 * BigQuery DDL and load schemas, generated from the declarations: Silver's
 * event and state tables (schemas/silver.ts) in the silver dataset, the
 * operational tables (schemas/ops.ts) in the ops dataset, the same
 * declarations DuckDB's DDL comes from. Plus the row conversion for the
 * NDJSON load jobs that stage a batch's rows.
 */
import { OPS_TABLES } from "../../schemas/ops.js";
import { expirationOfTable } from "../../schemas/retention.js";
import type { Domain } from "../../schemas/registry.js";
import { EVENT_TABLES, STATE_TABLES } from "../../schemas/silver.js";
import { type Column, type ColumnType, type TableDef, qualified } from "../../schemas/table.js";
import type { SilverRow } from "../../transforms/to-silver.js";

export interface BigQueryDatasets {
  project: string;
  /** Silver event and state tables. */
  silver: string;
  /** The operational tables (batches, dead letters, subject keys, drift, key fingerprints). */
  ops: string;
  /** Per-batch staging tables (expire after a day). */
  staging: string;
}

const BQ_TYPES: Record<ColumnType, string> = {
  STRING: "STRING",
  INT64: "INT64",
  BOOL: "BOOL",
  TIMESTAMP: "TIMESTAMP",
  DATE: "DATE",
  JSON: "JSON",
  BYTES: "BYTES",
  UUID: "STRING",
};

export function bqType(t: ColumnType): string {
  return BQ_TYPES[t];
}

export function tableRef(d: BigQueryDatasets, dataset: keyof Omit<BigQueryDatasets, "project">, table: string): string {
  return `\`${d.project}.${d[dataset]}.${table}\``;
}

/** The reference of a declared table in its dataset. */
export function refOf(d: BigQueryDatasets, t: TableDef): string {
  return tableRef(d, t.schema === "silver" ? "silver" : "ops", t.name);
}

/** `expirationDays`: BigQuery's partition_expiration_days (the retention policy, schemas/retention.ts). */
export function createTableSql(ref: string, t: Pick<TableDef, "columns" | "partitionBy" | "clusterBy" | "description">, expirationDays?: number): string {
  const cols = t.columns.map(
    (c) =>
      `  ${c.name} ${bqType(c.type)}${c.default !== undefined ? ` DEFAULT ${c.default}` : ""}${c.required ? " NOT NULL" : ""} OPTIONS (description = ${JSON.stringify(c.description)})`,
  );
  let sql = `CREATE TABLE IF NOT EXISTS ${ref} (\n${cols.join(",\n")}\n)`;
  if (t.partitionBy) sql += `\nPARTITION BY ${t.partitionBy}`;
  if (t.clusterBy?.length) sql += `\nCLUSTER BY ${t.clusterBy.join(", ")}`;
  const options = [
    ...(t.description ? [`description = ${JSON.stringify(t.description)}`] : []),
    ...(t.partitionBy && expirationDays !== undefined ? [`partition_expiration_days = ${expirationDays}`] : []),
  ];
  if (options.length) sql += `\nOPTIONS (${options.join(", ")})`;
  return sql;
}

/** Every table the Dataflow pipeline writes, as declared (run once per environment: `ecom deploy --print-ddl`). */
export function bigqueryTables(): TableDef[] {
  return [...Object.values(EVENT_TABLES), ...STATE_TABLES, ...OPS_TABLES.filter((t) => t.only !== "duckdb")];
}

export function allBigQueryDdl(d: BigQueryDatasets): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS \`${d.project}.${d.silver}\``,
    `CREATE SCHEMA IF NOT EXISTS \`${d.project}.${d.ops}\``,
    `CREATE SCHEMA IF NOT EXISTS \`${d.project}.${d.staging}\` OPTIONS (default_table_expiration_days = 1)`,
    ...bigqueryTables().map((t) => createTableSql(refOf(d, t), t, expirationOfTable(qualified(t)))),
  ];
}

/** A load-job schema field list. */
export function loadSchema(columns: readonly Column[]): { name: string; type: string; mode: string }[] {
  return columns.map((c) => ({ name: c.name, type: bqType(c.type), mode: c.required ? "REQUIRED" : "NULLABLE" }));
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A row as an NDJSON load line: timestamps as ISO strings, JSON columns as JSON values, bytes as base64. */
export function loadLine(columns: readonly Column[], row: Readonly<Record<string, unknown>>): string {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const v = row[c.name];
    if (v === null || v === undefined) continue;
    if (c.type === "TIMESTAMP") out[c.name] = iso(v as number);
    else if (c.type === "JSON") out[c.name] = typeof v === "string" ? JSON.parse(v) : v;
    else if (c.type === "BYTES") out[c.name] = Buffer.from(v as Uint8Array).toString("base64");
    else out[c.name] = v;
  }
  return JSON.stringify(out);
}

/** A Silver row as an NDJSON load line. */
export function silverLoadLine(domain: Domain, row: SilverRow): string {
  return loadLine(EVENT_TABLES[domain].columns, row);
}
