/**
 * The statement guard of `ecom query`, for both of its paths (the running
 * instance's HTTP port and the DuckDB file opened read-only when nothing
 * runs).
 *
 * Guarantees, decided by DuckDB's own parser and binder (never by a regex
 * alone):
 * - a query is exactly one read-only statement: SELECT (with WITH, FROM-first
 *   `FROM t`, VALUES, TABLE), DESCRIBE, SHOW, SUMMARIZE, or EXPLAIN [ANALYZE]
 *   of one of those. Everything else (writes, DDL, ATTACH, COPY, SET, PRAGMA,
 *   INSTALL/LOAD, CALL, CHECKPOINT, transactions, several statements) is
 *   refused before it is bound;
 * - it never reads key material: a statement that names `ops.subject_keys`
 *   or `ops.privacy_requests`,
 *   or calls a table function outside a short list of read-only ones (so no
 *   `query()`/`query_table()` that would run SQL text this check never saw,
 *   no `enable_logging()`/`checkpoint()` that change the database), is refused;
 * - an accepted statement runs inside `BEGIN TRANSACTION READ ONLY ... ROLLBACK`,
 *   on a database opened without file or network access (open.ts);
 * - an error message never carries row values (see `redactDuckDbMessage`).
 */
import type { DuckDBConnection, DuckDBPreparedStatement } from "@duckdb/node-api";
import { StatementType } from "@duckdb/node-api";
import { jsonRows } from "./rows.js";

export const READ_ONLY_STATEMENTS = "SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN";

/** The guard refused the statement: nothing was bound or run. */
export class QueryRefused extends Error {}

/** DuckDB could not bind or run the statement; the message is redacted. */
export class QueryFailed extends Error {}

/** Table functions a query may call: generators and catalog listings, none of which reads rows of a table or changes anything. */
const TABLE_FUNCTIONS = new Set([
  "range",
  "generate_series",
  "unnest",
  "json_each",
  "json_tree",
  "duckdb_columns",
  "duckdb_constraints",
  "duckdb_databases",
  "duckdb_dependencies",
  "duckdb_functions",
  "duckdb_indexes",
  "duckdb_keywords",
  "duckdb_schemas",
  "duckdb_sequences",
  "duckdb_settings",
  "duckdb_tables",
  "duckdb_types",
  "duckdb_views",
  "pragma_table_info",
  "pragma_database_size",
  "pragma_version",
  "pragma_platform",
  "pg_timezone_names",
  "icu_calendar_names",
]);

/** Scalar functions with an effect beyond their result, or that run SQL text. */
const FORBIDDEN_FUNCTIONS = new Set(["nextval", "currval", "setseed", "write_log", "query", "query_table", "json_execute_serialized_sql"]);

/** Tables that hold key material: every subject's wrapped data key, and queued requests' encrypted identifiers. */
const KEY_TABLES = ["subject_keys", "privacy_requests"];

function refuse(what: string): never {
  throw new QueryRefused(`only one read-only statement is allowed per query (${READ_ONLY_STATEMENTS}); got ${what}`);
}

/** The statement's first keyword, for messages only (the decision is the parser's). */
function leadingKeyword(sql: string): string {
  const text = sql.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/|\()*/, "");
  return /^[A-Za-z_]+/.exec(text)?.[0]?.toUpperCase() ?? "a statement that is not a query";
}

interface ParseTree {
  error: boolean;
  error_type?: string;
  error_message?: string;
  statements?: unknown[];
}

/** Parses with DuckDB (no binding, nothing runs): the SELECT statements' trees, or why there are none. */
async function parseTree(conn: DuckDBConnection, sql: string): Promise<ParseTree> {
  const r = await conn.runAndReadAll("SELECT json_serialize_sql($sql::VARCHAR) AS tree", { sql });
  return JSON.parse(String(r.getRows()[0]![0])) as ParseTree;
}

async function statementCount(conn: DuckDBConnection, sql: string): Promise<number> {
  try {
    return (await conn.extractStatements(sql)).count;
  } catch (err) {
    throw new QueryFailed(redactDuckDbMessage((err as Error).message.replace(/^Failed to extract statements: /, ""), { sql, phase: "bind" }));
  }
}

/** Refuses a SELECT tree that names the key table or calls a function outside the allowed ones. */
function checkTree(node: unknown): void {
  if (Array.isArray(node)) {
    for (const child of node) checkTree(child);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const o = node as Record<string, unknown>;
  // Any table, CTE or SHOW/DESCRIBE/SUMMARIZE target whose name contains the key table's: a CTE of that name is refused too.
  const named = o.type === "BASE_TABLE" || o.type === "SHOW_REF" ? String(o.table_name ?? "").toLowerCase() : "";
  const keyTable = named && KEY_TABLES.find((t) => named.includes(t));
  if (keyTable) {
    throw new QueryRefused(`ops.${keyTable} holds key material and cannot be queried (not even counted or described)`);
  }
  if (o.type === "TABLE_FUNCTION") {
    const fn = o.function as Record<string, unknown> | undefined;
    const name = String(fn?.function_name ?? "").toLowerCase();
    if (!TABLE_FUNCTIONS.has(name)) {
      throw new QueryRefused(
        `the table function ${name}() is not allowed in a query; allowed: range, generate_series, unnest, json_each, json_tree ` +
          `and catalog listings such as duckdb_tables() and pragma_table_info() (read tables by name instead)`,
      );
    }
  }
  if (o.class === "FUNCTION" && FORBIDDEN_FUNCTIONS.has(String(o.function_name ?? "").toLowerCase())) {
    throw new QueryRefused(`the function ${String(o.function_name).toLowerCase()}() is not allowed in a query (it changes state or runs SQL text)`);
  }
  for (const v of Object.values(o)) checkTree(v);
}

/** Checks that `sql` is one SELECT-like statement (no EXPLAIN); `label` prefixes its keyword in a refusal. */
async function checkSelect(conn: DuckDBConnection, sql: string, label = "", parsed?: ParseTree): Promise<void> {
  const tree = parsed ?? (await parseTree(conn, sql));
  if (tree.error && tree.error_type === "parser") {
    throw new QueryFailed(redactDuckDbMessage(`Parser Error: ${tree.error_message}`, { sql, phase: "bind" }));
  }
  if (!tree.error && tree.statements?.length === 0) refuse("no statement");
  const count = await statementCount(conn, sql);
  if (count > 1) refuse(`${count} statements`);
  if (tree.error || tree.statements?.length !== 1) refuse(`${label}${leadingKeyword(sql)}`);
  checkTree(tree.statements);
}

const EXPLAIN_PREFIX = /^\s*EXPLAIN\s+(?:ANALYZE\s+)?/i;

/**
 * Binds `sql` after checking it; the caller runs and destroys the result.
 * EXPLAIN [ANALYZE] is accepted when the statement after it passes the same check.
 */
export async function prepareReadOnly(conn: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
  const tree = await parseTree(conn, sql);
  const explain = tree.error && tree.error_type !== "parser" ? EXPLAIN_PREFIX.exec(sql) : null;
  if (explain) {
    if ((await statementCount(conn, sql)) !== 1) refuse("several statements");
    const label = explain[0].trim().toUpperCase().replace(/\s+/g, " ") + " ";
    await checkSelect(conn, sql.slice(explain[0].length), label);
  } else {
    await checkSelect(conn, sql, "", tree);
  }
  let prepared: DuckDBPreparedStatement;
  try {
    prepared = await conn.prepare(sql);
  } catch (err) {
    throw new QueryFailed(redactDuckDbMessage((err as Error).message, { sql, phase: "bind" }));
  }
  // A second verdict: the binder's statement type must agree with the parser's.
  const expected = explain ? StatementType.EXPLAIN : StatementType.SELECT;
  if (prepared.statementType !== expected) {
    prepared.destroySync();
    refuse(leadingKeyword(sql));
  }
  return prepared;
}

/**
 * Runs one read-only statement on `conn` and returns its rows as JSON values.
 * The connection must not be in a transaction and must not be shared with
 * concurrent callers (the transaction is the connection's).
 */
export async function runReadOnly(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const prepared = await prepareReadOnly(conn, sql);
  await conn.run("BEGIN TRANSACTION READ ONLY");
  try {
    return jsonRows(await prepared.runAndReadAll());
  } catch (err) {
    throw new QueryFailed(redactDuckDbMessage((err as Error).message, { sql, phase: "run" }));
  } finally {
    await conn.run("ROLLBACK");
    prepared.destroySync();
  }
}

/** Error classes whose run-time messages DuckDB writes from templates that quote or number the values they echo. */
const TEMPLATED_RUN_ERRORS = new Set([
  "Conversion Error",
  "Out of Range Error",
  "Permission Error",
  "Out of Memory Error",
  "Interrupt Error",
  "Not implemented Error",
  "TransactionContext Error",
  "Constraint Error",
  "IO Error",
  "Catalog Error",
  "Binder Error",
]);

/**
 * A DuckDB error message without row values. Quoted literals ('…') are always
 * replaced. A message from binding (`phase: "bind"`) is made from the query
 * text and the catalog only, so its double-quoted identifiers stay. A message
 * from running the statement can echo any value it read: only its first line
 * is kept, double-quoted text and numbers that are not in the query text are
 * replaced, and for error classes that echo values without quoting them
 * (e.g. `Invalid Input Error` from `error(col)` or a regular expression) only
 * the class is kept.
 */
export function redactDuckDbMessage(message: string, opts: { sql?: string; phase: "bind" | "run" }): string {
  const literals = (s: string) => s.replace(/'(?:[^']|'')*'/g, "'…'");
  if (opts.phase === "bind") return literals(message);
  const sql = (opts.sql ?? "").toLowerCase();
  const first = message.split("\n")[0]!.trim();
  const cls = /^([A-Za-z ]+ Error):/.exec(first)?.[1];
  if (!cls || !TEMPLATED_RUN_ERRORS.has(cls)) {
    return `${cls ?? "Error"} (the rest of the message is withheld: it can contain row values; try() or TRY_CAST in a query finds the row)`;
  }
  return literals(first)
    .replace(/"([^"]*)"/g, (m, inner: string) => (inner && sql.includes(inner.toLowerCase()) ? m : `"…"`))
    .replace(/(?<![\w.])\d+(?:\.\d+)?(?![\w.])/g, (m) => (sql.includes(m) ? m : "…"));
}

/**
 * What may be shown of an error from the query path or a platform job over
 * the instance port: the guard's own messages as they are, DuckDB's redacted
 * the strict way, the platform's own (they name no values) as they are.
 */
export function publicErrorMessage(err: Error): string {
  if (err instanceof QueryRefused || err instanceof QueryFailed) return err.message;
  return /^[A-Za-z ]+ Error: /.test(err.message) ? redactDuckDbMessage(err.message, { phase: "run" }) : err.message;
}
