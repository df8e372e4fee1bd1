/**
 * The storage and execution behind the fake BigQuery: one in-memory DuckDB
 * database, a schema per dataset, running what the BigQuery jobs ask for.
 *
 * Guarantees:
 * - One job at a time, in arrival order (BigQuery would run concurrent
 *   transactions and abort one; tests make that happen with `failJob`).
 * - A script runs as BigQuery runs it: every statement is translated before the
 *   first runs; outside a transaction each statement commits on its own; an
 *   error inside BEGIN TRANSACTION ... COMMIT TRANSACTION rolls the whole
 *   transaction back and fails the job; a script that ends inside a
 *   transaction is rolled back and fails. Script variables live for the job.
 * - A load job is atomic: its rows (every source line, typed by the table's or
 *   the load's schema) appear all together or not at all, with BigQuery's
 *   create and write dispositions.
 * - The session's time zone is UTC, so TIMESTAMP (TIMESTAMPTZ here) behaves as
 *   BigQuery's instants do in DATE(), TIMESTAMP_TRUNC and FORMAT_TIMESTAMP.
 */
import { type DuckDBConnection, DuckDBInstance, type DuckDBType, type DuckDBValue, listValue, structValue } from "@duckdb/node-api";
import { DUCKDB_MACROS, type TranslatedStatement, translateScript } from "./bigquery-sql.js";
import {
  type BqField,
  type BqType,
  BigQueryError,
  type RestField,
  type RestParameterType,
  Unsupported,
  duckdbBindType,
  duckdbTypeSql,
  quoteIdent,
  sameType,
  typeOfDuckDB,
  typeOfField,
  typeOfParameter,
} from "./bigquery-sql/types.js";
import { type RestParameterValue, loadRecord, parameterValue, plainValue } from "./bigquery-values.js";

export interface RestQueryParameter {
  name?: string;
  parameterType: RestParameterType;
  parameterValue?: RestParameterValue;
}

/** The rows of a query, typed for the wire. */
export interface ResultSet {
  fields: BqField[];
  rows: DuckDBValue[][];
}

export interface ExecutedStatement {
  original: string;
  duckdb: string[];
}

export interface ScriptOutcome {
  statements: ExecutedStatement[];
  /** BigQuery's statementType: SELECT, INSERT, MERGE, ..., or SCRIPT for several statements. */
  statementType: string;
  /** The last statement's rows when it is a query. */
  result?: ResultSet;
  /** Rows a single DML statement changed. */
  affectedRows?: number;
  /** Why it failed; statements after the failing one did not run. */
  error?: BigQueryError;
}

export interface LoadConfig {
  sourceUris: string[];
  destinationTable: { projectId: string; datasetId: string; tableId: string };
  sourceFormat?: string;
  writeDisposition?: string;
  createDisposition?: string;
  schema?: { fields: RestField[] };
  ignoreUnknownValues?: boolean;
}

export interface TableInfo {
  kind: "TABLE" | "VIEW";
  fields: { field: BqField; required: boolean }[];
  numRows: number;
}

const STATEMENT_TYPES: Record<TranslatedStatement["kind"], string> = {
  query: "SELECT",
  insert: "INSERT",
  merge: "MERGE",
  update: "UPDATE",
  delete: "DELETE",
  truncate: "TRUNCATE_TABLE",
  create_schema: "CREATE_SCHEMA",
  create_table: "CREATE_TABLE",
  create_view: "CREATE_VIEW",
  drop: "DROP_TABLE",
  begin: "BEGIN_TRANSACTION",
  commit: "COMMIT_TRANSACTION",
  rollback: "ROLLBACK_TRANSACTION",
  declare: "DECLARE",
  set: "SET",
};

const DML = new Set(["insert", "merge", "update", "delete"]);
const SYSTEM_SCHEMAS = new Set(["main", "information_schema", "pg_catalog"]);
const INSERT_CHUNK = 2000;

function asBigQueryError(err: unknown): BigQueryError {
  return err instanceof BigQueryError ? err : new BigQueryError(duckMessage(err));
}

/** DuckDB's first paragraph (its messages go on to quote the SQL). */
function duckMessage(err: unknown): string {
  return String((err as Error).message ?? err)
    .split("\n\n")[0]!
    .trim();
}

export class BigQueryEngine {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {}

  static async create(): Promise<BigQueryEngine> {
    const instance = await DuckDBInstance.create(":memory:");
    const conn = await instance.connect();
    await conn.run("SET TimeZone = 'UTC'");
    for (const m of DUCKDB_MACROS) await conn.run(m);
    return new BigQueryEngine(instance, conn);
  }

  /** Runs `work` after every job queued before it. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }

  /**
   * Runs a GoogleSQL query or script in `project` with BigQuery's named query
   * parameters. Never rejects for a failing query: the outcome carries the
   * BigQuery error and the statements that ran up to it (none when the script
   * did not translate).
   */
  runScript(sql: string, project: string, parameters: readonly RestQueryParameter[] = []): Promise<ScriptOutcome> {
    return this.serial(async () => {
      const executed: ExecutedStatement[] = [];
      let script: TranslatedStatement[];
      const types = new Map<string, BqType>();
      const values = new Map<string, DuckDBValue>();
      try {
        for (const p of parameters) {
          if (!p.name) throw new Unsupported("positional query parameters");
          const t = typeOfParameter(p.parameterType);
          types.set(p.name.toLowerCase(), t);
          values.set(p.name.toLowerCase(), parameterValue(t, p.parameterValue, p.name));
        }
        script = translateScript(sql, { project, params: types });
      } catch (err) {
        return { statements: executed, statementType: "SCRIPT", error: asBigQueryError(err) };
      }
      const declared = script.flatMap((s) => s.declares);
      let inTransaction = false;
      let result: ResultSet | undefined;
      let affectedRows: number | undefined;
      try {
        for (const [i, s] of script.entries()) {
          executed.push({ original: s.original, duckdb: s.duckdb });
          const bound = Object.fromEntries(s.params.map((n) => [n, values.get(n)!]));
          const boundTypes = Object.fromEntries(s.params.map((n) => [n, duckdbBindType(types.get(n)!)]));
          try {
            for (const stmt of s.duckdb) {
              if (s.kind === "query") {
                const reader = await this.conn.runAndReadAll(stmt, bound, boundTypes);
                const columnTypes = reader.columnTypes();
                result = { fields: reader.columnNames().map((name, c) => ({ name, type: typeOfDuckDB(columnTypes[c]!) })), rows: reader.getRows() };
              } else {
                const r = await this.conn.run(stmt, bound, boundTypes);
                if (DML.has(s.kind)) affectedRows = r.rowsChanged;
                result = undefined;
              }
            }
          } catch (err) {
            if (err instanceof BigQueryError) throw err;
            throw new BigQueryError(`${duckMessage(err)} (statement ${i + 1}: ${s.original.replace(/\s+/g, " ").slice(0, 120)})`);
          }
          if (s.kind === "begin") inTransaction = true;
          if (s.kind === "commit" || s.kind === "rollback") inTransaction = false;
        }
        if (inTransaction)
          throw new BigQueryError("fake BigQuery: the script ended inside a transaction (BEGIN TRANSACTION without COMMIT TRANSACTION); it was rolled back");
      } catch (err) {
        if (inTransaction) await this.conn.run("ROLLBACK").catch(() => undefined);
        return { statements: executed, statementType: "SCRIPT", error: asBigQueryError(err) };
      } finally {
        for (const v of declared) await this.conn.run(`RESET VARIABLE ${v}`).catch(() => undefined);
      }
      const single = script.length === 1 ? script[0]! : undefined;
      return {
        statements: executed,
        statementType: single ? STATEMENT_TYPES[single.kind] : "SCRIPT",
        result,
        affectedRows: single && DML.has(single.kind) ? affectedRows : undefined,
      };
    });
  }

  /** What BigQuery does when a load job runs: read the sources, write the destination, all or nothing. */
  load(project: string, cfg: LoadConfig, read: (uri: string) => Buffer[] | undefined): Promise<void> {
    return this.serial(async () => {
      if ((cfg.sourceFormat ?? "CSV") !== "NEWLINE_DELIMITED_JSON") throw new Unsupported(`load sourceFormat ${cfg.sourceFormat ?? "CSV"}`);
      const d = cfg.destinationTable;
      if (d.projectId !== project) throw new Unsupported(`a load into another project (${d.projectId})`);
      const lines: unknown[] = [];
      for (const uri of cfg.sourceUris) {
        const bodies = read(uri);
        if (!bodies) throw new BigQueryError(`Not found: URI ${uri}`, "notFound");
        for (const body of bodies) {
          let pos = 0;
          for (const line of body.toString("utf8").split("\n")) {
            if (line.trim()) {
              try {
                lines.push(JSON.parse(line));
              } catch (err) {
                throw new BigQueryError(
                  `Error while reading data, error message: JSON parsing error in row starting at position ${pos}: ${(err as Error).message}`,
                  "invalid",
                );
              }
            }
            pos += Buffer.byteLength(line) + 1;
          }
        }
      }
      if (!(await this.hasDataset(d.datasetId))) throw new BigQueryError(`Not found: Dataset ${project}:${d.datasetId}`, "notFound");
      const table = `${quoteIdent(d.datasetId)}.${quoteIdent(d.tableId)}`;
      const name = `${project}:${d.datasetId}.${d.tableId}`;
      const existing = await this.tableInfo(d.datasetId, d.tableId);
      const given = cfg.schema?.fields.map((f) => ({ field: { name: f.name, type: typeOfField(f) }, required: (f.mode ?? "").toUpperCase() === "REQUIRED" }));
      const write = cfg.writeDisposition ?? "WRITE_APPEND";
      const steps: string[] = [];
      let fields = existing?.fields;
      if (existing?.kind === "VIEW") throw new BigQueryError(`Cannot load into view ${name}`, "invalid");
      if (!existing) {
        if (cfg.createDisposition === "CREATE_NEVER") throw new BigQueryError(`Not found: Table ${name}`, "notFound");
        if (!given) throw new BigQueryError("No schema specified on job or table.", "invalid");
        steps.push(createTableSql(table, given));
        fields = given;
      } else if (write === "WRITE_TRUNCATE") {
        steps.push(given ? createTableSql(table, given, true) : `DELETE FROM ${table}`);
        fields = given ?? existing.fields;
      } else {
        if (write === "WRITE_EMPTY" && existing.numRows > 0) throw new BigQueryError(`Already Exists: Table ${name} is not empty (WRITE_EMPTY)`, "duplicate");
        if (given && !sameSchema(given, existing.fields)) throw new BigQueryError(`Provided Schema does not match Table ${name}.`, "invalid");
      }
      const required = new Set(fields!.filter((f) => f.required).map((f) => f.field.name));
      const defs = fields!.map((f) => f.field);
      const rows = lines.map((obj, i) => {
        if (!obj || typeof obj !== "object" || Array.isArray(obj))
          throw new BigQueryError(`Error while reading data, error message: row ${i + 1} is not a JSON object`, "invalid");
        try {
          return structValue(loadRecord(defs, obj as Record<string, unknown>, "", cfg.ignoreUnknownValues === true, required));
        } catch (err) {
          throw new BigQueryError(`Error while reading data, error message: row ${i + 1}: ${(err as Error).message}`, "invalid");
        }
      });
      const rowType = duckdbBindType({ kind: "ARRAY", element: { kind: "STRUCT", fields: defs } });
      await this.conn.run("BEGIN TRANSACTION");
      try {
        for (const s of steps) await this.conn.run(s);
        for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
          await this.conn.run(
            `INSERT INTO ${table} SELECT r.* FROM (SELECT unnest($rows) AS r)`,
            { rows: listValue(rows.slice(i, i + INSERT_CHUNK)) },
            { rows: rowType },
          );
        }
        await this.conn.run("COMMIT");
      } catch (err) {
        await this.conn.run("ROLLBACK").catch(() => undefined);
        throw new BigQueryError(`Error while loading ${name}: ${duckMessage(err)}`, "invalid");
      }
    });
  }

  datasetExists(dataset: string): Promise<boolean> {
    return this.serial(() => this.hasDataset(dataset));
  }

  private async hasDataset(dataset: string): Promise<boolean> {
    const r = await this.conn.runAndReadAll(`SELECT 1 FROM duckdb_schemas() WHERE database_name = 'memory' AND schema_name = $s`, { s: dataset });
    return r.currentRowCount > 0;
  }

  createDataset(dataset: string): Promise<boolean> {
    return this.serial(async () => {
      if (await this.hasDataset(dataset)) return false;
      await this.conn.run(`CREATE SCHEMA ${quoteIdent(dataset)}`);
      return true;
    });
  }

  dropDataset(dataset: string, deleteContents: boolean): Promise<boolean> {
    return this.serial(async () => {
      if (!(await this.hasDataset(dataset))) return false;
      try {
        await this.conn.run(`DROP SCHEMA ${quoteIdent(dataset)}${deleteContents ? " CASCADE" : ""}`);
      } catch (err) {
        throw new BigQueryError(`Dataset ${dataset} is still in use: ${duckMessage(err)}`, "invalid");
      }
      return true;
    });
  }

  /** A table's or view's columns (with REQUIRED for NOT NULL) and row count; undefined when it does not exist. */
  private async tableInfo(dataset: string, table: string): Promise<TableInfo | undefined> {
    const t = await this.conn.runAndReadAll(
      `SELECT table_type FROM information_schema.tables WHERE table_catalog = 'memory' AND table_schema = $d AND table_name = $t`,
      { d: dataset, t: table },
    );
    if (t.currentRowCount === 0) return undefined;
    const kind = t.getRows()[0]![0] === "VIEW" ? "VIEW" : "TABLE";
    const ref = `${quoteIdent(dataset)}.${quoteIdent(table)}`;
    const shape = await this.conn.runAndReadAll(`SELECT * FROM ${ref} LIMIT 0`);
    const nullable = await this.conn.runAndReadAll(
      `SELECT column_name, is_nullable FROM information_schema.columns WHERE table_catalog = 'memory' AND table_schema = $d AND table_name = $t`,
      { d: dataset, t: table },
    );
    const notNull = new Set(
      nullable
        .getRows()
        .filter((r) => r[1] === "NO")
        .map((r) => String(r[0])),
    );
    const count = kind === "TABLE" ? Number((await this.conn.runAndReadAll(`SELECT count(*) FROM ${ref}`)).getRows()[0]![0]) : 0;
    const types: DuckDBType[] = shape.columnTypes();
    return {
      kind,
      fields: shape.columnNames().map((name, i) => ({ field: { name, type: typeOfDuckDB(types[i]!) }, required: notNull.has(name) })),
      numRows: count,
    };
  }

  table(dataset: string, table: string): Promise<TableInfo | undefined> {
    return this.serial(() => this.tableInfo(dataset, table));
  }

  dropTable(dataset: string, table: string): Promise<boolean> {
    return this.serial(async () => {
      const info = await this.tableInfo(dataset, table);
      if (!info) return false;
      await this.conn.run(`DROP ${info.kind === "VIEW" ? "VIEW" : "TABLE"} ${quoteIdent(dataset)}.${quoteIdent(table)}`);
      return true;
    });
  }

  /** Every table and view, as `dataset.table`. */
  tables(): Promise<string[]> {
    return this.serial(async () => {
      const r = await this.conn.runAndReadAll(
        `SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_catalog = 'memory' AND table_schema <> 'main' ORDER BY 1`,
      );
      return r.getRows().map((x) => String(x[0]));
    });
  }

  /** DuckDB SQL on the fake's database (tests), rows as plain JSON values (see bigquery-values.ts). */
  query(sql: string): Promise<Record<string, unknown>[]> {
    return this.serial(async () => {
      const reader = await this.conn.runAndReadAll(sql);
      const names = reader.columnNames();
      const types = reader.columnTypes().map(typeOfDuckDB);
      return reader.getRows().map((row) => Object.fromEntries(names.map((n, i) => [n, plainValue(types[i]!, row[i]!)])));
    });
  }

  /** Every row of a table or view, as plain JSON values, in storage (insertion) order. */
  async rows(dataset: string, table: string): Promise<Record<string, unknown>[]> {
    if (!(await this.table(dataset, table)))
      throw new Error(`fake BigQuery has no table ${dataset}.${table}; it has: ${(await this.tables()).join(", ") || "none"}`);
    return this.query(`SELECT * FROM ${quoteIdent(dataset)}.${quoteIdent(table)}`);
  }

  /** Drops every dataset. */
  reset(): Promise<void> {
    return this.serial(async () => {
      const r = await this.conn.runAndReadAll(`SELECT schema_name FROM duckdb_schemas() WHERE database_name = 'memory'`);
      for (const [s] of r.getRows()) if (!SYSTEM_SCHEMAS.has(String(s))) await this.conn.run(`DROP SCHEMA ${quoteIdent(String(s))} CASCADE`);
    });
  }
}

function createTableSql(table: string, fields: readonly { field: BqField; required: boolean }[], replace = false): string {
  const cols = fields.map((f) => `${quoteIdent(f.field.name)} ${duckdbTypeSql(f.field.type)}${f.required ? " NOT NULL" : ""}`);
  return `CREATE ${replace ? "OR REPLACE " : ""}TABLE ${table} (${cols.join(", ")})`;
}

function sameSchema(a: readonly { field: BqField; required: boolean }[], b: readonly { field: BqField; required: boolean }[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (f, i) => f.field.name.toLowerCase() === b[i]!.field.name.toLowerCase() && sameType(f.field.type, b[i]!.field.type) && f.required === b[i]!.required,
    )
  );
}
