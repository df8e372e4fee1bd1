/**
 * BigQuery DDL and load schemas for Silver and the ops tables the Dataflow
 * commit needs, generated from `schemas/silver.ts` (the single definition of
 * the columns), plus the row conversion for NDJSON load jobs.
 */
import type { Domain } from "../../schemas/registry.js";
import { type Column, type ColumnType, EVENT_TABLES, type TableDef } from "../../schemas/silver.js";
import type { SilverRow } from "../../transforms/to-silver.js";
import { stateViewsDdl } from "./state-views.js";

export interface BigQueryDatasets {
  project: string;
  /** Silver event tables. */
  silver: string;
  /** dead_letters, subject_keys, batches. */
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

export const DEAD_LETTER_COLUMNS: Column[] = [
  { name: "dl_id", type: "STRING", description: "sha256 of the redacted bytes, 32 hex: the dedupe key", required: true },
  { name: "reason", type: "STRING", description: "Machine-readable reason", required: true },
  { name: "detail", type: "STRING", description: "Cause, never a field value", required: true },
  { name: "paths", type: "JSON", description: "Failing field paths" },
  { name: "stage", type: "STRING", description: "decode or validate", required: true },
  { name: "event_id", type: "STRING", description: "event_id if readable" },
  { name: "event_type", type: "STRING", description: "event_type if readable" },
  { name: "schema_version", type: "INT64", description: "schema_version if readable" },
  { name: "origin", type: "STRING", description: "pubsub:<subscription> or bronze:<object>:<line>" },
  { name: "raw", type: "BYTES" as ColumnType, description: "Original bytes, card numbers redacted", required: true },
  { name: "received_at", type: "TIMESTAMP", description: "When the pipeline read it", required: true },
];

export const SUBJECT_KEY_COLUMNS: Column[] = [
  { name: "kid", type: "STRING", description: "Key id (a token of the subject)", required: true },
  { name: "wrapped_key", type: "BYTES" as ColumnType, description: "AES-256 data key wrapped by the KEK", required: true },
  { name: "kek_id", type: "STRING", description: "Id of the wrapping key", required: true },
  { name: "created_at", type: "TIMESTAMP", description: "Creation time", required: true },
];

export const BATCH_COLUMNS: Column[] = [
  { name: "batch_name", type: "STRING", description: "<window start>-<shard>: deterministic, so a retry finds it", required: true },
  { name: "committed_at", type: "TIMESTAMP", description: "Commit time", required: true },
  { name: "origin", type: "STRING", description: "Source of the batch" },
  { name: "read", type: "INT64", description: "Messages in the batch", required: true },
  { name: "valid", type: "INT64", description: "New Silver rows", required: true },
  { name: "duplicates", type: "INT64", description: "Dropped as already seen", required: true },
  { name: "dead_lettered", type: "INT64", description: "New dead letters", required: true },
  { name: "pans_redacted", type: "INT64", description: "Card numbers redacted", required: true },
  { name: "bronze_partitions", type: "JSON", description: "Partitions whose Bronze object this batch owns", required: true },
];

function bqType(t: string): string {
  return (BQ_TYPES as Record<string, string>)[t] ?? t;
}

export function tableRef(d: BigQueryDatasets, dataset: keyof Omit<BigQueryDatasets, "project">, table: string): string {
  return `\`${d.project}.${d[dataset]}.${table}\``;
}

export function createTableSql(ref: string, columns: readonly Column[], t?: Partial<Pick<TableDef, "partitionBy" | "clusterBy" | "description">>): string {
  const cols = columns.map((c) => `  ${c.name} ${bqType(c.type)}${c.required ? " NOT NULL" : ""} OPTIONS (description = ${JSON.stringify(c.description)})`);
  let sql = `CREATE TABLE IF NOT EXISTS ${ref} (\n${cols.join(",\n")}\n)`;
  if (t?.partitionBy) sql += `\nPARTITION BY ${t.partitionBy}`;
  if (t?.clusterBy?.length) sql += `\nCLUSTER BY ${t.clusterBy.join(", ")}`;
  if (t?.description) sql += `\nOPTIONS (description = ${JSON.stringify(t.description)})`;
  return sql;
}

/** Every table the Dataflow pipeline writes (run once per environment, e.g. by `ecom deploy --print-ddl`). */
export function allBigQueryDdl(d: BigQueryDatasets): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS \`${d.project}.${d.silver}\``,
    `CREATE SCHEMA IF NOT EXISTS \`${d.project}.${d.ops}\``,
    `CREATE SCHEMA IF NOT EXISTS \`${d.project}.${d.staging}\` OPTIONS (default_table_expiration_days = 1)`,
    ...Object.values(EVENT_TABLES).map((t) => createTableSql(tableRef(d, "silver", t.name), t.columns, t)),
    createTableSql(tableRef(d, "ops", "dead_letters"), [...DEAD_LETTER_COLUMNS, { name: "batch_name", type: "STRING", description: "Committing batch" }], {
      partitionBy: "DATE(received_at)",
      clusterBy: ["reason"],
    }),
    createTableSql(tableRef(d, "ops", "subject_keys"), SUBJECT_KEY_COLUMNS, { clusterBy: ["kid"] }),
    createTableSql(tableRef(d, "ops", "batches"), BATCH_COLUMNS, { partitionBy: "DATE(committed_at)", clusterBy: ["batch_name"] }),
    ...stateViewsDdl(d),
  ];
}

/** A load-job schema field list. */
export function loadSchema(columns: readonly Column[]): { name: string; type: string; mode: string }[] {
  return columns.map((c) => ({ name: c.name, type: bqType(c.type), mode: c.required ? "REQUIRED" : "NULLABLE" }));
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A Silver row as an NDJSON load line: timestamps as ISO strings, JSON columns as JSON values. */
export function silverLoadLine(domain: Domain, row: SilverRow): string {
  const out: Record<string, unknown> = {};
  for (const c of EVENT_TABLES[domain].columns) {
    const v = row[c.name];
    if (v === null || v === undefined) continue;
    out[c.name] = c.type === "TIMESTAMP" ? iso(v as number) : c.type === "JSON" ? JSON.parse(v as string) : v;
  }
  return JSON.stringify(out);
}
