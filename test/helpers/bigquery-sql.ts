/**
 * A translator from GoogleSQL (the subset this repository sends BigQuery) to
 * DuckDB SQL, for the fake BigQuery of test/helpers/bigquery-server.ts.
 *
 * `translateScript` parses a query or a multi-statement script with
 * sql-parser-cst (dialect "bigquery") and returns, per statement, its original
 * text, the DuckDB statements that do the same, and the query parameters they
 * bind. Statements: SELECT (WITH, joins, UNNEST, QUALIFY, windows, set
 * operations), INSERT, MERGE, UPDATE, DELETE, TRUNCATE, CREATE SCHEMA / TABLE
 * / VIEW, DROP, BEGIN/COMMIT/ROLLBACK TRANSACTION, DECLARE and SET.
 *
 * Guarantees:
 * - The whole script is translated before anything runs: a syntax error or an
 *   unsupported construct anywhere fails it with nothing executed, the error
 *   naming the construct (`fake BigQuery: <construct> is not supported`).
 * - What the translation cannot honour is refused, not approximated: types
 *   without a DuckDB counterpart, functions without a rule (./bigquery-sql/),
 *   OPTIONS other than the ones that only describe, expire or bill
 *   (description, labels, expirations, require_partition_filter), which are
 *   dropped.
 * - Datasets become DuckDB schemas; PARTITION BY and CLUSTER BY are checked
 *   against the columns and dropped (they change layout and cost, not rows).
 *
 * Known gaps, none in the repository's SQL: a column and a script variable of
 * the same name resolve to the variable; CAST(bytes AS STRING) gives DuckDB's
 * escaped text rather than the UTF-8 decoding; NUMERIC / NUMERIC divides in
 * FLOAT64; STRUCT fields of an UNNESTed array are reachable only through the
 * alias (`k.field`, not a bare `field`).
 */
import { parse } from "sql-parser-cst";
import { DUCKDB_MACROS, Emitter, type N, type Scope, checkFields, kw } from "./bigquery-sql/emitter.js";
import { type BqType, BigQueryError, Unsupported, duckdbTypeSql, quoteIdent } from "./bigquery-sql/types.js";

export { DUCKDB_MACROS };
export { BigQueryError, Unsupported };

export type StatementKind =
  | "query"
  | "insert"
  | "merge"
  | "update"
  | "delete"
  | "truncate"
  | "create_schema"
  | "create_table"
  | "create_view"
  | "drop"
  | "begin"
  | "commit"
  | "rollback"
  | "declare"
  | "set";

export interface TranslatedStatement {
  kind: StatementKind;
  /** The GoogleSQL text of the statement. */
  original: string;
  /** DuckDB statements that do what it does, in order (one for all but DECLARE of several names). */
  duckdb: string[];
  /** Query parameters (lower-case names) the DuckDB statements reference as `$name`. */
  params: string[];
  /** Script variables it declares. */
  declares: string[];
}

export interface TranslateOptions {
  /** The job's project: the default for two-part names, the only one three-part names may name. */
  project: string;
  /** Declared query parameters by name (matched case-insensitively). */
  params?: ReadonlyMap<string, BqType>;
}

/** Option names of CREATE SCHEMA / TABLE / VIEW and columns that describe or expire, without changing any row. */
const METADATA_OPTIONS = new Set([
  "description",
  "friendly_name",
  "labels",
  "default_table_expiration_days",
  "default_partition_expiration_days",
  "partition_expiration_days",
  "expiration_timestamp",
  "require_partition_filter",
  "location",
  "max_staleness",
]);

function syntaxError(err: unknown): BigQueryError {
  const message = (err as Error).message.split("\n");
  const at = message.find((l) => l.startsWith("-->"))?.replace(/^-->\s*(undefined:)?/, "") ?? "";
  return new BigQueryError(`${message[0]}${at ? ` at [${at}]` : ""}`);
}

export function translateScript(sql: string, opts: TranslateOptions): TranslatedStatement[] {
  let program: N;
  try {
    program = parse(sql, { dialect: "bigquery", includeRange: true, paramTypes: ["@name"] }) as unknown as N;
  } catch (err) {
    throw syntaxError(err);
  }
  const params = new Map([...(opts.params ?? new Map<string, BqType>())].map(([k, v]) => [k.toLowerCase(), v]));
  const vars = new Map<string, BqType | undefined>();
  const out: TranslatedStatement[] = [];
  for (const stmt of program.statements as N[]) {
    if (stmt.type === "empty") continue;
    const scope: Scope = { project: opts.project, params, vars, usedParams: new Set() };
    const e = new Emitter(sql, scope);
    if (stmt.type === "declare_stmt" && out.some((s) => s.kind !== "declare")) {
      throw new BigQueryError("Variable declarations are allowed only at the start of a block or script");
    }
    const { kind, duckdb, declares = [] } = statement(stmt, e, vars);
    out.push({ kind, original: e.text(stmt), duckdb, params: [...scope.usedParams], declares });
  }
  return out;
}

/** The fields each statement (and statement clause) may carry; another one is refused by name. */
const STATEMENT_FIELDS: Record<string, string[]> = {
  insert_stmt: ["clauses"],
  insert_clause: ["insertKw", "intoKw", "table", "columns"],
  values_clause: ["valuesKw", "values"],
  merge_stmt: ["clauses"],
  merge_clause: ["mergeKw", "intoKw", "target", "usingKw", "source", "onKw", "condition"],
  merge_when_clause: ["whenKw", "matchedKw", "byKw", "condition", "thenKw", "action"],
  merge_when_condition: ["andKw", "expr"],
  merge_action_delete: ["deleteKw"],
  merge_action_update: ["updateKw", "set"],
  merge_action_insert: ["insertKw", "columns", "clauses"],
  set_clause: ["setKw", "assignments"],
  column_assignment: ["column", "expr"],
  update_stmt: ["clauses"],
  update_clause: ["updateKw", "tables"],
  delete_stmt: ["clauses"],
  delete_clause: ["deleteKw", "fromKw", "tables"],
  truncate_stmt: ["truncateKw", "tableKw", "tables"],
  create_schema_stmt: ["createSchemaKw", "ifNotExistsKw", "name", "clauses"],
  create_table_stmt: ["createKw", "orReplaceKw", "tableKw", "ifNotExistsKw", "name", "columns", "clauses"],
  column_definition: ["name", "dataType", "constraints"],
  create_view_stmt: ["createKw", "orReplaceKw", "viewKw", "ifNotExistsKw", "name", "clauses"],
  as_clause: ["asKw", "expr"],
  bigquery_options: ["optionsKw", "options"],
  partition_by_clause: ["partitionByKw", "specifications"],
  cluster_by_clause: ["clusterByKw", "columns"],
  constraint_not_null: ["notNullKw"],
  constraint_default: ["defaultKw", "expr"],
  drop_table_stmt: ["dropKw", "tableKw", "ifExistsKw", "tables"],
  drop_view_stmt: ["dropKw", "viewKw", "ifExistsKw", "views"],
  drop_schema_stmt: ["dropSchemaKw", "ifExistsKw", "schemas", "behaviorKw"],
  start_transaction_stmt: ["startKw", "transactionKw"],
  commit_transaction_stmt: ["commitKw", "transactionKw"],
  rollback_transaction_stmt: ["rollbackKw", "transactionKw"],
  declare_stmt: ["declareKw", "names", "dataType", "init"],
  declare_init: ["operator", "expr"],
  set_stmt: ["setKw", "assignments"],
};

/** Checks a statement's fields and those of its clauses (expressions are checked as they are translated). */
function checkStatement(n: N): void {
  if (n.type === "create_table_stmt" && n.kind) throw new Unsupported(`CREATE ${kw(n.kind.kindKw)} TABLE`);
  checkFields(n, STATEMENT_FIELDS[n.type]);
  for (const v of Object.values(n)) {
    for (const c of Array.isArray(v) ? v : [v]) {
      if (c && typeof c === "object" && STATEMENT_FIELDS[(c as N).type]) checkStatement(c as N);
    }
  }
}

function statement(n: N, e: Emitter, vars: Map<string, BqType | undefined>): { kind: StatementKind; duckdb: string[]; declares?: string[] } {
  checkStatement(n);
  switch (n.type) {
    case "select_stmt":
    case "compound_select_stmt":
      return { kind: "query", duckdb: [e.query(n)] };
    case "insert_stmt":
      return { kind: "insert", duckdb: [insert(n, e)] };
    case "merge_stmt":
      return { kind: "merge", duckdb: [merge(n, e)] };
    case "update_stmt":
      return { kind: "update", duckdb: [update(n, e)] };
    case "delete_stmt":
      return { kind: "delete", duckdb: [del(n, e)] };
    case "truncate_stmt":
      return {
        kind: "truncate",
        duckdb: [
          `TRUNCATE ${single(n.tables, e, "TRUNCATE")
            .map((t) => e.tableName(t))
            .join("")}`,
        ],
      };
    case "create_schema_stmt":
      return { kind: "create_schema", duckdb: [createSchema(n, e)] };
    case "create_table_stmt":
      return { kind: "create_table", duckdb: [createTable(n, e)] };
    case "create_view_stmt":
      return { kind: "create_view", duckdb: [createView(n, e)] };
    case "drop_table_stmt":
    case "drop_view_stmt":
    case "drop_schema_stmt":
      return { kind: "drop", duckdb: [drop(n, e)] };
    case "start_transaction_stmt":
      return { kind: "begin", duckdb: ["BEGIN TRANSACTION"] };
    case "commit_transaction_stmt":
      return { kind: "commit", duckdb: ["COMMIT"] };
    case "rollback_transaction_stmt":
      return { kind: "rollback", duckdb: ["ROLLBACK"] };
    case "declare_stmt":
      return declare(n, e, vars);
    case "set_stmt":
      return { kind: "set", duckdb: setVariables(n, e, vars) };
    default:
      return e.unsupported(
        `statement ${n.type
          .replace(/_stmt$/, "")
          .replace(/_/g, " ")
          .toUpperCase()}`,
      );
  }
}

function single(list: N, e: Emitter, what: string): N[] {
  const items = (list?.items ?? []) as N[];
  if (items.length !== 1) e.unsupported(`${what} of ${items.length} tables`);
  return items;
}

function clauseOf(n: N, type: string): N | undefined {
  return (n.clauses as N[]).find((c) => c.type === type);
}

function onlyClauses(n: N, e: Emitter, allowed: string[]): void {
  for (const c of n.clauses as N[])
    if (!allowed.includes(c.type)) e.unsupported(`${c.type.replace(/_/g, " ")} in ${n.type.replace(/_stmt$/, "").toUpperCase()}`);
}

function insert(n: N, e: Emitter): string {
  const head = clauseOf(n, "insert_clause")!;
  if (head.modifiers?.length || head.orAction) e.unsupported("INSERT modifiers");
  const cols = head.columns ? ` (${e.identList(head.columns.expr)})` : "";
  const body = (n.clauses as N[]).filter((c) => c !== head);
  if (body.length !== 1) e.unsupported("INSERT with more than a SELECT or VALUES");
  const src = body[0]!;
  const rows = src.type === "values_clause" ? values(src, e) : e.query(src);
  return `INSERT INTO ${e.tableName(head.table)}${cols}\n${rows}`;
}

function values(v: N, e: Emitter): string {
  return `VALUES ${(v.values.items as N[]).map((row) => e.emit(row)).join(", ")}`;
}

/** A SET target: the column alone (DuckDB refuses a qualified one; GoogleSQL allows the target's alias). */
function assignments(set: N, e: Emitter): string {
  return (set.assignments.items as N[])
    .map((a) => {
      if (a.type !== "column_assignment") e.unsupported(a.type.replace(/_/g, " "));
      const col = a.column.type === "member_expr" ? e.pathParts(a.column).at(-1)! : e.name(a.column);
      return `${quoteIdent(col)} = ${e.emit(a.expr)}`;
    })
    .join(", ");
}

function merge(n: N, e: Emitter): string {
  const [head, ...whens] = n.clauses as N[];
  if (head!.type !== "merge_clause") e.unsupported("MERGE without a target");
  const out = [`MERGE INTO ${e.table(head!.target)}\nUSING ${e.table(head!.source)}\nON ${e.emit(head!.condition)}`];
  for (const w of whens) {
    if (w.type !== "merge_when_clause") e.unsupported(w.type.replace(/_/g, " "));
    const matched = kw(w.matchedKw);
    const by = w.byKw ? ` ${kw(w.byKw)}` : "";
    const cond = w.condition ? ` AND ${e.emit(w.condition.expr)}` : "";
    const a = w.action as N;
    let action: string;
    if (a.type === "merge_action_delete") action = "DELETE";
    else if (a.type === "merge_action_update") action = `UPDATE SET ${assignments(a.set, e)}`;
    else if (a.type === "merge_action_insert") {
      if (a.rowKw || (a.clauses as N[]).length !== 1 || a.clauses[0].type !== "values_clause") e.unsupported("MERGE ... INSERT ROW");
      action = `INSERT${a.columns ? ` (${e.identList(a.columns.expr)})` : ""} ${values(a.clauses[0], e)}`;
    } else return e.unsupported(`MERGE action ${a.type}`);
    out.push(`WHEN ${matched}${by}${cond} THEN ${action}`);
  }
  return out.join("\n");
}

function update(n: N, e: Emitter): string {
  onlyClauses(n, e, ["update_clause", "set_clause", "from_clause", "where_clause"]);
  const head = clauseOf(n, "update_clause")!;
  if (head.modifiers?.length || head.orAction) e.unsupported("UPDATE modifiers");
  const where = clauseOf(n, "where_clause");
  if (!where) throw new BigQueryError("UPDATE must have a WHERE clause");
  const from = clauseOf(n, "from_clause");
  const target = single(head.tables, e, "UPDATE")[0]!;
  return `UPDATE ${e.table(target)} SET ${assignments(clauseOf(n, "set_clause")!, e)}${from ? `\n${e.emit(from)}` : ""}\n${e.emit(where)}`;
}

function del(n: N, e: Emitter): string {
  onlyClauses(n, e, ["delete_clause", "where_clause"]);
  const head = clauseOf(n, "delete_clause")!;
  if (head.modifiers?.length) e.unsupported("DELETE modifiers");
  const where = clauseOf(n, "where_clause");
  if (!where) throw new BigQueryError("DELETE must have a WHERE clause");
  return `DELETE FROM ${e.table(single(head.tables, e, "DELETE")[0]!)}\n${e.emit(where)}`;
}

/** OPTIONS(...) that only describe: checked by name, then dropped. */
function checkOptions(opts: N, e: Emitter): void {
  for (const o of opts.options.expr.items as N[]) {
    const name = o.type === "binary_expr" && o.left.type === "identifier" ? String(o.left.name).toLowerCase() : "";
    if (!METADATA_OPTIONS.has(name)) e.unsupported(`OPTIONS(${name || e.text(o)})`);
  }
}

function createSchema(n: N, e: Emitter): string {
  for (const c of n.clauses as N[]) {
    if (c.type === "bigquery_options") checkOptions(c, e);
    else e.unsupported(`${c.type.replace(/_/g, " ")} in CREATE SCHEMA`);
  }
  if (n.statements?.length) e.unsupported("CREATE SCHEMA with statements");
  const [dataset] = e.qualified(n.name, "dataset");
  return `CREATE SCHEMA ${n.ifNotExistsKw ? "IF NOT EXISTS " : ""}${quoteIdent(dataset!)}`;
}

function columnDefinition(c: N, e: Emitter): { name: string; sql: string; type: BqType } {
  if (c.type !== "column_definition" || !c.dataType)
    e.unsupported(c.type === "column_definition" ? "a column without a type" : `${c.type.replace(/_/g, " ")} in a column list`);
  checkFields(c, STATEMENT_FIELDS.column_definition);
  for (const k of c.constraints as N[]) checkFields(k, STATEMENT_FIELDS[k.type]);
  const name = e.name(c.name);
  const type = e.typeOf(c.dataType);
  let sql = `${quoteIdent(name)} ${duckdbTypeSql(type)}`;
  for (const k of c.constraints as N[]) {
    if (k.type === "constraint_not_null") sql += " NOT NULL";
    else if (k.type === "bigquery_options") checkOptions(k, e);
    else if (k.type === "constraint_default") sql += ` DEFAULT ${e.emit(k.expr)}`;
    else e.unsupported(`column ${k.type.replace(/_/g, " ")}`);
  }
  return { name, sql, type };
}

/** PARTITION BY col | DATE(col) | TIMESTAMP_TRUNC(col, unit) | DATE_TRUNC(col, unit) on a DATE or TIMESTAMP column. */
function checkPartition(p: N, cols: Map<string, BqType>, e: Emitter): void {
  const items = p.specifications.items as N[];
  if (items.length !== 1) throw new BigQueryError("Only a single PARTITION BY expression is supported");
  const x = items[0]!;
  let col: N | undefined;
  if (x.type === "identifier") col = x;
  else if (x.type === "func_call" && ["DATE", "TIMESTAMP_TRUNC", "DATE_TRUNC", "DATETIME_TRUNC"].includes(String(x.name.name).toUpperCase()))
    col = x.args?.expr?.args?.items?.[0];
  if (col?.type !== "identifier") return e.unsupported(`PARTITION BY ${e.text(x)}`);
  const t = cols.get(String(col.name).toLowerCase());
  if (!t) throw new BigQueryError(`PARTITION BY expression references column ${col.name} which is not present in the table`);
  if (!["DATE", "TIMESTAMP", "DATETIME"].includes(t.kind))
    throw new BigQueryError(`PARTITION BY column ${col.name} must be DATE, TIMESTAMP or DATETIME, not ${t.kind}`);
}

function createTable(n: N, e: Emitter): string {
  if (n.kinds?.length) e.unsupported(`CREATE ${kw(n.kinds)} TABLE`);
  const head = `CREATE ${n.orReplaceKw ? "OR REPLACE " : ""}TABLE ${n.ifNotExistsKw ? "IF NOT EXISTS " : ""}${e.tableName(n.name)}`;
  const defs = n.columns ? (n.columns.expr.items as N[]).map((c) => columnDefinition(c, e)) : [];
  const cols = new Map(defs.map((d) => [d.name.toLowerCase(), d.type]));
  let as = "";
  for (const c of n.clauses as N[]) {
    if (c.type === "bigquery_options") checkOptions(c, e);
    else if (c.type === "partition_by_clause") {
      if (defs.length) checkPartition(c, cols, e);
    } else if (c.type === "cluster_by_clause") {
      const names = (c.columns.items as N[]).map((x) => e.name(x));
      if (names.length > 4) throw new BigQueryError("Too many clustering columns: at most 4");
      for (const name of names)
        if (defs.length && !cols.has(name.toLowerCase())) throw new BigQueryError(`The field specified for clustering cannot be found in the schema: ${name}`);
    } else if (c.type === "as_clause") as = ` AS\n${e.query(c.expr)}`;
    else e.unsupported(`${c.type.replace(/_/g, " ")} in CREATE TABLE`);
  }
  if (as && defs.length) e.unsupported("CREATE TABLE with both a column list and AS SELECT");
  if (!as && !defs.length) throw new BigQueryError("CREATE TABLE needs a column list or AS SELECT");
  return as ? `${head}${as}` : `${head} (\n  ${defs.map((d) => d.sql).join(",\n  ")}\n)`;
}

function createView(n: N, e: Emitter): string {
  if (n.kinds?.length) e.unsupported(`CREATE ${kw(n.kinds)} VIEW`);
  if (n.columns) e.unsupported("a view column list");
  let as = "";
  for (const c of n.clauses as N[]) {
    if (c.type === "bigquery_options") checkOptions(c, e);
    else if (c.type === "as_clause") as = e.query(c.expr);
    else e.unsupported(`${c.type.replace(/_/g, " ")} in CREATE VIEW`);
  }
  return `CREATE ${n.orReplaceKw ? "OR REPLACE " : ""}VIEW ${n.ifNotExistsKw ? "IF NOT EXISTS " : ""}${e.tableName(n.name)} AS\n${as}`;
}

function drop(n: N, e: Emitter): string {
  if (n.kinds?.length) e.unsupported(`DROP ${kw(n.kinds)}`);
  const ifExists = n.ifExistsKw ? "IF EXISTS " : "";
  if (n.type === "drop_schema_stmt") {
    const [d] = single(n.schemas, e, "DROP SCHEMA");
    return `DROP SCHEMA ${ifExists}${quoteIdent(e.qualified(d!, "dataset")[0]!)}${n.behaviorKw ? ` ${kw(n.behaviorKw)}` : ""}`;
  }
  const what = n.type === "drop_view_stmt" ? "VIEW" : "TABLE";
  const list = n.type === "drop_view_stmt" ? n.views : n.tables;
  return `DROP ${what} ${ifExists}${e.tableName(single(list, e, `DROP ${what}`)[0]!)}`;
}

const VARIABLE_NAME = /^[a-z_][a-z0-9_]*$/;

function declare(n: N, e: Emitter, vars: Map<string, BqType | undefined>): { kind: StatementKind; duckdb: string[]; declares: string[] } {
  const type = n.dataType ? e.typeOf(n.dataType) : undefined;
  const names = (n.names.items as N[]).map((x) => e.name(x).toLowerCase());
  if (!type && !n.init) throw new BigQueryError("DECLARE needs a type or a DEFAULT");
  // The DEFAULT sees the variables declared before this statement only.
  const value = n.init ? e.emit(n.init.expr) : "NULL";
  // GoogleSQL evaluates the DEFAULT once for all the names.
  const duckdb = names.map((name, i) => {
    if (!VARIABLE_NAME.test(name)) e.unsupported(`variable name ${name}`);
    if (vars.has(name) || names.indexOf(name) !== i) throw new BigQueryError(`Variable '${name}' is already declared`);
    if (i > 0) return `SET VARIABLE ${name} = getvariable('${names[0]}')`;
    return `SET VARIABLE ${name} = ${type ? `CAST(${value} AS ${duckdbTypeSql(type)})` : value}`;
  });
  for (const name of names) vars.set(name, type);
  return { kind: "declare", duckdb, declares: names };
}

function setVariables(n: N, e: Emitter, vars: ReadonlyMap<string, BqType | undefined>): string[] {
  return (n.assignments.items as N[]).map((a) => {
    if (a.type !== "binary_expr" || a.left.type !== "identifier") return e.unsupported(`SET ${e.text(a)}`);
    const name = String(a.left.name).toLowerCase();
    if (!vars.has(name)) throw new BigQueryError(`Unrecognized name: ${a.left.name}`);
    const t = vars.get(name);
    const value = e.emit(a.right);
    return `SET VARIABLE ${name} = ${t ? `CAST(${value} AS ${duckdbTypeSql(t)})` : value}`;
  });
}
