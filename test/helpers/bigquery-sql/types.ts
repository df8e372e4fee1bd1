/**
 * BigQuery data types as the fake BigQuery understands them, and how each
 * maps onto DuckDB. One model serves the three places a type comes from (a
 * query parameter's `parameterType`, a load job's schema field, a type in the
 * SQL text) and the two places it goes to (DuckDB DDL and bindings, the
 * `schema.fields` of a query answer).
 *
 * TIMESTAMP is DuckDB TIMESTAMPTZ on a session pinned to UTC (an instant, as
 * in BigQuery); DATETIME is the zone-less TIMESTAMP. A type with no faithful
 * DuckDB counterpart (BIGNUMERIC, GEOGRAPHY, INTERVAL, RANGE) is refused.
 */
import {
  BIGINT,
  BLOB,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  type DuckDBType,
  DuckDBTypeId,
  LIST,
  STRUCT,
  TIME,
  TIMESTAMP,
  TIMESTAMPTZ,
  VARCHAR,
} from "@duckdb/node-api";

export type BqScalar = "STRING" | "INT64" | "FLOAT64" | "NUMERIC" | "BOOL" | "BYTES" | "DATE" | "TIMESTAMP" | "DATETIME" | "TIME" | "JSON";
export type BqType = { kind: BqScalar } | { kind: "ARRAY"; element: BqType } | { kind: "STRUCT"; fields: BqField[] };
export interface BqField {
  name: string;
  type: BqType;
}

/** A BigQuery error the fake reports as a job's errorResult (or a jobs.query HTTP 400). */
export class BigQueryError extends Error {
  constructor(
    message: string,
    readonly reason: "invalidQuery" | "invalid" | "notFound" | "duplicate" = "invalidQuery",
  ) {
    super(message);
  }
}

/** The error for a construct the fake does not translate: loud, and naming it. */
export class Unsupported extends BigQueryError {
  constructor(readonly construct: string) {
    super(`fake BigQuery: ${construct} is not supported`);
  }
}

export const scalar = (kind: BqScalar): BqType => ({ kind });

/** Standard-SQL names and the aliases BigQuery accepts for them, in SQL and in the REST API. */
const SCALAR_NAMES: Record<string, BqScalar> = {
  STRING: "STRING",
  INT64: "INT64",
  INT: "INT64",
  INTEGER: "INT64",
  SMALLINT: "INT64",
  BIGINT: "INT64",
  TINYINT: "INT64",
  BYTEINT: "INT64",
  FLOAT64: "FLOAT64",
  FLOAT: "FLOAT64",
  NUMERIC: "NUMERIC",
  DECIMAL: "NUMERIC",
  BOOL: "BOOL",
  BOOLEAN: "BOOL",
  BYTES: "BYTES",
  DATE: "DATE",
  TIMESTAMP: "TIMESTAMP",
  DATETIME: "DATETIME",
  TIME: "TIME",
  JSON: "JSON",
};

export function scalarNamed(name: string): BqScalar {
  const k = SCALAR_NAMES[name.toUpperCase()];
  if (!k) throw new Unsupported(`type ${name}`);
  return k;
}

/** A query parameter's `parameterType` (REST): `{type, arrayType?, structTypes?}`. */
export interface RestParameterType {
  type: string;
  arrayType?: RestParameterType;
  structTypes?: { name?: string; type: RestParameterType }[];
}

export function typeOfParameter(t: RestParameterType): BqType {
  const name = t.type.toUpperCase();
  if (name === "ARRAY") {
    if (!t.arrayType) throw new BigQueryError("ARRAY query parameter without arrayType", "invalid");
    return { kind: "ARRAY", element: typeOfParameter(t.arrayType) };
  }
  if (name === "STRUCT" || name === "RECORD") {
    return { kind: "STRUCT", fields: (t.structTypes ?? []).map((f, i) => ({ name: f.name ?? `_field_${i + 1}`, type: typeOfParameter(f.type) })) };
  }
  return scalar(scalarNamed(name));
}

/** A table schema field (REST): legacy names, `mode` REPEATED for arrays, RECORD with `fields`. */
export interface RestField {
  name: string;
  type: string;
  mode?: string;
  fields?: RestField[];
  description?: string;
}

export function typeOfField(f: RestField): BqType {
  const name = f.type.toUpperCase();
  const base: BqType =
    name === "RECORD" || name === "STRUCT"
      ? { kind: "STRUCT", fields: (f.fields ?? []).map((c) => ({ name: c.name, type: typeOfField(c) })) }
      : scalar(scalarNamed(name));
  return (f.mode ?? "NULLABLE").toUpperCase() === "REPEATED" ? { kind: "ARRAY", element: base } : base;
}

const LEGACY: Record<BqScalar, string> = {
  STRING: "STRING",
  INT64: "INTEGER",
  FLOAT64: "FLOAT",
  NUMERIC: "NUMERIC",
  BOOL: "BOOLEAN",
  BYTES: "BYTES",
  DATE: "DATE",
  TIMESTAMP: "TIMESTAMP",
  DATETIME: "DATETIME",
  TIME: "TIME",
  JSON: "JSON",
};

/** A schema field as BigQuery answers it (query results, tables.get): legacy type names. */
export function restField(name: string, t: BqType, required = false): RestField {
  if (t.kind === "ARRAY") return { ...restField(name, t.element), mode: "REPEATED" };
  const mode = required ? "REQUIRED" : "NULLABLE";
  if (t.kind === "STRUCT") return { name, type: "RECORD", mode, fields: t.fields.map((f) => restField(f.name, f.type)) };
  return { name, type: LEGACY[t.kind], mode };
}

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The DuckDB type, as SQL text (DDL, CAST). */
export function duckdbTypeSql(t: BqType): string {
  switch (t.kind) {
    case "ARRAY":
      return `${duckdbTypeSql(t.element)}[]`;
    case "STRUCT":
      return `STRUCT(${t.fields.map((f) => `${quoteIdent(f.name)} ${duckdbTypeSql(f.type)}`).join(", ")})`;
    case "STRING":
      return "VARCHAR";
    case "INT64":
      return "BIGINT";
    case "FLOAT64":
      return "DOUBLE";
    case "NUMERIC":
      return "DECIMAL(38, 9)";
    case "BOOL":
      return "BOOLEAN";
    case "BYTES":
      return "BLOB";
    case "DATE":
      return "DATE";
    case "TIMESTAMP":
      return "TIMESTAMPTZ";
    case "DATETIME":
      return "TIMESTAMP";
    case "TIME":
      return "TIME";
    case "JSON":
      return "JSON";
  }
}

export function containsJson(t: BqType): boolean {
  return t.kind === "JSON" || (t.kind === "ARRAY" && containsJson(t.element)) || (t.kind === "STRUCT" && t.fields.some((f) => containsJson(f.type)));
}

/** The DuckDB type a value of `t` is bound as (JSON travels as VARCHAR and is cast in the SQL). */
export function duckdbBindType(t: BqType): DuckDBType {
  switch (t.kind) {
    case "ARRAY":
      return LIST(duckdbBindType(t.element));
    case "STRUCT":
      return STRUCT(Object.fromEntries(t.fields.map((f) => [f.name, duckdbBindType(f.type)])));
    case "STRING":
    case "JSON":
      return VARCHAR;
    case "INT64":
      return BIGINT;
    case "FLOAT64":
      return DOUBLE;
    case "NUMERIC":
      return DECIMAL(38, 9);
    case "BOOL":
      return BOOLEAN;
    case "BYTES":
      return BLOB;
    case "DATE":
      return DATE;
    case "TIMESTAMP":
      return TIMESTAMPTZ;
    case "DATETIME":
      return TIMESTAMP;
    case "TIME":
      return TIME;
  }
}

/** The BigQuery type of a DuckDB result column, or an error naming the DuckDB type BigQuery has no column type for. */
export function typeOfDuckDB(t: DuckDBType): BqType {
  switch (t.typeId) {
    case DuckDBTypeId.VARCHAR:
      return scalar(t.alias?.toUpperCase() === "JSON" ? "JSON" : "STRING");
    case DuckDBTypeId.BOOLEAN:
      return scalar("BOOL");
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.SQLNULL:
      return scalar("INT64");
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return scalar("FLOAT64");
    case DuckDBTypeId.DECIMAL:
      return scalar("NUMERIC");
    case DuckDBTypeId.DATE:
      return scalar("DATE");
    case DuckDBTypeId.TIMESTAMP_TZ:
      return scalar("TIMESTAMP");
    case DuckDBTypeId.TIMESTAMP:
      return scalar("DATETIME");
    case DuckDBTypeId.TIME:
      return scalar("TIME");
    case DuckDBTypeId.BLOB:
      return scalar("BYTES");
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const element = typeOfDuckDB(t.valueType);
      if (element.kind === "ARRAY") throw new BigQueryError("Cannot construct array with element type ARRAY: an array of arrays has no BigQuery type");
      return { kind: "ARRAY", element };
    }
    case DuckDBTypeId.STRUCT:
      return { kind: "STRUCT", fields: t.entryNames.map((name, i) => ({ name, type: typeOfDuckDB(t.entryTypes[i]!) })) };
    default:
      throw new Unsupported(`a result column of DuckDB type ${t.toString()}`);
  }
}

export function typeSql(t: BqType): string {
  if (t.kind === "ARRAY") return `ARRAY<${typeSql(t.element)}>`;
  if (t.kind === "STRUCT") return `STRUCT<${t.fields.map((f) => `${f.name} ${typeSql(f.type)}`).join(", ")}>`;
  return t.kind;
}

export function sameType(a: BqType, b: BqType): boolean {
  return typeSql(a) === typeSql(b);
}
