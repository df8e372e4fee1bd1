/**
 * GoogleSQL expressions, queries and table references -> DuckDB SQL, one CST
 * node at a time (sql-parser-cst, dialect "bigquery").
 *
 * Guarantees:
 * - Every node type is translated by a rule written for it; a node type, an
 *   operator or a keyword without one throws `Unsupported` naming it, so an
 *   unknown construct fails the job instead of running as something else.
 * - Operator expressions are parenthesised as the tree groups them, so the two
 *   dialects' precedence tables never matter (`||` binds like `*` in GoogleSQL).
 * - Literals are re-rendered from their parsed values (GoogleSQL string escapes
 *   differ from DuckDB's), identifiers are always quoted (DuckDB reserves words
 *   GoogleSQL does not), and text is only ever copied between a node's children
 *   after checking it holds nothing but punctuation, whitespace and comments.
 * - Datasets are DuckDB schemas: `project.dataset.table` -> "dataset"."table",
 *   the project checked against the job's; script variables -> getvariable();
 *   `@name` parameters -> `$name`; ORDER BY gets GoogleSQL's NULL ordering.
 */
import { checkFields } from "./fields.js";
import { translateCall } from "./functions.js";
import { literal, sqlString } from "./literals.js";
import { type BqType, BigQueryError, Unsupported, containsJson, duckdbTypeSql, quoteIdent, scalarNamed } from "./types.js";

export { checkFields, sqlString };

/** A CST node, loosely typed: the translator reads fields by node type. */
export type N = { type: string; range?: [number, number]; [field: string]: any };

export interface Scope {
  /** The job's project: three-part names must be in it. */
  project: string;
  /** Declared query parameters by lower-case name. */
  params: ReadonlyMap<string, BqType>;
  /** Script variables declared so far, by lower-case name (type when declared with one). */
  vars: ReadonlyMap<string, BqType | undefined>;
  /** Filled while translating: the parameters the statement references. */
  usedParams: Set<string>;
}

/** DuckDB macros the translated SQL calls; the engine creates them once per database. */
export const DUCKDB_MACROS = [
  `CREATE OR REPLACE MACRO bq_div(a, b) AS CASE WHEN b = 0 THEN error('division by zero: ' || CAST(a AS VARCHAR) || ' / ' || CAST(b AS VARCHAR)) ELSE a / b END`,
  `CREATE OR REPLACE MACRO bq_offset(l, i) AS CASE WHEN l IS NULL OR i IS NULL THEN NULL WHEN i < 0 OR i >= len(l) THEN error('Array index ' || CAST(i AS VARCHAR) || ' is out of bounds (overflow)') ELSE list_extract(l, i + 1) END`,
  `CREATE OR REPLACE MACRO bq_safe_offset(l, i) AS CASE WHEN i < 0 THEN NULL ELSE list_extract(l, i + 1) END`,
];

/** Keyword text of a keyword node or a list of them, upper-cased and space-joined. */
export function kw(k: N | N[] | string | undefined): string {
  if (k === undefined) return "";
  if (typeof k === "string") return k.toUpperCase();
  return (Array.isArray(k) ? k : [k]).map((x) => String(x.name ?? x.text).toUpperCase()).join(" ");
}

const PUNCTUATION = /^(?:\s+|--[^\n]*|#[^\n]*|\/\*[\s\S]*?\*\/|[(),.[\];])/;

const BINARY: Record<string, string> = {
  "=": "=",
  "<>": "<>",
  "!=": "<>",
  "<": "<",
  ">": ">",
  "<=": "<=",
  ">=": ">=",
  "+": "+",
  "-": "-",
  "*": "*",
  "||": "||",
  AND: "AND",
  OR: "OR",
  LIKE: "LIKE",
  "NOT LIKE": "NOT LIKE",
  IS: "IS",
  "IS NOT": "IS NOT",
  "IS DISTINCT FROM": "IS DISTINCT FROM",
  "IS NOT DISTINCT FROM": "IS NOT DISTINCT FROM",
};

const TIMESTAMP_UNITS = ["MICROSECOND", "MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY"];

export class Emitter {
  constructor(
    readonly src: string,
    readonly scope: Scope,
  ) {}

  unsupported(what: string): never {
    throw new Unsupported(what);
  }

  text(n: N): string {
    return n.range ? this.src.slice(n.range[0], n.range[1]) : n.type;
  }

  /**
   * The node's source with each child replaced by its translation; `fields`
   * overrides how the children in a field are translated (names, tables).
   * Between children only punctuation, whitespace and comments may stand.
   */
  rebuild(n: N, fields: Record<string, (c: N) => string> = {}): string {
    const children: { node: N; field: string }[] = [];
    const collect = (v: unknown, field: string) => {
      if (Array.isArray(v)) for (const x of v) collect(x, field);
      else if (v && typeof v === "object" && "type" in v) children.push({ node: v as N, field });
    };
    for (const [k, v] of Object.entries(n)) if (k !== "range") collect(v, k);
    children.sort((a, b) => a.node.range![0] - b.node.range![0]);
    let out = "";
    let pos = n.range![0];
    for (const c of children) {
      out += this.gap(this.src.slice(pos, c.node.range![0]), n);
      out += (fields[c.field] ?? ((x: N) => this.emit(x)))(c.node);
      pos = c.node.range![1];
    }
    return out + this.gap(this.src.slice(pos, n.range![1]), n);
  }

  private gap(text: string, parent: N): string {
    let rest = text;
    let out = "";
    while (rest.length) {
      const m = PUNCTUATION.exec(rest);
      if (!m) throw new Unsupported(`'${rest.trim().slice(0, 20)}' in ${parent.type.replace(/_/g, " ")}`);
      out += m[0].startsWith("#") ? `--${m[0].slice(1)}` : m[0];
      rest = rest.slice(m[0].length);
    }
    return out;
  }

  /** Any node in expression or clause position. */
  emit(n: N): string {
    checkFields(n);
    switch (n.type) {
      case "default":
        return "DEFAULT";
      case "keyword":
        return String(n.text);
      case "identifier":
        return this.identExpr(n);
      case "parameter":
        return this.param(n);
      case "string_literal":
      case "number_literal":
      case "boolean_literal":
      case "null_literal":
      case "blob_literal":
      case "date_literal":
      case "timestamp_literal":
      case "datetime_literal":
      case "json_literal":
      case "numeric_literal":
        return literal(n);
      case "interval_literal":
        return this.interval(n);
      case "paren_expr":
        return `(${this.emit(n.expr)})`;
      case "list_expr":
        return (n.items as N[]).map((x) => this.emit(x)).join(", ");
      case "binary_expr":
        return this.binary(n);
      case "prefix_op_expr":
        return this.prefix(n);
      case "between_expr":
        return `(${this.emit(n.left)} ${kw(n.betweenKw)} ${this.emit(n.begin)} AND ${this.emit(n.end)})`;
      case "case_expr":
        return `CASE${n.expr ? ` ${this.emit(n.expr)}` : ""} ${(n.clauses as N[]).map((c) => this.emit(c)).join(" ")} END`;
      case "case_when":
        return `WHEN ${this.emit(n.condition)} THEN ${this.emit(n.result)}`;
      case "case_else":
        return `ELSE ${this.emit(n.result)}`;
      case "func_call":
        return translateCall(n, this);
      case "cast_expr":
        return this.cast(n);
      case "typed_expr":
        return this.typed(n);
      case "array_expr":
        return `[${this.emit(n.expr)}]`;
      case "member_expr":
        return this.member(n);
      case "extract_expr":
        return this.extract(n);
      case "all_columns":
        return "*";
      case "select_stmt":
      case "compound_select_stmt":
        return this.query(n);
      // Clauses of a query, whose keywords DuckDB shares.
      case "select_clause":
        return this.selectClause(n);
      case "from_clause":
        return `FROM ${this.table(n.expr)}`;
      case "where_clause":
      case "having_clause":
      case "qualify_clause":
      case "limit_clause":
      case "with_clause":
      case "partition_by_clause":
      case "window_clause":
      case "frame_clause":
      case "frame_between":
      case "frame_bound_preceding":
      case "frame_bound_following":
      case "frame_bound_current_row":
      case "frame_unbounded":
        return this.rebuild(n);
      case "group_by_clause":
        if (n.distinctKw || n.withRollupKw) this.unsupported(`GROUP BY ${kw(n.distinctKw ?? n.withRollupKw)}`);
        return this.rebuild(n);
      case "group_by_rollup":
        return this.rebuild(n);
      case "common_table_expr":
        if (n.materializedKw || n.search || n.cycle) this.unsupported("a CTE option");
        return this.rebuild(n, { table: (c) => this.ident(c), columns: (c) => `(${this.identList(c.expr)})` });
      case "named_window":
        return this.rebuild(n, { name: (c) => this.ident(c) });
      case "window_definition":
        return this.rebuild(n, { baseWindowName: (c) => this.ident(c) });
      case "order_by_clause":
        return this.orderBy(n);
      case "over_arg":
        return `OVER ${n.window.type === "identifier" ? this.ident(n.window) : this.emit(n.window)}`;
      default:
        return this.unsupported(n.type.replace(/_/g, " "));
    }
  }

  /** A name that is never a value: column, alias, CTE, window or field names. */
  name(n: N): string {
    if (n.type !== "identifier") this.unsupported(`${n.type.replace(/_/g, " ")} where a name belongs`);
    return String(n.name);
  }

  ident(n: N): string {
    return quoteIdent(this.name(n));
  }

  identList(list: N): string {
    return (list.items as N[]).map((x) => this.ident(x)).join(", ");
  }

  private identExpr(n: N): string {
    const v = String(n.name).toLowerCase();
    if (this.scope.vars.has(v)) return `getvariable('${v}')`;
    if (String(n.name).includes("*")) this.unsupported("wildcard tables");
    return quoteIdent(n.name);
  }

  private param(n: N): string {
    const text = String(n.text);
    if (!text.startsWith("@") || text.startsWith("@@")) this.unsupported(text.startsWith("@@") ? `system variable ${text}` : "positional query parameters");
    const name = text.slice(1).replace(/^`|`$/g, "").toLowerCase();
    const t = this.scope.params.get(name);
    if (!t) throw new BigQueryError(`Query parameter '${text.slice(1)}' not found`);
    this.scope.usedParams.add(name);
    // JSON travels as text; json() parses and normalises it as BigQuery stores JSON.
    if (t.kind === "JSON") return `json($${name})`;
    return containsJson(t) ? `CAST($${name} AS ${duckdbTypeSql(t)})` : `$${name}`;
  }

  /** An INTERVAL n UNIT as a DuckDB interval (single units; GoogleSQL's range intervals are refused). */
  interval(n: N): string {
    if (n.type !== "interval_literal" || n.unit?.type !== "interval_unit") this.unsupported(`interval ${this.text(n)}`);
    const unit = kw(n.unit.unitKw);
    const fn: Record<string, string> = {
      MICROSECOND: "to_microseconds",
      MILLISECOND: "to_milliseconds",
      SECOND: "to_seconds",
      MINUTE: "to_minutes",
      HOUR: "to_hours",
      DAY: "to_days",
      WEEK: "to_weeks",
      MONTH: "to_months",
      YEAR: "to_years",
    };
    if (unit === "QUARTER") return `to_months(CAST(${this.emit(n.value)} AS BIGINT) * 3)`;
    if (!fn[unit]) this.unsupported(`INTERVAL unit ${unit}`);
    return `${fn[unit]}(CAST(${this.emit(n.value)} AS BIGINT))`;
  }

  /** The unit of an INTERVAL argument, for functions that only take some. */
  intervalUnit(n: N, allowed: readonly string[] = TIMESTAMP_UNITS): string {
    const unit = n.type === "interval_literal" ? kw(n.unit?.unitKw) : "";
    if (!allowed.includes(unit)) this.unsupported(`INTERVAL ${unit || this.text(n)} here`);
    return unit;
  }

  private binary(n: N): string {
    const op = kw(n.operator);
    if (op === "IN" || op === "NOT IN") {
      const right = n.right as N;
      // `x IN UNNEST(array)`: membership in the array's elements, with IN's NULL semantics.
      if (right.type === "unnest_expr") return `(${this.emit(n.left)} ${op} (SELECT unnest(${this.emit(right.expr)})))`;
      if (right.type !== "paren_expr") this.unsupported(`${op} ${right.type.replace(/_/g, " ")}`);
      return `(${this.emit(n.left)} ${op} ${this.emit(right)})`;
    }
    if (op === "/") return `bq_div(${this.emit(n.left)}, ${this.emit(n.right)})`;
    const duck = BINARY[op];
    if (!duck) this.unsupported(`operator ${op}`);
    return `(${this.emit(n.left)} ${duck} ${this.emit(n.right)})`;
  }

  private prefix(n: N): string {
    const op = kw(n.operator);
    if (op === "NOT") return `(NOT ${this.emit(n.expr)})`;
    if (op === "-") return `(-${this.emit(n.expr)})`;
    if (op === "+") return this.emit(n.expr);
    if (op === "EXISTS") return `EXISTS ${this.emit(n.expr)}`;
    return this.unsupported(`operator ${op}`);
  }

  private cast(n: N): string {
    const arg = n.args.expr as N;
    if (arg.type !== "cast_arg" || arg.format) this.unsupported("CAST ... FORMAT");
    const t = this.typeOf(arg.dataType);
    const value = this.emit(arg.expr);
    // DuckDB's CAST(VARCHAR AS BLOB) reads \x escapes; GoogleSQL takes the UTF-8 bytes.
    if (t.kind === "BYTES") return `encode(${value})`;
    return `${kw(n.castKw) === "SAFE_CAST" ? "TRY_CAST" : "CAST"}(${value} AS ${duckdbTypeSql(t)})`;
  }

  /** A GoogleSQL type in the SQL text. */
  typeOf(n: N): BqType {
    checkFields(n);
    if (n.type === "data_type_name") return { kind: scalarNamed(kw(n.name)) };
    if (n.type !== "parametric_data_type") return this.unsupported(`type ${this.text(n)}`);
    const base = kw(n.typeKw);
    const params = (n.params?.params?.items ?? []) as N[];
    if (base === "ARRAY" && params.length === 1 && params[0]!.type === "array_type_param" && !params[0]!.constraints?.length) {
      return { kind: "ARRAY", element: this.typeOf(params[0]!.dataType) };
    }
    if (base === "STRUCT" && params.every((p) => p.type === "struct_type_param" && !p.constraints?.length)) {
      return { kind: "STRUCT", fields: params.map((p) => ({ name: this.name(p.name), type: this.typeOf(p.dataType) })) };
    }
    return this.unsupported(`type ${this.text(n)}`);
  }

  /** STRUCT(...), STRUCT<...>(...) and ARRAY<T>[...]. */
  private typed(n: N): string {
    const base = kw(n.dataType.typeKw);
    if (base === "ARRAY" && n.expr.type === "array_expr") return `CAST(${this.emit(n.expr)} AS ${duckdbTypeSql(this.typeOf(n.dataType))})`;
    if (base !== "STRUCT" || n.expr.type !== "struct_expr") return this.unsupported(`${base} constructor ${this.text(n)}`);
    const items = (n.expr.expr?.items ?? []) as N[];
    if (n.dataType.params) {
      const t = this.typeOf(n.dataType);
      if (t.kind !== "STRUCT" || t.fields.length !== items.length)
        throw new BigQueryError(`STRUCT type has ${t.kind === "STRUCT" ? t.fields.length : 0} fields but ${items.length} values`);
      const values = items.map((x, i) => `${sqlString(t.fields[i]!.name)}: ${this.emit(x.type === "alias" ? x.expr : x)}`);
      return `CAST({${values.join(", ")}} AS ${duckdbTypeSql(t)})`;
    }
    const names = items.map((x) => fieldName(x) ?? this.unsupported(`a STRUCT field without a name (${this.text(x)})`));
    if (new Set(names.map((s) => s.toLowerCase())).size !== names.length) this.unsupported("a STRUCT with duplicate field names");
    if (items.length === 0) this.unsupported("an empty STRUCT");
    return `{${items.map((x, i) => `${sqlString(names[i]!)}: ${this.emit(x.type === "alias" ? x.expr : x)}`).join(", ")}}`;
  }

  private member(n: N): string {
    const p = n.property as N;
    const obj = n.object as N;
    if (p.type === "array_subscript") return this.subscript(obj, p.expr);
    if (p.type === "all_columns") return `${this.emit(obj)}.*`;
    if (p.type !== "identifier") return this.unsupported(`${p.type.replace(/_/g, " ")} after '.'`);
    // Table-qualified columns and struct fields of columns: DuckDB resolves "a"."b" either way.
    const chain = obj.type === "identifier" ? !this.scope.vars.has(String(obj.name).toLowerCase()) : obj.type === "member_expr" && isNameChain(obj);
    if (chain) return `${this.emit(obj)}.${quoteIdent(p.name)}`;
    if (obj.type === "bigquery_quoted_member_expr") this.unsupported("a column qualified by a quoted table path");
    return `struct_extract(${this.emit(obj)}, ${sqlString(String(p.name))})`;
  }

  private subscript(obj: N, spec: N): string {
    if (spec.type !== "array_subscript_specifier") return this.unsupported("an array subscript without OFFSET or ORDINAL (or a JSON subscript)");
    const which = kw(spec.specifierKw);
    const i = this.emit(spec.args.expr);
    const o = this.emit(obj);
    switch (which) {
      case "OFFSET":
        return `bq_offset(${o}, ${i})`;
      case "SAFE_OFFSET":
        return `bq_safe_offset(${o}, ${i})`;
      case "ORDINAL":
        return `bq_offset(${o}, (${i}) - 1)`;
      case "SAFE_ORDINAL":
        return `bq_safe_offset(${o}, (${i}) - 1)`;
      default:
        return this.unsupported(`array subscript ${which}`);
    }
  }

  private extract(n: N): string {
    const a = n.args.expr as N;
    if (a.type !== "extract_from" || a.unit?.type !== "interval_unit" || a.timeZone) this.unsupported(`EXTRACT ${this.text(n)}`);
    const unit = kw(a.unit.unitKw);
    const x = this.emit(a.expr);
    switch (unit) {
      case "YEAR":
      case "QUARTER":
      case "MONTH":
      case "DAY":
      case "DAYOFYEAR":
      case "HOUR":
      case "MINUTE":
      case "SECOND":
        return `extract(${unit.toLowerCase()} FROM ${x})`;
      case "DAYOFWEEK":
        return `(dayofweek(${x}) + 1)`;
      case "MILLISECOND":
        return `(extract(millisecond FROM ${x}) % 1000)`;
      case "MICROSECOND":
        return `(extract(microsecond FROM ${x}) % 1000000)`;
      case "DATE":
        return `CAST(${x} AS DATE)`;
      case "ISOWEEK":
        return `extract(week FROM ${x})`;
      case "ISOYEAR":
        return `isoyear(${x})`;
      default:
        return this.unsupported(`EXTRACT(${unit} FROM ...)`);
    }
  }

  // --- queries ---

  query(n: N): string {
    if (n.type === "paren_expr") return `(${this.query(n.expr)})`;
    if (n.type === "compound_select_stmt") {
      const op = kw(n.operator);
      const duck: Record<string, string> = {
        "UNION ALL": "UNION ALL",
        "UNION DISTINCT": "UNION",
        "INTERSECT DISTINCT": "INTERSECT",
        "EXCEPT DISTINCT": "EXCEPT",
      };
      if (!duck[op]) this.unsupported(`set operation ${op}`);
      return `${this.query(n.left)}\n${duck[op]}\n${this.query(n.right)}`;
    }
    if (n.type !== "select_stmt") return this.unsupported(`${n.type.replace(/_/g, " ")} as a query`);
    return this.rebuild(n, { clauses: (c) => (c.type === "paren_expr" ? this.query(c) : this.emit(c)) });
  }

  private selectClause(n: N): string {
    const mods = (n.modifiers as N[]).map((m) => {
      if (m.type === "select_distinct") return "DISTINCT ";
      if (m.type === "select_all") return "ALL ";
      return this.unsupported(`SELECT ${this.text(m)}`);
    });
    if (!n.columns) this.unsupported("SELECT without columns");
    let anonymous = 0;
    const anon = () => quoteIdent(`f${anonymous++}_`);
    const cols = (n.columns.items as N[]).map((item) => {
      switch (item.type) {
        case "all_columns":
          return "*";
        case "except_columns":
          return `${this.emit(item.expr)} EXCLUDE (${this.identList(item.columns.expr)})`;
        case "replace_columns":
          return `${this.emit(item.expr)} REPLACE (${(item.columns.expr.items as N[]).map((a) => `${this.emit(a.expr)} AS ${this.ident(a.alias)}`).join(", ")})`;
        case "alias":
          return `${this.emit(item.expr)} AS ${this.ident(item.alias)}`;
        case "identifier":
          return `${this.emit(item)} AS ${quoteIdent(item.name)}`;
        case "member_expr":
          if (item.property.type === "all_columns") return this.emit(item);
          return `${this.emit(item)} AS ${item.property.type === "identifier" ? quoteIdent(item.property.name) : anon()}`;
        default:
          // GoogleSQL names an unnamed column f0_, f1_, ... (DuckDB would name it by its text).
          return `${this.emit(item)} AS ${anon()}`;
      }
    });
    return `SELECT ${mods.join("")}${cols.join(", ")}`;
  }

  /** ORDER BY with GoogleSQL's NULL order made explicit: first when ascending, last when descending. */
  orderBy(n: N): string {
    const specs = (n.specifications.items as N[]).map((s) => {
      if (s.type !== "sort_specification") return `${this.emit(s)} ASC NULLS FIRST`;
      if (s.nullHandlingKw) return `${this.emit(s.expr)} ${kw(s.direction?.descKw ?? s.direction?.ascKw ?? "ASC")} ${kw(s.nullHandlingKw)}`;
      return s.direction?.type === "sort_direction_desc" ? `${this.emit(s.expr)} DESC NULLS LAST` : `${this.emit(s.expr)} ASC NULLS FIRST`;
    });
    if (n.withRollupKw) this.unsupported("ORDER BY ... WITH ROLLUP");
    return `ORDER BY ${specs.join(", ")}`;
  }

  // --- tables ---

  /** A path of names (`project.dataset.table`, quoted or not) as its parts. */
  pathParts(n: N): string[] {
    if (n.type === "identifier") return [String(n.name)];
    if (n.type === "bigquery_quoted_member_expr") return this.pathParts(n.expr);
    if (n.type === "member_expr" && n.property.type === "identifier") return [...this.pathParts(n.object), String(n.property.name)];
    return this.unsupported(`${n.type.replace(/_/g, " ")} as a table name`);
  }

  /** Parts after checking the project; `dataset` alone for a dataset name. */
  qualified(n: N, kind: "table" | "dataset"): string[] {
    const parts = this.pathParts(n);
    const full = kind === "table" ? 3 : 2;
    if (parts.length > full) this.unsupported(`${kind} name ${parts.join(".")}`);
    if (parts.some((p) => p.includes("*"))) this.unsupported("wildcard tables");
    if (parts.length === full) {
      if (parts[0] !== this.scope.project) this.unsupported(`a ${kind} in another project (${parts[0]}; the job runs in ${this.scope.project})`);
      return parts.slice(1);
    }
    return parts;
  }

  tableName(n: N): string {
    return this.qualified(n, "table").map(quoteIdent).join(".");
  }

  /** A FROM item. */
  table(n: N): string {
    checkFields(n);
    switch (n.type) {
      case "join_expr": {
        const op = n.operator === "," ? "," : kw(n.operator);
        if (op.includes("NATURAL")) this.unsupported("NATURAL JOIN");
        const spec = n.specification as N | undefined;
        let on = "";
        if (spec?.type === "join_on_specification") on = ` ON ${this.emit(spec.expr)}`;
        else if (spec?.type === "join_using_specification") on = ` USING (${this.identList(spec.expr.expr)})`;
        else if (spec) this.unsupported(spec.type.replace(/_/g, " "));
        return `${this.table(n.left)}${op === "," ? "," : ` ${op}`} ${this.table(n.right)}${on}`;
      }
      case "alias": {
        const alias = this.ident(n.alias);
        if (n.expr.type === "unnest_expr") return `(SELECT unnest(${this.emit(n.expr.expr)}) AS ${alias}) AS ${alias}`;
        return `${this.table(n.expr)} AS ${alias}`;
      }
      case "paren_expr":
        return n.expr.type === "join_expr" ? `(${this.table(n.expr)})` : this.query(n);
      case "unnest_expr":
        return `(SELECT unnest(${this.emit(n.expr)}) AS "unnest")`;
      case "identifier":
      case "member_expr":
      case "bigquery_quoted_member_expr":
        return this.tableName(n);
      default:
        return this.unsupported(`${n.type.replace(/_/g, " ")} in FROM`);
    }
  }
}

/** GoogleSQL's implicit STRUCT field name: the alias, or the last name of a path. */
function fieldName(x: N): string | undefined {
  if (x.type === "alias") return String(x.alias.name);
  if (x.type === "identifier") return String(x.name);
  if (x.type === "member_expr" && x.property.type === "identifier") return String(x.property.name);
  return undefined;
}

function isNameChain(n: N): boolean {
  if (n.type === "identifier") return true;
  return n.type === "member_expr" && n.property.type === "identifier" && isNameChain(n.object);
}
